import { memo, useDeferredValue, useMemo, useState } from 'react';
import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import type { TensorInfo } from '../../core/onnx/types';
import { useStudio, type LayerMeasure, type SparsityState } from '../../state/store';
import { Card } from '../kit/Card';
import { formatBytes, formatCount, formatFraction, formatInteger, formatMs, formatPercent } from '../format';
import { BarList, type BarItem } from './BarList';
import { groupLayers, overallSparsity, shareByOp, sortLayers, sparsityRows, type LayerRow } from './layers';
import './layers.css';

const TOP = 12;
/** Beyond this many bars "Show all" stops (thousands of buttons are slow to lay out). */
const MAX_SHOWN = 400;

const BACKEND_LABELS = { ts: 'TypeScript', wasm: 'WASM SIMD', webgpu: 'WebGPU' } as const;

/** Model-level weight views: size per layer, share by op type, sparsity per layer. */
export function LayerViews({ tensors }: { tensors: TensorInfo[] }) {
  const layers = useMemo(() => groupLayers(tensors), [tensors]);
  if (layers.length === 0) {
    return (
      <Card id="layers-title" title="Weights by layer" help="Where the learned numbers sit in the network.">
        <p className="muted" data-testid="layers-empty">
          This model has no weight tensors (only shapes, indices or other helper values), so there is nothing to chart per layer.
        </p>
      </Card>
    );
  }
  return (
    <div className="layers" data-testid="layer-views">
      <LayerSizeCard layers={layers} tensors={tensors} />
      <div className="layers__side">
        <OpShareCard layers={layers} />
        <SparsityCard tensors={tensors} />
      </div>
    </div>
  );
}

