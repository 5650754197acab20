import { memo, useEffect, useMemo, useState } from 'react';
import type { QuantReport } from '../../../core/compress/quantize/report';
import type { TensorInfo } from '../../../core/onnx/types';
import type { QuantizeRecipe } from '../../../core/recipe';
import type { PreviewResult } from '../../../protocol/model';
import { useStudio } from '../../../state/store';
import { HistogramChart, type HistogramMarker, type QuantOverlay } from '../../analysis/HistogramChart';
import { formatFraction, formatInteger, formatMs, formatValue } from '../../format';
import { idsByName } from '../shared/rows';
import { sqnrRating } from './meta';

const BACKEND_LABELS = { ts: 'TypeScript', wasm: 'WASM SIMD', webgpu: 'WebGPU' } as const;
const NO_MARKERS: HistogramMarker[] = [];
const ZERO_MARKER: HistogramMarker[] = [{ value: 0, label: '0' }];

/**
 * What quantization does to one layer: its values with the quantization grid and clipping range drawn over
 * them, and the histogram of the rounding error. Shows the selected weight, or else the worst one.
 */
export const QuantPreview = memo(function QuantPreview({
  report,
  recipe,
  tensors,
  stale,
}: {
  report: QuantReport;
  recipe: QuantizeRecipe;
  tensors: TensorInfo[];
  /** The result shown answers older settings. */
  stale: boolean;
}) {
  const selectedId = useStudio((s) => s.selectedTensorId);
  const backendPreference = useStudio((s) => s.backendPreference);
  const preview = useStudio((s) => s.quantPreview);
  const request = useStudio((s) => s.requestQuantPreview);
  const ids = useMemo(() => idsByName(tensors), [tensors]);

  const quantized = useMemo(() => report.tensors.filter((t) => t.action === 'quantize'), [report]);
  const selected = selectedId === null ? undefined : report.tensors.find((t) => ids.get(t.name) === selectedId);
  const worst = useMemo(() => [...quantized].sort((a, b) => (a.sqnrDb ?? Infinity) - (b.sqnrDb ?? Infinity))[0], [quantized]);
  const target = selected ?? worst;
  const targetId = target ? ids.get(target.name) : undefined;

  useEffect(() => {
    // The recipe of the result shown (not the controls' newest): the charts always match the table.
    request(targetId ?? null, recipe);
  }, [request, targetId, recipe, backendPreference]);

  if (!target || targetId === undefined) {
    return (
      <p className="detail__empty detail__empty--small" data-testid="quant-preview-empty">
        No weight is quantized with these settings, so there is no grid to show.
      </p>
    );
  }
  const result = preview.tensorId === targetId ? preview.result : null;
  return (
    <section className="qpreview" aria-labelledby="qpreview-title" data-testid="quant-preview" data-tensor={target.name}>
      <header className="detail__subheader">
        <div>
          <h3 className="detail__subtitle" id="qpreview-title">
            <span className="mono">{target.name}</span> <span className="badge badge--neutral">{selected ? 'selected' : 'worst layer'}</span>
          </h3>
          <p className="card__help">
            {selected ? 'The weight selected in the table.' : 'The weight with the largest quantization error. Click a row in the table to look at another.'}{' '}
            Values as they are before pruning.
          </p>
        </div>
      </header>
      {preview.error && preview.tensorId === targetId ? (
        <p className="reading reading--bad small">{preview.error}</p>
      ) : !result ? (
        <div className="detail__loading">
          <span className="spinner" aria-hidden="true" /> Quantizing {formatInteger(target.elements)} values…
        </div>
      ) : result.skipped ? (
        <p className="detail__empty detail__empty--small">Not quantized: {result.skipped}.</p>
      ) : (
        <PreviewCharts result={result} stale={stale || preview.loading} />
      )}
    </section>
  );
});

function PreviewCharts({ result, stale }: { result: PreviewResult; stale: boolean }) {
  const [logCounts, setLogCounts] = useState(false);
  const overlay = useMemo<QuantOverlay>(() => ({ levels: result.gridLevels, clip: result.clipRange }), [result]);
  const total = useMemo(() => result.histogram.counts.reduce((a, b) => a + b, 0), [result]);
  const errTotal = useMemo(() => result.errorHistogram.counts.reduce((a, b) => a + b, 0), [result]);
  const rating = sqnrRating(result.sqnrDb);
  const grouped = result.groups > 1;
  return (
    <>
      <div className="qpreview__facts" data-testid="quant-preview-facts">
        <span className={`badge badge--${rating}`}>{Number.isFinite(result.sqnrDb) ? `${result.sqnrDb.toFixed(1)} dB SQNR` : 'exact'}</span>
        <span>{formatFraction(result.relError)} relative error</span>
        <span>max error {formatValue(result.maxAbsError)}</span>
        <span title="Values outside their group's grid, set to the nearest end.">{formatFraction(result.clippedFraction)} clipped</span>
        <span>
          {result.bits}-bit{result.storedBits !== result.bits ? ` in ${result.storedBits}-bit` : ''} · {result.granularity}
          {grouped ? ` · ${formatInteger(result.groups)} groups` : ''}
        </span>
        <label className="checkbox qpreview__log" title="A logarithmic count axis shows the thin tails, where clipping happens.">
          <input type="checkbox" checked={logCounts} onChange={(e) => setLogCounts(e.currentTarget.checked)} />
          Log counts
        </label>
      </div>
      <div className="qpreview__charts">
        <figure className="chart-figure">
          <HistogramChart
            histogram={result.histogram}
            logCounts={logCounts}
            markers={ZERO_MARKER}
            total={total}
            dimmed={stale}
            overlay={overlay}
            testId="quant-histogram"
            height={220}
          />
          <figcaption className="chart-caption">
            All {formatInteger(total)} values. Thin lines: the {formatInteger(result.gridLevels.length)} values the grid can store
            {grouped ? ` for group ${formatInteger(result.shownGroup + 1)} (the one with the widest range)` : ''}; red lines and shading: the clipping range{' '}
            {formatValue(result.clipRange[0])} to {formatValue(result.clipRange[1])}.
          </figcaption>
        </figure>
        <figure className="chart-figure">
          <HistogramChart
            histogram={result.errorHistogram}
            logCounts={logCounts}
            markers={NO_MARKERS}
            total={errTotal}
            dimmed={stale}
            tone="second"
            testId="error-histogram"
            height={220}
            valueLabel="weights"
          />
          <figcaption className="chart-caption">
            Rounding error per weight (original − quantized). A narrow peak at 0 is good; wide shoulders mean a coarse grid, far tails mean clipping. Computed
            on {BACKEND_LABELS[result.backend]} in {formatMs(result.ms)}.
          </figcaption>
        </figure>
      </div>
    </>
  );
}
