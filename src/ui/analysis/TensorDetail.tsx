import { memo, useDeferredValue, useId, useMemo, useState } from 'react';
import type { TensorAnalysis } from '../../core/analysis/analyze';
import type { TensorInfo } from '../../core/onnx/types';
import { BIN_CHOICES, notAnalysable, useStudio, type TensorAnalysisState } from '../../state/store';
import { dtypeLabel, formatBytes, formatInteger, formatMs, formatShape, formatValue } from '../format';
import { ChannelRangeChart } from './ChannelRangeChart';
import { ComputeControl } from './ComputeControl';
import { HistogramChart, type HistogramMarker } from './HistogramChart';
import { channelVerdict } from './readings';
import { StatsList } from './StatsList';
import './analysis.css';

const BACKEND_LABELS: Record<TensorAnalysis['backend'], string> = { ts: 'TypeScript', wasm: 'WASM SIMD', webgpu: 'WebGPU' };

/** The selected tensor's values: histogram, statistics and per-channel ranges. */
export function TensorDetail({ tensors }: { tensors: TensorInfo[] }) {
  // Selection and results render in a background (time-sliced) pass: a click only repaints the
  // table row at once, and a result arriving never holds the main thread in one long task. The
  // urgent pass re-renders nothing here: the memoised panel gets the same (old) props.
  const selectedId = useDeferredValue(useStudio((s) => s.selectedTensorId));
  const analysis = useDeferredValue(useStudio((s) => s.analysis));
  const tensor = selectedId === null ? undefined : tensors[selectedId];
  return <DetailPanel tensor={tensor} analysis={analysis} />;
}

const DetailPanel = memo(function DetailPanel({ tensor, analysis }: { tensor: TensorInfo | undefined; analysis: TensorAnalysisState }) {
  return (
    <section className="card detail" aria-labelledby="detail-title" data-testid="tensor-detail">
      <header className="detail__header">
        <div className="detail__title-block">
          <h2 className="card__title" id="detail-title">
            {tensor ? (
              <>
                <span className="visually-hidden">Tensor </span>
                <span className="mono detail__name" title={tensor.name} data-testid="detail-name">
                  {tensor.name}
                </span>
              </>
            ) : (
              'Tensor values'
            )}
          </h2>
          {tensor ? <TensorFacts tensor={tensor} /> : <p className="card__help">How the numbers inside one tensor are spread out.</p>}
        </div>
        <ComputeControl />
      </header>
      <p role="status" className="visually-hidden">
        {statusLine(tensor, analysis)}
      </p>
      <div className="detail__live">
        {!tensor ? (
          <p className="detail__empty" data-testid="detail-empty">
            Select a tensor in the tensor list (click a row, or move to it with the arrow keys and press Enter), click a layer in the charts below or an
            operation in the graph, to see a histogram of its values, its statistics and its range per output channel.
          </p>
        ) : (
          <DetailBody tensor={tensor} analysis={analysis} />
        )}
      </div>
    </section>
  );
});

/** A short line for screen readers; the panel itself is too long to announce on every change. */
function statusLine(tensor: TensorInfo | undefined, analysis: TensorAnalysisState): string {
  if (!tensor) return '';
  if (notAnalysable(tensor)) return `${tensor.name} selected.`;
  if (analysis.tensorId !== tensor.id) return `${tensor.name} selected.`;
  if (analysis.error) return `Could not analyse ${tensor.name}.`;
  if (analysis.loading || !analysis.result) return `Analysing ${tensor.name}…`;
  return `${tensor.name} analysed on ${BACKEND_LABELS[analysis.result.backend]}.`;
}

function TensorFacts({ tensor: t }: { tensor: TensorInfo }) {
  const parts = [formatShape(t.shape), dtypeLabel(t.dtype), `${formatInteger(t.elements)} value${t.elements === 1 ? '' : 's'}`, formatBytes(t.bytes)];
  return (
    <p className="card__help">
      {parts.join(' · ')}
      {t.layer && (
        <>
          {' '}
          · feeds <span className="mono">{t.layerOp}</span> <span className="mono">{t.layer}</span>
        </>
      )}
      {!t.isWeight && <span className="tag tag--output detail__aux">not a learned weight</span>}
    </p>
  );
}

