import { memo, useDeferredValue, useId, useMemo, useRef, useState } from 'react';
import type { Granularity } from '../../core/compress/quantize/math';
import type { PrunePattern } from '../../core/recipe';
import { PRESETS, type SweepPoint } from '../../core/eval/sweep';
import type { EvalBackend } from '../../core/eval/types';
import { useStudio } from '../../state/store';
import { deltaText, deltaTone } from '../compress/shared/delta';
import { Segmented } from '../kit/Segmented';
import { formatBytes } from '../format';
import { CompareCards } from './CompareCards';
import { SweepChart } from './SweepChart';
import { qualityOf, estimateSweepSeconds, formatLatency, formatCosine, formatEta, formatShare, ratioText, sortPoints, type SweepSortKey } from './readings';
import { LabProgress, NumberInput } from '../kit/controls';

const BITS: { value: number; label: string; help: string }[] = [
  { value: 8, label: '8', help: '256 levels: usually indistinguishable from float.' },
  { value: 6, label: '6', help: '64 levels, stored in 8-bit containers.' },
  { value: 4, label: '4', help: '16 levels: 8× smaller weights; needs care (per channel or blocks).' },
  { value: 3, label: '3', help: '8 levels, stored in 4-bit containers: aggressive.' },
  { value: 2, label: '2', help: '4 levels: very aggressive; most models break.' },
  { value: 32, label: 'float', help: 'No quantization (float32 weights): pruning only.' },
];
const SPARSITIES = [0, 0.25, 0.5, 0.75];
const GRANULARITIES: { value: Granularity; label: string; help: string }[] = [
  { value: 'tensor', label: 'per tensor', help: 'One scale per weight tensor.' },
  { value: 'channel', label: 'per channel', help: 'One scale per output channel.' },
  { value: 'block', label: 'blocks', help: 'One scale per block of 32 weights.' },
];
const PATTERNS: { value: PrunePattern; label: string }[] = [
  { value: 'unstructured', label: 'Unstructured' },
  { value: '2:4', label: '2:4 (fixed 50%)' },
  { value: '4:8', label: '4:8 (fixed 50%)' },
  { value: 'channel', label: 'Whole channels' },
];

const NO_POINTS: SweepPoint[] = [];

function toggled<T>(list: T[], value: T, on: boolean): T[] {
  return on ? [...list.filter((x) => x !== value), value] : list.filter((x) => x !== value);
}

/** The trade-off explorer: a grid of recipes measured for size, latency and quality; the frontier; compare and apply. */
export const SweepExplorer = memo(function SweepExplorer() {
  return (
    <section className="lab-section" aria-labelledby="sweep-title" data-testid="sweep">
      <header className="lab-section__header">
        <h3 className="lab-section__title" id="sweep-title">
          Trade-off explorer
        </h3>
        <p className="card__help">
          Measures many recipes and plots quality against speed, with the model size as the bubble size. Points on the frontier are the ones worth choosing: no
          other point is both faster and better. Click a point to load its recipe into the Compress panel.
        </p>
      </header>
      <SweepControls />
      <SweepRun />
      <SweepResults />
    </section>
  );
});

