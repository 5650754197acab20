/** Pure helpers behind the model-level weight views: weights grouped by layer and by op type. */
import type { LayerSparsity } from '../../core/analysis/analyze';
import type { TensorInfo } from '../../core/onnx/types';
import type { LayerMeasure } from '../../state/store';

export interface LayerRow {
  /** TensorInfo.layer: the compute node the weights feed ("conv1"); "not used" when none. */
  layer: string;
  op: string;
  params: number;
  bytes: number;
  /** The tensor a click on the layer selects: its largest multiplied weight, else its largest weight. */
  weightId: number;
  tensorIds: number[];
}

export const UNUSED_LAYER = '(not used by any operation)';

/** Weights (never shape constants or other helper tensors) grouped by the layer they feed. */
export function groupLayers(tensors: readonly TensorInfo[]): LayerRow[] {
  const byLayer = new Map<string, { row: LayerRow; main: TensorInfo }>();
  for (const t of tensors) {
    if (!t.isWeight) continue;
    const key = t.layer ?? UNUSED_LAYER;
    const entry = byLayer.get(key);
    if (!entry) {
      byLayer.set(key, {
        row: { layer: key, op: t.layerOp ?? '—', params: t.elements, bytes: t.bytes, weightId: t.id, tensorIds: [t.id] },
        main: t,
      });
      continue;
    }
    entry.row.params += t.elements;
    entry.row.bytes += t.bytes;
    entry.row.tensorIds.push(t.id);
    const better = t.multiplied !== entry.main.multiplied ? t.multiplied : t.elements > entry.main.elements;
    if (better) {
      entry.main = t;
      entry.row.weightId = t.id;
    }
  }
  return [...byLayer.values()].map((e) => e.row);
}

/** Largest first; ties in graph order. */
export function sortLayers(layers: readonly LayerRow[], measure: LayerMeasure): LayerRow[] {
  return layers
    .map((row, order) => ({ row, order }))
    .sort((a, b) => b.row[measure] - a.row[measure] || a.order - b.order)
    .map((x) => x.row);
}

export interface OpShare {
  op: string;
  layers: number;
  params: number;
  bytes: number;
}

/** Parameters and bytes of weights per op type of the layer they feed, largest bytes first. */
export function shareByOp(layers: readonly LayerRow[]): OpShare[] {
  const byOp = new Map<string, OpShare>();
  for (const l of layers) {
    const share = byOp.get(l.op) ?? { op: l.op, layers: 0, params: 0, bytes: 0 };
    share.layers++;
    share.params += l.params;
    share.bytes += l.bytes;
    byOp.set(l.op, share);
  }
  return [...byOp.values()].sort((a, b) => b.bytes - a.bytes || a.op.localeCompare(b.op));
}

/** A layer's sparsity with its zero fraction. */
export type SparsityRow = LayerSparsity & { fraction: number };

/** Sparsity rows, sparsest first (ties in graph order). */
export function sparsityRows(layers: readonly LayerSparsity[]): SparsityRow[] {
  return layers
    .map((l, order) => ({ row: { ...l, fraction: l.elements ? l.zeros / l.elements : 0 }, order }))
    .sort((a, b) => b.row.fraction - a.row.fraction || a.order - b.order)
    .map((x) => x.row);
}

/** Overall share of zeros across all multiplied weights. */
export function overallSparsity(layers: readonly LayerSparsity[]): number {
  let zeros = 0;
  let elements = 0;
  for (const l of layers) {
    zeros += l.zeros;
    elements += l.elements;
  }
  return elements ? zeros / elements : 0;
}