function DetailBody({ tensor, analysis }: { tensor: TensorInfo; analysis: TensorAnalysisState }) {
  const blocked = notAnalysable(tensor);
  if (blocked) {
    return (
      <p className="detail__empty" data-testid="detail-message">
        {blocked}
      </p>
    );
  }
  if (analysis.error && analysis.tensorId === tensor.id) return <AnalysisError message={analysis.error} id={tensor.id} />;
  const result = analysis.tensorId === tensor.id ? analysis.result : null;
  if (!result) {
    return (
      <div className="detail__loading" data-testid="detail-loading">
        <span className="spinner" aria-hidden="true" />
        Reading and analysing {formatInteger(tensor.elements)} values…
      </div>
    );
  }
  return <AnalysisView tensor={tensor} result={result} stale={analysis.loading} cached={analysis.cached} />;
}

function AnalysisError({ message, id }: { message: string; id: number }) {
  const selectTensor = useStudio((s) => s.selectTensor);
  return (
    <div className="banner banner--error" role="alert">
      <div className="banner__body">
        <p className="banner__title">Could not analyse this tensor</p>
        <p className="banner__message">{message}</p>
      </div>
      <button type="button" className="button button--small" onClick={() => selectTensor(id)}>
        Try again
      </button>
    </div>
  );
}

function AnalysisView({ tensor, result, stale, cached }: { tensor: TensorInfo; result: TensorAnalysis; stale: boolean; cached: boolean }) {
  const { stats } = result;
  const markers = useMemo<HistogramMarker[]>(
    () => [
      { value: 0, label: '0' },
      { value: stats.p001, label: '0.1%' },
      { value: stats.p999, label: '99.9%' },
    ],
    [stats],
  );

  if (stats.count === 1) {
    return (
      <div className="detail__single">
        <p data-testid="detail-message">
          A single number (a scalar): <strong className="mono">{formatValue(Number.isNaN(stats.min) ? NaN : stats.min)}</strong>
          {stats.nanCount ? ' (NaN)' : stats.infCount ? ' (infinite)' : ''}. There is no spread of values to chart.
        </p>
        <RunMeta result={result} cached={cached} stale={stale} />
      </div>
    );
  }

  return (
    <>
      <HistogramControls />
      <div className="detail__grid">
        <div className="detail__chart">
          {stats.finiteCount === 0 ? (
            <p className="detail__empty" data-testid="detail-message">
              None of the {formatInteger(stats.count)} values is a finite number, so there is nothing to chart.
            </p>
          ) : (
            <HistogramView result={result} markers={markers} stale={stale} />
          )}
          <RunMeta result={result} cached={cached} stale={stale} />
        </div>
        <StatsList stats={stats} />
      </div>
      <ChannelSection tensor={tensor} result={result} stale={stale} />
    </>
  );
}

function HistogramView({ result, markers, stale }: { result: TensorAnalysis; markers: HistogramMarker[]; stale: boolean }) {
  const logCounts = useStudio((s) => s.logCounts);
  return (
    <figure className="chart-figure">
      <HistogramChart histogram={result.histogram} logCounts={logCounts} markers={markers} total={result.stats.finiteCount} dimmed={stale} />
      <figcaption className="chart-caption">
        How many values fall in each of {result.histogram.counts.length} equal-width bins between {formatValue(result.histogram.lo)} and{' '}
        {formatValue(result.histogram.hi)}. Dashed lines: zero and the 0.1th / 99.9th percentiles.
      </figcaption>
    </figure>
  );
}

