/** Pure helpers behind the tensor table: labels, filtering and sorting. */
import type { TensorInfo } from '../../core/onnx/types';
import type { TensorSort } from '../../state/store';
import { dtypeLabel } from '../format';

export function usedByLabel(t: TensorInfo): string {
  return t.consumers.length ? t.consumers.join(', ') : 'not used';
}

/**
 * Second line of the "Used by" cell: the consuming node names, plus the layer the tensor finally
 * feeds when that is further on (a quantized weight read by DequantizeLinear feeds a MatMul).
 */
export function usedByDetail(t: TensorInfo): string {
  const nodes = t.consumerNodes.join(', ');
  if (t.layer && !t.consumerNodes.includes(t.layer)) {
    const layer = `${t.layerOp ?? ''} ${t.layer}`.trim();
    return nodes ? `${nodes} → ${layer}` : layer;
  }
  return nodes;
}

export function locationLabel(t: TensorInfo): string {
  switch (t.location) {
    case 'constant':
      return t.producerNode ? `constant node ${t.producerNode}` : 'constant node';
    case 'external':
      return t.externalFile ? `external ${t.externalFile}` : 'external';
    default:
      return 'initializer';
  }
}

/** Second line of the location cell: where in the graph the tensor sits, when not the main graph. */
export function subgraphLabel(t: TensorInfo): string | null {
  return t.graph !== 'main' ? `subgraph ${t.graph}` : null;
}

export function locationHelp(t: TensorInfo): string {
  switch (t.location) {
    case 'constant':
      return 'Stored inside a Constant operation in the graph rather than as a named weight.';
    case 'external':
      return 'Stored in a separate external-data file next to the .onnx file.';
    default:
      return 'Stored in the .onnx file as a named weight (an "initializer").';
  }
}

/** Case-insensitive match on name, op types, node names, and both spellings of the data type. */
export function matchesFilter(t: TensorInfo, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  if (t.name.toLowerCase().includes(q)) return true;
  if (t.dtype.toLowerCase().includes(q) || dtypeLabel(t.dtype).includes(q)) return true;
  if (t.consumers.some((op) => op.toLowerCase().includes(q))) return true;
  if (t.layerOp?.toLowerCase().includes(q) || t.layer?.toLowerCase().includes(q)) return true;
  return t.consumerNodes.some((node) => node.toLowerCase().includes(q));
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareShapes(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const comparators: Record<TensorSort['key'], (a: TensorInfo, b: TensorInfo) => number> = {
  name: (a, b) => collator.compare(a.name, b.name),
  usedBy: (a, b) => collator.compare(usedByLabel(a), usedByLabel(b)),
  shape: (a, b) => compareShapes(a.shape, b.shape),
  dtype: (a, b) => collator.compare(dtypeLabel(a.dtype), dtypeLabel(b.dtype)),
  elements: (a, b) => a.elements - b.elements,
  bytes: (a, b) => a.bytes - b.bytes,
  location: (a, b) => collator.compare(locationLabel(a), locationLabel(b)) || collator.compare(a.graph, b.graph),
};

export interface TensorRows {
  rows: TensorInfo[];
  /** Tensors left out because they are not weights and "Show non-weight tensors" is off. */
  hiddenNonWeights: number;
  /** Tensors left out by the text filter. */
  filteredOut: number;
}

export function selectTensorRows(tensors: readonly TensorInfo[], options: { filter: string; sort: TensorSort | null; showNonWeights: boolean }): TensorRows {
  let hiddenNonWeights = 0;
  let filteredOut = 0;
  const rows: TensorInfo[] = [];
  for (const t of tensors) {
    if (!options.showNonWeights && !t.isWeight) {
      hiddenNonWeights++;
      continue;
    }
    if (!matchesFilter(t, options.filter)) {
      filteredOut++;
      continue;
    }
    rows.push(t);
  }
  if (options.sort) {
    const compare = comparators[options.sort.key];
    const sign = options.sort.dir === 'asc' ? 1 : -1;
    // Ties keep catalog order, so the table does not shuffle between clicks.
    rows.sort((a, b) => sign * compare(a, b) || a.id - b.id);
  }
  return { rows, hiddenNonWeights, filteredOut };
}