/** Run sweep, the point count and ETA, progress with Cancel, and the outcome line. Re-renders on progress; nothing else does. */
function SweepRun() {
  const status = useStudio((s) => s.sweep.status);
  const p = useStudio((s) => s.sweep.progress);
  const error = useStudio((s) => s.sweep.error);
  const measured = useStudio((s) => s.sweep.points.length);
  const runSweep = useStudio((s) => s.runSweep);
  const cancel = useStudio((s) => s.cancelLabJob);
  const busy = useStudio((s) => s.evaluation.status === 'running' || s.sensitivity.status === 'running' || s.sweep.status === 'running');
  const count = useSweepCount();
  const settings = useStudio((s) => s.sweepSettings);
  const measuredMs = useStudio((s) => s.evaluation.report?.backends.find((b) => b.backend === settings.backend)?.latency?.original.medianMs);
  const eta = estimateSweepSeconds({ points: count, samples: settings.samples, runs: settings.runs, backend: settings.backend, msPerInference: measuredMs });
  return (
    <>
      <div className="lab-actions">
        <button type="button" className="button button--primary" onClick={() => void runSweep()} disabled={busy || count <= 1} data-testid="sweep-button">
          Run sweep
        </button>
        <span className="muted" data-testid="sweep-count">
          {count} point{count === 1 ? '' : 's'} ({count - 1} recipe{count === 2 ? '' : 's'} + the original) · {formatEta(eta)}
        </span>
      </div>
      {status === 'running' && (
        <LabProgress
          testId="sweep-progress"
          label={p?.current ? `Measuring ${p.current}` : 'Preparing…'}
          done={p?.done ?? 0}
          total={p?.total ?? 0}
          onCancel={cancel}
          detail={
            p?.etaSeconds !== undefined
              ? `${formatEta(p.etaSeconds)} left · points measured so far stay if you cancel`
              : 'Points measured so far stay if you cancel.'
          }
        />
      )}
      {status === 'cancelled' && <p className="lab-status">Cancelled: the {measured} points measured so far are kept.</p>}
      {status === 'error' && (
        <div className="banner banner--error" role="alert" data-testid="sweep-error">
          <div className="banner__body">
            <p className="banner__title">The sweep failed</p>
            <p className="banner__message">{error}</p>
          </div>
        </div>
      )}
    </>
  );
}

/**
 * Chart, table, comparison and export: re-render only when the points change, and then at a deferred priority, so
 * React renders them in slices between the sweep's messages instead of in one long task.
 */
const SweepResults = memo(function SweepResults() {
  const live = useStudio((s) => s.sweep.points);
  const running = useStudio((s) => s.sweep.status === 'running');
  // A new sweep keeps the previous chart (faded) until its first point lands: no unmount and remount mid-run.
  const previous = useRef<SweepPoint[]>(NO_POINTS);
  if (live.length > 0) previous.current = live;
  const stale = running && live.length === 0 && previous.current.length > 0;
  const points = useDeferredValue(stale ? previous.current : live, NO_POINTS);
  const exportSweep = useStudio((s) => s.exportSweep);
  if (points.length === 0) return null;
  return (
    <div className={`lab-results${stale ? ' is-stale' : ''}`} aria-busy={stale}>
      <SweepChart points={points} />
      <AppliedLine />
      <SweepTable points={points} />
      <CompareCards />
      <div className="lab-actions">
        <button
          type="button"
          className="button button--small"
          onClick={() => exportSweep('csv')}
          title="One row per point: size, latency, accuracy, fidelity, recipe."
        >
          Export CSV
        </button>
        <button
          type="button"
          className="button button--small"
          onClick={() => exportSweep('json')}
          title="Every point with its recipe and the dataset, as JSON."
        >
          Export JSON
        </button>
      </div>
    </div>
  );
});

/** Points the grid would measure (+1 for the original), recomputed when the grid or the recipe draft changes. */
function useSweepCount(): number {
  const settings = useStudio((s) => s.sweepSettings);
  const quantize = useStudio((s) => s.quantize);
  const prune = useStudio((s) => s.prune);
  return useMemo(() => useStudio.getState().sweepCandidates().length + 1, [settings, quantize, prune]); // eslint-disable-line react-hooks/exhaustive-deps
}