const HistogramControls = memo(function HistogramControls() {
  const bins = useStudio((s) => s.bins);
  const setBins = useStudio((s) => s.setBins);
  const symmetric = useStudio((s) => s.symmetric);
  const setSymmetric = useStudio((s) => s.setSymmetric);
  const logCounts = useStudio((s) => s.logCounts);
  const setLogCounts = useStudio((s) => s.setLogCounts);
  const binsId = useId();
  return (
    <div className="detail__controls" data-testid="histogram-controls">
      <div className="inline-field" title="How many equal-width bars the value range is cut into. More bins show finer detail.">
        <label htmlFor={binsId}>Bins</label>
        <select id={binsId} className="select" value={bins} onChange={(e) => setBins(Number(e.currentTarget.value))}>
          {BIN_CHOICES.map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
      </div>
      <label className="checkbox" title="Centre the histogram on zero, from −abs-max to +abs-max: the range symmetric quantization uses.">
        <input type="checkbox" checked={symmetric} onChange={(e) => setSymmetric(e.currentTarget.checked)} />
        Symmetric range (±abs-max)
      </label>
      <label
        className="checkbox"
        title="Use a logarithmic count axis, so bins holding a handful of values (the tails and outliers) stay visible next to bins holding millions."
      >
        <input type="checkbox" checked={logCounts} onChange={(e) => setLogCounts(e.currentTarget.checked)} />
        Log count axis
      </label>
    </div>
  );
});

function RunMeta({ result, cached, stale }: { result: TensorAnalysis; cached: boolean; stale: boolean }) {
  return (
    <p
      className="run-meta"
      data-testid="analysis-backend"
      data-backend={result.backend}
      data-read-ms={result.readMs.toFixed(1)}
      data-compute-ms={result.computeMs.toFixed(1)}
    >
      {stale ? (
        <>
          <span className="spinner spinner--tiny" aria-hidden="true" /> Updating…{' '}
        </>
      ) : null}
      Computed on <strong>{BACKEND_LABELS[result.backend]}</strong> · read {formatMs(result.readMs)} · compute {formatMs(result.computeMs)}
      {cached && <span className="muted"> · shown from the recent-results cache</span>}
    </p>
  );
}

function ChannelSection({ tensor, result, stale }: { tensor: TensorInfo; result: TensorAnalysis; stale: boolean }) {
  const [sortByRange, setSortByRange] = useState(false);
  const channels = result.channels;
  const verdict = useMemo(() => (channels ? channelVerdict(channels) : null), [channels]);
  return (
    <section className="detail__channels" aria-labelledby="channels-title">
      <header className="detail__subheader">
        <div>
          <h3 className="detail__subtitle" id="channels-title">
            Range per output channel
          </h3>
          <p className="card__help">
            {channels
              ? `Each bar spans one output channel's smallest to largest value (axis ${channels.axis} of ${formatShape(tensor.shape)}). Per-tensor quantization uses one range, the dashed lines, for all of them.`
              : 'Per-channel ranges show whether one quantization range can serve a whole layer.'}
          </p>
        </div>
        {channels && (
          <label className="checkbox" title="Order the channels from the widest range to the narrowest, to see how uneven they are.">
            <input type="checkbox" checked={sortByRange} onChange={(e) => setSortByRange(e.currentTarget.checked)} />
            Sort by range
          </label>
        )}
      </header>
      {channels && verdict ? (
        <>
          <p className={`reading reading--${verdict.severity} verdict`} data-testid="channel-verdict">
            <span className={`badge badge--${verdict.severity}`}>{verdict.label}</span> {verdict.text}
            {verdict.emptyChannels > 0 && ` ${formatInteger(verdict.emptyChannels)} channels hold no finite value.`}
          </p>
          <ChannelRangeChart channels={channels} sortByRange={sortByRange} dimmed={stale} />
        </>
      ) : (
        <p className="detail__empty detail__empty--small" data-testid="channel-none">
          {tensor.shape.length < 2
            ? `No per-channel view: this tensor has ${tensor.shape.length === 1 ? 'one dimension' : 'no dimensions'}, so there are no output channels to compare.`
            : `No per-channel view: ${tensor.layerOp ? `${tensor.layerOp} does not read this tensor as a weight with output channels` : 'no operation reads this tensor as a weight with output channels'} (only Conv, Gemm and MatMul weights have them).`}
        </p>
      )}
    </section>
  );
}
