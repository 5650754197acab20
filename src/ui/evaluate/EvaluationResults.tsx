import { memo } from 'react';
import type { BackendEvaluation, CrossBackendCheck, EvaluationReport } from '../../core/eval/evaluate';
import type { LatencyStats } from '../../core/eval/latency';
import type { OutputFidelity } from '../../core/eval/metrics';
import { TASK_LABELS } from '../../core/eval/metrics';
import { saveFile } from '../../state/saveFile';
import { useStudio } from '../../state/store';
import { deltaText, deltaTone } from '../compress/shared/delta';
import { formatBytes, formatInteger, formatMs } from '../format';
import {
  crossVerdict,
  fidelityReading,
  formatAccuracy,
  formatCosine,
  formatLatency,
  formatShare,
  formatSmall,
  headlineHelp,
  pointsDelta,
  pointsTone,
  ratioText,
  ratioTone,
  sqnrText,
} from './readings';
import { Badge } from '../kit/controls';

type Report = EvaluationReport & { wasmHeapBytes: number };

/** The evaluation's results: sizes, one card per backend, the cross-backend check. */
export const EvaluationResults = memo(function EvaluationResults({ report, stale }: { report: Report; stale: boolean }) {
  const fileName = useStudio((s) => s.fileName);
  const recipe = useStudio((s) => s.evaluation.recipe);
  const download = () => {
    const stem = (fileName ?? 'model.onnx').replace(/\.onnx$/i, '');
    saveFile(new Blob([JSON.stringify({ model: fileName, recipe, ...report }, null, 2) + '\n'], { type: 'application/json' }), `${stem}.evaluation.json`);
  };
  return (
    <div className={`lab-results${stale ? ' is-stale' : ''}`} data-testid="eval-results" aria-busy={stale}>
      <div className="lab-results__head">
        <p className="card__help">
          On <strong>{report.dataset.name}</strong>: {formatInteger(report.dataset.samples)} sample{report.dataset.samples === 1 ? '' : 's'}
          {report.dataset.labelled > 0 ? `, ${formatInteger(report.dataset.labelled)} labelled` : ', no labels'} · took {formatMs(report.ms)} · wasm heap{' '}
          <span data-testid="wasm-heap">{formatBytes(report.wasmHeapBytes)}</span>
        </p>
        <button type="button" className="button button--small" onClick={download} title="Every number of this evaluation, with the recipe, as a JSON file.">
          Download report (JSON)
        </button>
      </div>
      {report.dataset.synthetic && (
        <p className="lab-warning" data-testid="eval-synthetic-warning">
          <Badge severity="warn">synthetic data</Badge> Fidelity on random inputs can mislead — use real data for decisions.
        </p>
      )}
      <div
        className="lab-size"
        data-testid="eval-sizes"
        title={`${formatInteger(report.sizes.original)} bytes → ${formatInteger(report.sizes.candidate)} bytes`}
      >
        <span className="lab-size__label">Model size</span> {formatBytes(report.sizes.original)} <span aria-label="to">→</span>{' '}
        <strong>{formatBytes(report.sizes.candidate)}</strong>{' '}
        <span className={`delta delta--${deltaTone(report.sizes.original, report.sizes.candidate)}`}>
          {deltaText(report.sizes.original, report.sizes.candidate)}
        </span>
      </div>
      <div className="lab-cards">
        {report.backends.map((b) => (
          <BackendCard key={b.backend} result={b} />
        ))}
      </div>
      {report.crossBackend.length > 0 && <CrossBackend checks={report.crossBackend} />}
    </div>
  );
});