const SweepControls = memo(function SweepControls() {
  const st = useStudio((s) => s.sweepSettings);
  const set = useStudio((s) => s.setSweepSettings);
  const gpuOk = useStudio((s) => !!s.evalEnv?.webgpu.available);
  const gpuReason = useStudio((s) => s.evalEnv?.webgpu.reason);
  const patternId = useId();
  return (
    <div className="lab-controls" data-testid="sweep-controls">
      <fieldset className="lab-fieldset lab-fieldset--inline">
        <legend>Bit widths</legend>
        {BITS.map((b) => (
          <label key={b.value} className="checkbox" title={b.help}>
            <input
              type="checkbox"
              checked={st.bits.includes(b.value)}
              onChange={(e) => set({ bits: toggled(st.bits, b.value, e.currentTarget.checked).sort((x, y) => y - x) })}
              aria-label={b.value === 32 ? 'float (no quantization)' : `${b.value} bits`}
            />
            {b.label}
          </label>
        ))}
      </fieldset>
      <fieldset className="lab-fieldset lab-fieldset--inline">
        <legend>Sparsities</legend>
        {SPARSITIES.map((v) => (
          <label key={v} className="checkbox" title={v === 0 ? 'No pruning.' : `${Math.round(v * 100)}% of the weights pruned before quantizing.`}>
            <input
              type="checkbox"
              checked={st.sparsities.includes(v)}
              onChange={(e) => set({ sparsities: toggled(st.sparsities, v, e.currentTarget.checked).sort((x, y) => x - y) })}
              aria-label={`${Math.round(v * 100)}% sparsity`}
            />
            {Math.round(v * 100)}%
          </label>
        ))}
      </fieldset>
      <fieldset className="lab-fieldset lab-fieldset--inline">
        <legend>Granularities</legend>
        {GRANULARITIES.map((g) => (
          <label key={g.value} className="checkbox" title={g.help}>
            <input
              type="checkbox"
              checked={st.granularities.includes(g.value)}
              onChange={(e) => set({ granularities: toggled(st.granularities, g.value, e.currentTarget.checked) })}
            />
            {g.label}
          </label>
        ))}
        <span className="lab-number">
          <label htmlFor={patternId}>Pruning pattern</label>
          <select
            id={patternId}
            className="select"
            value={st.pattern}
            title="How the sparsities above prune: single weights, N:M groups, or whole output channels."
            onChange={(e) => set({ pattern: e.currentTarget.value as PrunePattern })}
          >
            {PATTERNS.map((pt) => (
              <option key={pt.value} value={pt.value}>
                {pt.label}
              </option>
            ))}
          </select>
        </span>
      </fieldset>
      <fieldset className="lab-fieldset lab-fieldset--inline">
        <legend>Presets</legend>
        {PRESETS.map((pr) => (
          <label
            key={pr.label}
            className="checkbox"
            title="A well-known recipe measured alongside the grid, with the Compress panel's GPTQ, SparseGPT and refit where it uses them (named in the point's label)."
          >
            <input
              type="checkbox"
              checked={st.presets.includes(pr.label)}
              onChange={(e) => set({ presets: toggled(st.presets, pr.label, e.currentTarget.checked) })}
            />
            {pr.label}
          </label>
        ))}
      </fieldset>
      <div className="lab-row">
        <NumberInput
          label="Samples per point"
          value={st.samples}
          min={1}
          max={100_000}
          onCommit={(samples) => set({ samples })}
          help="Inputs each point runs on (fewer than a full evaluation keeps the sweep quick)."
          testId="sweep-samples"
        />
        <NumberInput
          label="Timed runs"
          value={st.runs}
          min={1}
          max={1000}
          onCommit={(runs) => set({ runs })}
          help="Timed inferences per point (and of the original alongside it); the median is the latency."
          testId="sweep-runs"
        />
        <Segmented<EvalBackend>
          label="Sweep backend"
          small
          options={[
            { value: 'wasm', label: 'wasm', help: 'WebAssembly on the CPU.' },
            { value: 'webgpu', label: 'webgpu', help: gpuOk ? 'WebGPU on the graphics card.' : `Unavailable: ${gpuReason ?? '…'}`, disabled: !gpuOk },
          ]}
          value={st.backend}
          onChange={(backend) => set({ backend })}
          testId="sweep-backend"
        />
      </div>
    </div>
  );
});

function AppliedLine() {
  const applied = useStudio((s) => s.sweep.applied);
  const point = useStudio((s) => s.sweep.points.find((p) => p.id === s.sweep.applied));
  if (applied === null || !point) return null;
  return (
    <p className="lab-applied" role="status" data-testid="sweep-applied">
      ✓ Applied to the Compress panel: <strong>{point.label}</strong>
    </p>
  );
}

