/**
 * "Layer-by-layer check against the original": the teacher–student report (src/core/teacher/report.ts) for the
 * current recipe, run on demand. Each stage of the recipe (round to nearest or pruned, then refit, GPTQ, bias
 * correction) is compressed in the model worker, then the evaluation worker runs the original and every stage on
 * the calibration samples with the layer outputs exposed. Progress and Cancel like calibration; the table lists
 * the layer that hurts most first, with a bar per layer. Self-contained: it reads the store and talks to the
 * workers itself, so it can move to another part of the layout.
 */
import { useRef, useState } from 'react';
import { DEFAULT_CALIBRATION_SAMPLES } from '../../../core/recipe';
import { changedLayers, finalSqnr, formatDb, reportStages, type TeacherStudentReport } from '../../../core/teacher/report';
import { modelWorker } from '../../../state/bridge';
import { draftOf } from '../../../state/compressSlice';
import { evalWorker, type CalibrationOutcome } from '../../../state/evalBridge';
import { hasSteps, recipeKey, recipeOf } from '../../../state/recipeEdits';
import { useStudio } from '../../../state/store';
import './teacher-report.css';

type Status =
  | { kind: 'idle' }
  | { kind: 'running'; phase: string; done: number; total: number }
  | { kind: 'done'; report: TeacherStudentReport; recipe: string; dataset: string }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string };

/** Bars span 0–60 dB (∞ fills the bar). */
const BAR_MAX_DB = 60;

const HELP =
  'How closely each layer of the compressed model reproduces the original’s layer output on calibration data (the Evaluation lab’s data): higher dB is closer (20 dB: the error is a tenth of the signal; ∞: identical). One column per step, so you see what each recovery step bought, layer by layer; the layer that hurts most comes first.';