function MeasureToggle() {
  const measure = useStudio((s) => s.layerMeasure);
  const setMeasure = useStudio((s) => s.setLayerMeasure);
  const options: { value: LayerMeasure; label: string; help: string }[] = [
    { value: 'bytes', label: 'Bytes', help: 'Bytes the weights take as stored: what compression shrinks.' },
    { value: 'params', label: 'Parameters', help: 'How many numbers the weights hold, whatever their type.' },
  ];
  return (
    <div className="segmented segmented--small" role="radiogroup" aria-label="Measure layers by">
      {options.map((o) => (
        <label key={o.value} className="segmented__option" title={o.help}>
          <input type="radio" name="layer-measure" value={o.value} checked={measure === o.value} onChange={() => setMeasure(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </div>
  );
}

const measureText = (measure: LayerMeasure, value: number) => (measure === 'bytes' ? formatBytes(value) : formatCount(value));

/** The selected weight's layer; deferred, so a click in the table repaints the table first. */
function useSelectedLayer(tensors: TensorInfo[]): string | undefined {
  const selectedId = useDeferredValue(useStudio((s) => s.selectedTensorId));
  const t = selectedId === null ? undefined : tensors[selectedId];
  return t?.isWeight ? t.layer : undefined;
}

function LayerSizeCard({ layers, tensors }: { layers: LayerRow[]; tensors: TensorInfo[] }) {
  const measure = useStudio((s) => s.layerMeasure);
  const selectedLayer = useSelectedLayer(tensors);
  return <LayerSizeBody layers={layers} tensors={tensors} measure={measure} selectedLayer={selectedLayer} />;
}

const LayerSizeBody = memo(function LayerSizeBody({
  layers,
  tensors,
  measure,
  selectedLayer,
}: {
  layers: LayerRow[];
  tensors: TensorInfo[];
  measure: LayerMeasure;
  selectedLayer: string | undefined;
}) {
  const selectTensor = useStudio((s) => s.selectTensor);
  const [showAll, setShowAll] = useState(false);
  const sorted = useMemo(() => sortLayers(layers, measure), [layers, measure]);
  const total = sorted.reduce((s, l) => s + l[measure], 0);
  const limit = showAll ? MAX_SHOWN : TOP;
  const shown = sorted.slice(0, limit);
  const rank = selectedLayer === undefined ? -1 : sorted.findIndex((l) => l.layer === selectedLayer);
  const extra = rank >= limit ? sorted[rank] : undefined;

  const item = (l: LayerRow, i: number): BarItem => {
    const main = tensors[l.weightId]!;
    return {
      key: l.layer,
      label: l.layer,
      sub: `${l.op}${l.tensorIds.length > 1 ? ` · ${l.tensorIds.length} weights` : ''}`,
      value: l[measure],
      display: measureText(measure, l[measure]),
      title: `#${i + 1} ${l.layer} (${l.op}): ${formatInteger(l.params)} parameters, ${formatBytes(l.bytes)}, ${formatPercent(
        l[measure],
        total,
      )} of the model's weight ${measure === 'bytes' ? 'bytes' : 'parameters'}. Click to select ${main.name}.`,
      selected: l.layer === selectedLayer,
      tensorId: l.weightId,
    };
  };

  return (
    <Card
      id="layer-size-title"
      title={
        <>
          Size per layer <span className="count-badge">{formatInteger(layers.length)}</span>
        </>
      }
      help="Weights grouped by the operation (layer) they feed, largest first. Click a layer to select its weight in the table."
      className="layer-size"
    >
      <div className="card__tools">
        <MeasureToggle />
        <span className="muted small">{measure === 'bytes' ? formatBytes(total) : `${formatInteger(total)} parameters`} in weights</span>
      </div>
      <BarList
        items={shown.map(item)}
        max={sorted[0]?.[measure] ?? 0}
        label={`Layers by ${measure === 'bytes' ? 'bytes' : 'parameters'}, largest first`}
        testId="layer-size-chart"
        onSelect={(it) => selectTensor(it.tensorId, { reveal: true })}
        footer={
          <>
            {extra && (
              <BarList
                items={[item(extra, rank)]}
                max={sorted[0]?.[measure] ?? 0}
                label="The selected layer, further down the list"
                testId="layer-size-selected"
                onSelect={(it) => selectTensor(it.tensorId, { reveal: true })}
              />
            )}
            {sorted.length > TOP && (
              <button type="button" className="link-button barlist__more" onClick={() => setShowAll(!showAll)}>
                {showAll
                  ? `Show the top ${TOP} only`
                  : `Show all ${formatInteger(sorted.length)} layers${sorted.length > MAX_SHOWN ? ` (the largest ${MAX_SHOWN})` : ''}`}
              </button>
            )}
          </>
        }
      />
    </Card>
  );
});

function OpShareCard({ layers }: { layers: LayerRow[] }) {
  const measure = useStudio((s) => s.layerMeasure);
  const shares = useMemo(() => shareByOp(layers).sort((a, b) => b[measure] - a[measure]), [layers, measure]);
  const total = shares.reduce((s, o) => s + o[measure], 0);
  const color = (i: number) => `var(--series-${(i % 8) + 1})`;
  return (
    <Card
      id="op-share-title"
      title="Share by op type"
      help={`Weight ${measure === 'bytes' ? 'bytes' : 'parameters'} by the kind of operation that uses them (Conv = convolution, Gemm/MatMul = matrix multiply).`}
    >
      <div className="op-share">
        <figure
          className="chart op-share__chart"
          role="img"
          aria-label={shares.map((s) => `${s.op} ${formatPercent(s[measure], total)}`).join(', ')}
          data-testid="op-share-chart"
        >
          <ResponsiveContainer width="100%" height={132}>
            <PieChart>
              <Pie
                data={shares}
                dataKey={measure}
                nameKey="op"
                innerRadius={36}
                outerRadius={62}
                paddingAngle={shares.length > 1 ? 1.5 : 0}
                stroke={shares.length > 1 ? 'var(--surface)' : 'none'}
                isAnimationActive={false}
              >
                {shares.map((s, i) => (
                  <Cell key={s.op} fill={color(i)} />
                ))}
              </Pie>
              <Tooltip
                formatter={(value) => [measureText(measure, Number(value)), measure === 'bytes' ? 'stored' : 'parameters']}
                contentStyle={{
                  background: 'var(--surface)',
                  border: '1px solid var(--border)',
                  borderRadius: 8,
                  color: 'var(--text)',
                  fontSize: 13,
                }}
                itemStyle={{ color: 'var(--text-muted)' }}
              />
            </PieChart>
          </ResponsiveContainer>
        </figure>
        <table className="simple-table op-share__table" data-testid="op-share-table">
          <thead>
            <tr>
              <th scope="col">Op</th>
              <th scope="col" className="num" title="How many layers of this op type hold weights.">
                Layers
              </th>
              <th scope="col" className="num">
                {measure === 'bytes' ? 'Bytes' : 'Params'}
              </th>
              <th scope="col" className="num">
                Share
              </th>
            </tr>
          </thead>
          <tbody>
            {shares.map((s, i) => (
              <tr key={s.op}>
                <td>
                  <span className="swatch" style={{ background: color(i) }} aria-hidden="true" />
                  {s.op}
                </td>
                <td className="num">{formatInteger(s.layers)}</td>
                <td className="num" title={measure === 'bytes' ? `${formatInteger(s.bytes)} bytes` : `${formatInteger(s.params)} parameters`}>
                  {measureText(measure, s[measure])}
                </td>
                <td className="num">{formatPercent(s[measure], total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function SparsityCard({ tensors }: { tensors: TensorInfo[] }) {
  const sparsity = useStudio((s) => s.sparsity);
  const selectedLayer = useSelectedLayer(tensors);
  return <SparsityBody sparsity={sparsity} selectedLayer={selectedLayer} />;
}

const SparsityBody = memo(function SparsityBody({ sparsity, selectedLayer }: { sparsity: SparsityState; selectedLayer: string | undefined }) {
  const selectTensor = useStudio((s) => s.selectTensor);
  const refresh = useStudio((s) => s.refreshSparsity);
  const [showAll, setShowAll] = useState(false);
  const rows = useMemo(() => (sparsity.result ? sparsityRows(sparsity.result.layers) : []), [sparsity.result]);
  const overall = sparsity.result ? overallSparsity(sparsity.result.layers) : 0;
  const shown = rows.slice(0, showAll ? MAX_SHOWN : TOP);
  const maxFraction = rows[0]?.fraction ?? 0;
  const dense = rows.length > 0 && maxFraction < 0.01;

  let body;
  if (sparsity.status === 'error') {
    body = (
      <p className="muted" role="alert">
        {sparsity.error}{' '}
        <button type="button" className="link-button" onClick={() => void refresh()}>
          Try again
        </button>
      </p>
    );
  } else if (!sparsity.result) {
    body = (
      <p className="detail__loading" data-testid="sparsity-loading">
        <span className="spinner" aria-hidden="true" /> Counting zeros in every layer…
      </p>
    );
  } else if (rows.length === 0) {
    body = (
      <p className="muted" data-testid="sparsity-empty">
        No layer multiplies a weight here (no Conv, Gemm or MatMul weights), so there is no sparsity to measure.
      </p>
    );
  } else {
    body = (
      <>
        <p className="small sparsity__summary" data-testid="sparsity-summary">
          {dense
            ? `No layer is sparse yet: every layer has under 1% zeros (${formatFraction(overall)} overall). Pruning is what raises these bars.`
            : `${formatFraction(overall)} of all multiplied weights are zero. Sparsest layers first.`}
        </p>
        <BarList
          items={shown.map((r) => ({
            key: `${r.tensorId}`,
            label: r.layer,
            sub: `${r.op} · ${r.name}`,
            // The bars are scaled to 100 %: a sparse layer should look sparse next to a dense one.
            value: r.fraction,
            display: formatFraction(r.fraction),
            title: `${r.layer} (${r.op}): ${formatInteger(r.zeros)} of ${formatInteger(r.elements)} values are ${
              r.zeroReference === 'zero point' ? 'at the zero point (stored quantized)' : 'exactly zero'
            }. Click to select ${r.name}.`,
            selected: r.layer === selectedLayer,
            tensorId: r.tensorId,
          }))}
          max={1}
          label="Share of zeros per layer, sparsest first"
          testId="sparsity-chart"
          onSelect={(it) => selectTensor(it.tensorId, { reveal: true })}
          footer={
            rows.length > TOP && (
              <button type="button" className="link-button barlist__more" onClick={() => setShowAll(!showAll)}>
                {showAll ? `Show the top ${TOP} only` : `Show all ${formatInteger(rows.length)} layers`}
              </button>
            )
          }
        />
      </>
    );
  }

  return (
    <Card
      id="sparsity-title"
      title="Sparsity per layer"
      help="Share of each multiplied weight (conv kernels, matrices) that is zero — for quantized weights, at their zero point. Biases and norms are left out."
    >
      <div aria-busy={sparsity.status === 'loading'}>{body}</div>
      {sparsity.result && (
        <p className="run-meta" data-testid="sparsity-backend">
          {sparsity.status === 'loading' && <span className="spinner spinner--tiny" aria-hidden="true" />} Computed on{' '}
          <strong>{BACKEND_LABELS[sparsity.result.backend]}</strong> in {formatMs(sparsity.result.ms)}
        </p>
      )}
    </Card>
  );
});