const COLUMNS: { key: SweepSortKey; label: string; num?: boolean; help?: string }[] = [
  { key: 'label', label: 'Recipe' },
  { key: 'size', label: 'Size', num: true, help: 'File size and its change from the original.' },
  { key: 'latency', label: 'Latency', num: true, help: 'Median / p90 per inference, and × the original timed alongside.' },
  { key: 'quality', label: 'Quality', num: true, help: 'Accuracy on labelled data, else the headline fidelity metric.' },
  { key: 'cosine', label: 'Cosine', num: true, help: 'Cosine similarity of the first output to the original’s.' },
  { key: 'frontier', label: 'Frontier', help: 'On the frontier: no other point is both faster and better.' },
];

const SweepTable = memo(function SweepTable({ points }: { points: SweepPoint[] }) {
  const selected = useStudio((s) => s.sweep.selected);
  const toggle = useStudio((s) => s.toggleSweepPoint);
  const applyRecipe = useStudio((s) => s.applyRecipe);
  const applied = useStudio((s) => s.sweep.applied);
  const [sort, setSort] = useState<{ key: SweepSortKey; dir: 'asc' | 'desc' }>({ key: 'id', dir: 'asc' });
  const rows = sortPoints(points, sort.key, sort.dir, qualityOf);
  const original = points.find((p) => p.isOriginal);
  const labelled = points.some((p) => p.accuracy !== undefined);
  const clickSort = (key: SweepSortKey) =>
    setSort((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: key === 'quality' || key === 'frontier' ? 'desc' : 'asc' }));
  return (
    <div className="lab-table-wrap">
      <table className="simple-table lab-table lab-sweep-table" data-testid="sweep-table">
        <caption className="lab-table__caption">
          Every point measured. Tick two to compare them below.{' '}
          {labelled ? 'Quality = accuracy on the labelled samples.' : 'Quality = the headline fidelity metric (no labels).'}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="lab-col--check">
              <span className="visually-hidden">Compare</span>
            </th>
            {COLUMNS.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={c.num ? 'num' : undefined}
                aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                title={c.help}
              >
                <button type="button" className="lab-sort" onClick={() => clickSort(c.key)}>
                  {c.label}
                  {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
            <th scope="col" className="lab-col--apply">
              <span className="visually-hidden">Apply</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => {
            const q = qualityOf(p);
            const isSelected = selected.includes(p.id);
            return (
              <tr key={p.id} data-testid="sweep-row" data-id={p.id} className={`${isSelected ? 'is-selected' : ''}${applied === p.id ? ' is-applied' : ''}`}>
                <td>
                  <input
                    type="checkbox"
                    checked={isSelected}
                    onChange={() => toggle(p.id)}
                    aria-label={`Compare ${p.label}`}
                    title="Compare (at most two; a third replaces the oldest)"
                  />
                </td>
                <td title={p.label}>
                  {p.label}
                  {p.error && (
                    <span className="lab-error small" title={p.error}>
                      {' '}
                      — {p.error}
                    </span>
                  )}
                </td>
                <td className="num">
                  {p.error ? '—' : formatBytes(p.sizeBytes)}{' '}
                  {!p.error && original && !p.isOriginal && (
                    <span className={`delta delta--${deltaTone(original.sizeBytes, p.sizeBytes)}`}>{deltaText(original.sizeBytes, p.sizeBytes)}</span>
                  )}
                </td>
                <td className="num">
                  {p.latency ? `${formatLatency(p.latency.medianMs)} / ${formatLatency(p.latency.p90Ms)}` : '—'}
                  {!p.isOriginal && p.latency && p.originalLatency && (
                    <span className="muted"> {ratioText(p.latency.medianMs, p.originalLatency.medianMs)}</span>
                  )}
                </td>
                <td className="num" title={p.headline ? `${p.headline.metric} ${formatShare(p.headline.value)}` : undefined}>
                  {q === undefined ? '—' : `${(q * 100).toFixed(1)}%`}
                </td>
                <td className="num">{formatCosine(p.cosine)}</td>
                <td>
                  {p.frontier ? (
                    <span title="On the frontier" aria-label="on the frontier">
                      ★
                    </span>
                  ) : (
                    ''
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="button button--small"
                    disabled={!!p.error}
                    onClick={() => applyRecipe(p.recipe, p.id)}
                    aria-label={`Apply ${p.label}`}
                  >
                    {applied === p.id ? 'Applied' : 'Apply'}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
});