function BackendCard({ result }: { result: BackendEvaluation }) {
  const titleId = `backend-${result.backend}-title`;
  if (!result.available) {
    return (
      <section className="lab-card" aria-labelledby={titleId} data-testid={`backend-${result.backend}`}>
        <h4 className="lab-card__title" id={titleId}>
          {result.backend} <Badge severity="bad">could not run</Badge>
        </h4>
        <p className="lab-error">{result.error}</p>
      </section>
    );
  }
  const acc = result.accuracy;
  return (
    <section className="lab-card" aria-labelledby={titleId} data-testid={`backend-${result.backend}`}>
      <h4 className="lab-card__title" id={titleId}>
        {result.backend}
      </h4>
      {acc && (
        <div
          className="lab-accuracy"
          data-testid="accuracy"
          title={`Share of the ${acc.labelled} labelled samples whose predicted class (argmax of “${acc.output}”) matches the label.`}
        >
          <span className="lab-accuracy__label">Accuracy</span>
          <span className="lab-accuracy__numbers">
            <span data-testid="accuracy-original">{formatAccuracy(acc.original)}</span> <span aria-label="to">→</span>{' '}
            <strong data-testid="accuracy-candidate">{formatAccuracy(acc.candidate)}</strong>{' '}
            <Badge
              severity={pointsTone(acc.original, acc.candidate)}
              testId="accuracy-delta"
              title="Change in percentage points (pp): 97.8% → 96.8% is −1.0 pp."
            >
              {pointsDelta(acc.original, acc.candidate)}
            </Badge>
          </span>
          <span className="muted lab-accuracy__sub">original → compressed, on {formatInteger(acc.labelled)} labelled samples</span>
        </div>
      )}
      {result.fidelity?.map((f) => (
        <FidelityBlock key={f.name} f={f} />
      ))}
      {result.latency && <LatencyTable latency={result.latency} loadMs={result.loadMs} />}
      {result.cpuNodes && (result.cpuNodes.original.length > 0 || result.cpuNodes.candidate.length > 0) && (
        <details className="lab-details" data-testid="cpu-nodes">
          <summary>
            <Badge severity="warn">CPU fallback</Badge> {result.cpuNodes.candidate.length} node{result.cpuNodes.candidate.length === 1 ? '' : 's'} of the
            compressed model ({result.cpuNodes.original.length} of the original) ran on the CPU instead of {result.backend}
          </summary>
          <p className="mono small">Compressed: {result.cpuNodes.candidate.join(', ') || 'none'}</p>
          <p className="mono small">Original: {result.cpuNodes.original.join(', ') || 'none'}</p>
        </details>
      )}
      {result.notes && result.notes.length > 0 && (
        <ul className="lab-notes" data-testid="backend-notes">
          {result.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function FidelityBlock({ f }: { f: OutputFidelity }) {
  const reading = fidelityReading(f);
  const rows: { term: string; value: string; help: string; testId?: string }[] = [];
  rows.push({
    term: 'Cosine similarity',
    value: formatCosine(f.cosine),
    help: 'How closely all output values point the same way (1 = identical up to scale).',
    testId: 'fid-cosine',
  });
  rows.push({
    term: 'SQNR',
    value: sqnrText(f.sqnrDb),
    help: 'Signal-to-noise ratio of the difference, in decibels: every +10 dB is 10× less error energy. Above ~30 dB is usually invisible.',
    testId: 'fid-sqnr',
  });
  rows.push({ term: 'Max |error|', value: formatSmall(f.maxAbs), help: 'The largest absolute difference between any output value of the two models.' });
  rows.push({ term: 'Mean |error|', value: formatSmall(f.meanAbs), help: 'The average absolute difference per output value.' });
  if (f.klDivergence !== undefined)
    rows.push({
      term: 'KL divergence',
      value: formatSmall(f.klDivergence, 'nats'),
      help: 'How much the predicted probabilities differ (0 = same distribution); averaged over samples.',
    });
  if (f.top1Agreement !== undefined && f.headline.metric !== 'top-1 agreement' && f.positionAgreement === undefined)
    rows.push({ term: 'Top-1 agreement', value: formatShare(f.top1Agreement), help: 'Share of rows whose largest value sits at the same index.' });
  if (f.positionAgreement !== undefined && f.headline.metric !== 'per-position agreement')
    rows.push({ term: 'Per-position agreement', value: formatShare(f.positionAgreement), help: 'Share of positions where both models pick the same symbol.' });
  if (f.maskIoU !== undefined && !f.headline.metric.startsWith('mask IoU'))
    rows.push({ term: 'Mask IoU', value: formatShare(f.maskIoU), help: 'Overlap of the two masks.' });
  if (f.flippedPixels !== undefined)
    rows.push({
      term: 'Flipped pixels',
      value: formatShare(f.flippedPixels),
      help: `Share of pixels on one side of the ${f.maskThreshold} threshold in one model and the other side in the other.`,
    });
  if (f.nonFinite > 0)
    rows.push({ term: 'Non-finite values', value: formatInteger(f.nonFinite), help: 'NaN or ±∞ in either output (left out of every number above).' });
  return (
    <div className="lab-fidelity" data-testid="fidelity" data-output={f.name}>
      <p className="lab-fidelity__output">
        Output <span className="mono">{f.name}</span>{' '}
        <span className="muted">
          — {TASK_LABELS[f.task]}
          {f.taskSource === 'user' ? ', set by you' : ''}
        </span>
      </p>
      <div className="lab-headline" title={headlineHelp(f.headline.metric)}>
        <span className="lab-headline__metric">{capitalise(f.headline.metric)}</span>
        <strong className="lab-headline__value" data-testid="fidelity-headline">
          {f.headline.metric === 'cosine' ? formatCosine(f.headline.value) : formatShare(f.headline.value)}
        </strong>
        <Badge severity={reading.severity}>{reading.label}</Badge>
      </div>
      <p className="cfield__help">{headlineHelp(f.headline.metric)}</p>
      <dl className="lab-metrics">
        {rows.map((r) => (
          <div key={r.term} className="lab-metric" title={r.help}>
            <dt>{r.term}</dt>
            <dd data-testid={r.testId}>{r.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function LatencyTable({ latency, loadMs }: { latency: { original: LatencyStats; candidate: LatencyStats }; loadMs?: { original: number; candidate: number } }) {
  const { original: o, candidate: c } = latency;
  const rows: { label: string; help: string; o: number; c: number; testId?: string; pct?: boolean }[] = [];
  if (loadMs)
    rows.push({ label: 'Load', help: 'Creating the session: parsing, optimising and uploading the weights.', o: loadMs.original, c: loadMs.candidate });
  rows.push({ label: 'First run', help: 'The first inference: includes one-off work (kernel compilation, GPU uploads).', o: o.firstRunMs, c: c.firstRunMs });
  rows.push({
    label: 'Median',
    help: 'The typical inference time over the timed runs (half are faster, half slower).',
    o: o.medianMs,
    c: c.medianMs,
    testId: 'latency-median',
  });
  rows.push({ label: 'p90', help: '90% of the timed runs were at least this fast.', o: o.p90Ms, c: c.p90Ms });
  return (
    <div className="lab-latency" data-testid="latency">
      <table className="simple-table lab-table">
        <caption className="lab-table__caption">
          Latency per inference ({formatInteger(c.runs)} timed runs each, interleaved
          {c.inferencesPerSample > 1 ? `; ${c.inferencesPerSample} inferences per timed sample, as one takes under a millisecond` : ''})
        </caption>
        <thead>
          <tr>
            <th scope="col">Latency</th>
            <th scope="col" className="num">
              Original
            </th>
            <th scope="col" className="num">
              Compressed
            </th>
            <th scope="col" className="num" title="Compressed ÷ original: below ×1 the compressed model is faster.">
              Ratio
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} title={r.help} data-testid={r.testId}>
              <th scope="row">{r.label}</th>
              <td className="num">{formatLatency(r.o)}</td>
              <td className="num">{formatLatency(r.c)}</td>
              <td className={`num tone--${ratioTone(r.c, r.o)}`}>{ratioText(r.c, r.o)}</td>
            </tr>
          ))}
          <tr title="Run-to-run spread: (p90 − p10) ÷ median. Above ~20% the machine was busy; compare ratios with care.">
            <th scope="row">Spread</th>
            <td className="num">{o.spreadPct.toFixed(0)}%</td>
            <td className="num">{c.spreadPct.toFixed(0)}%</td>
            <td className="num" />
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function CrossBackend({ checks }: { checks: CrossBackendCheck[] }) {
  return (
    <section className="lab-cross" aria-labelledby="cross-title" data-testid="cross-backend">
      <h4 className="lab-card__title" id="cross-title">
        Cross-backend check
      </h4>
      <p className="card__help">
        The same model should compute the same outputs on every backend. A backend that disagrees with wasm has a bug or a precision problem for this model.
      </p>
      <ul className="lab-cross__list">
        {checks.map((c) => {
          const v = crossVerdict(c);
          return (
            <li key={`${c.model}-${c.backend}`} data-testid="cross-check" data-agrees={c.agrees ? 'true' : 'false'}>
              <span aria-hidden="true" className={`lab-cross__mark tone--${v.severity}`}>
                {c.agrees ? '✓' : '⚠'}
              </span>{' '}
              <strong>
                {c.model === 'original' ? 'Original' : 'Compressed'} on {c.backend}
              </strong>{' '}
              <Badge severity={v.severity} testId="cross-verdict">
                {c.agrees ? `agrees with ${c.reference}` : `disagrees with ${c.reference}`}
              </Badge>
              <span className="muted">
                {' '}
                {c.outputs
                  .map(
                    (o) =>
                      `${o.name}: cosine ${formatCosine(o.cosine)}, relative error ${formatShare(o.relError)}${o.top1Agreement !== undefined ? `, top-1 ${formatShare(o.top1Agreement)}` : ''}`,
                  )
                  .join('; ')}
              </span>
              {!c.agrees && <p className="lab-error">{v.text}</p>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