export function TeacherReport() {
  const anyStep = useStudio((s) => s.pruneOn || s.quantizeOn);
  const currentKey = useStudio((s) => recipeKey(recipeOf(draftOf(s))));
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const cancelled = useRef(false);
  if (!anyStep) return null;

  async function run(): Promise<void> {
    const state = useStudio.getState();
    const recipe = recipeOf(draftOf(state));
    if (!hasSteps(recipe)) return;
    cancelled.current = false;
    const key = recipeKey(recipe);
    try {
      const count = recipe.quantize?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES;
      const isStatic = recipe.quantize?.format === 'static';
      const hessians =
        recipe.quantize?.gptq?.enabled === true ||
        (recipe.prune?.refit === true && recipe.prune.pattern === 'channel') ||
        (recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel');
      setStatus({ kind: 'running', phase: 'Running the original on calibration data', done: 0, total: 0 });
      const names = isStatic && recipe.quantize ? await modelWorker.staticNames(recipe.quantize) : [];
      // Also loads the original and the data into the evaluation worker when they are not there yet.
      const calibration: CalibrationOutcome | null = await state.calibrate(
        names,
        count,
        (done, total) => setStatus({ kind: 'running', phase: 'Running the original on calibration data', done, total }),
        hessians,
      );
      if (calibration === null || cancelled.current) return setStatus({ kind: 'cancelled' });
      const plan = reportStages(recipe);
      const stages: { id: string; label: string; bytes: Uint8Array }[] = [];
      for (const [i, step] of plan.entries()) {
        setStatus({ kind: 'running', phase: `Compressing step ${i + 1} of ${plan.length} (${step.label})`, done: i, total: plan.length });
        const bytes = await modelWorker.compressForEval(step.recipe, state.backendPreference, {
          stats: calibration.stats,
          samples: calibration.samples,
          ...(calibration.gptq ? { gptq: calibration.gptq } : {}),
        });
        if (cancelled.current) return setStatus({ kind: 'cancelled' });
        stages.push({ id: step.id, label: step.label, bytes });
      }
      const result = useStudio.getState().compression.result;
      const layers = result && recipeKey(result.recipe) === key ? changedLayers(result.prune, result.quantize) : [];
      const report = await evalWorker.teacherReport(stages, count, layers, (done, total) =>
        setStatus({ kind: 'running', phase: 'Comparing the layers with the original', done, total }),
      );
      if (report === null || cancelled.current) return setStatus({ kind: 'cancelled' });
      setStatus({ kind: 'done', report, recipe: key, dataset: calibration.synthetic ? `${calibration.dataset} (synthetic)` : calibration.dataset });
    } catch (err) {
      setStatus({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  function cancel(): void {
    cancelled.current = true;
    useStudio.getState().cancelLabJob();
  }

  const running = status.kind === 'running';
  return (
    <section className="treport" aria-labelledby="treport-title" data-testid="teacher-report">
      <div className="treport__head">
        <div>
          <h3 className="treport__title" id="treport-title">
            Layer-by-layer check against the original
          </h3>
          <p className="cfield__help">{HELP}</p>
        </div>
        <button type="button" className="button button--small" onClick={() => void run()} disabled={running} data-testid="teacher-report-run">
          {status.kind === 'done' ? 'Check again' : 'Check layers'}
        </button>
      </div>
      {running && (
        <div className="job-status job-status--line" data-testid="teacher-report-progress">
          <span className="spinner" aria-hidden="true" />
          <span role="status">{status.phase}…</span>
          {status.total > 0 && <progress className="job-status__bar" max={status.total} value={status.done} aria-label="Layer check progress" />}
          <button type="button" className="button button--small" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {status.kind === 'cancelled' && <p className="cfield__help">Cancelled.</p>}
      {status.kind === 'error' && (
        <p className="banner banner--error" role="alert" data-testid="teacher-report-error">
          {status.message}
        </p>
      )}
      {status.kind === 'done' && <ReportTable report={status.report} stale={status.recipe !== currentKey} dataset={status.dataset} />}
    </section>
  );
}

function ReportTable({ report, stale, dataset }: { report: TeacherStudentReport; stale: boolean; dataset: string }) {
  const compared = report.layers.filter((l) => !l.reason);
  return (
    <div className={`treport__result${stale ? ' is-stale' : ''}`}>
      <p className="cfield__help" data-testid="teacher-report-summary">
        {compared.length} layer{compared.length === 1 ? '' : 's'} compared on {report.samples} calibration sample{report.samples === 1 ? '' : 's'} of {dataset}
        {report.layers.length > compared.length ? `; ${report.layers.length - compared.length} could not be compared (see notes)` : ''}.
        {stale ? ' The recipe changed since: check again for the current one.' : ''}
      </p>
      <div className="treport__scroll">
        <table className="treport__table" data-testid="teacher-report-table">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Op</th>
              {report.stages.map((s) => (
                <th scope="col" key={s.id} className="num">
                  {s.label}
                </th>
              ))}
              <th scope="col" className="num">
                Cosine
              </th>
              <th scope="col">Closeness</th>
            </tr>
          </thead>
          <tbody>
            {report.layers.map((l) => {
              const db = finalSqnr(l);
              const last = [...l.stages].reverse().find((s) => s.cosine !== null);
              const width = db === null ? 0 : db === Infinity ? 100 : Math.max(0, Math.min(100, (db / BAR_MAX_DB) * 100));
              return (
                <tr key={l.layer} data-testid="teacher-report-row" title={l.reason ?? l.at ?? l.output}>
                  <th scope="row" className="treport__layer">
                    {l.layer}
                  </th>
                  <td>{l.op}</td>
                  {l.stages.map((s, i) => (
                    <td key={i} className="num">
                      {formatDb(s.sqnrDb)}
                    </td>
                  ))}
                  <td className="num">{last?.cosine != null ? last.cosine.toFixed(4) : '–'}</td>
                  <td>
                    {l.reason ? (
                      <span className="treport__note">{l.reason}</span>
                    ) : (
                      <span className="treport__bar" aria-hidden="true">
                        <span style={{ width: `${width}%` }} />
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
