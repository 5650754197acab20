/**
 * Where a stored tensor goes: followed through the layout ops it passes (Cast, Slice, Split, Transpose, Reshape,
 * Squeeze/Unsqueeze, Concat…) to the ops that read it, with the op's channel and reduction axes mapped back to the
 * stored tensor's axes. So an LSTM cell's weight that reaches a MatMul through Slice and Transpose is still known
 * as a weight with its output channels on the stored axis 0.
 */
import type { NodeProto } from 'onnx-buf';
import type { CatalogEntry, TensorCatalog, TensorConsumer } from './catalog';
import { getInt, getInts } from './graph-edit';
import { LAYOUT_OPS, opKey, opTraits } from './op-traits';
import { DataType } from '../tensor/dtypes';

export interface WeightUse {
  /** weight: an input the op multiplies; keep: a parameter it reads that stays float; other: any other reader. */
  kind: 'weight' | 'keep' | 'other';
  node: NodeProto;
  nodeLabel: string;
  graphPath: string;
  /** Op key ("Conv", "com.microsoft.Attention"). */
  op: string;
  inputIndex: number;
  /** Layout ops passed on the way, in order (empty when the op reads the stored tensor itself). */
  path: string[];
  /** The op's output-channel axis, in the stored tensor's axes (undefined when it cannot be followed). */
  channelAxis?: number;
  /** The op's summed axis, in the stored tensor's axes. */
  reductionAxis?: number;
  /** For kind 'keep': why it stays float ("bias"). */
  keepReason?: string;
}

/** Only these pass a tensor on unchanged in layout: the op then reads "the weight itself". */
const VALUE_COPIES = new Set(['Cast', 'Identity', 'DequantizeLinear']);

interface Trace {
  value: string;
  /** For each axis of the traced value: the stored tensor's axis it comes from (undefined: a new or merged axis). */
  axes: (number | undefined)[];
  /** Known sizes of the traced value's axes. */
  dims: (number | undefined)[];
  path: string[];
}

const constantMaps = new WeakMap<TensorCatalog, Map<string, CatalogEntry>>();

/** The stored tensor behind a value name (first by name; names are unique within a graph). */
export function constantNamed(catalog: TensorCatalog, name: string | undefined): CatalogEntry | undefined {
  if (!name) return undefined;
  let map = constantMaps.get(catalog);
  if (!map) {
    map = new Map();
    for (const e of catalog.entries) if (!map.has(e.name)) map.set(e.name, e);
    constantMaps.set(catalog, map);
  }
  return map.get(name);
}

/** The integer values of a small stored int tensor (axes, shapes, perms), or undefined. */
export function intValues(entry: CatalogEntry | undefined): number[] | undefined {
  if (!entry || entry.external || entry.elements > 64) return undefined;
  const t = entry.tensor;
  if (t.dataType === DataType.INT64) {
    if (t.rawData.byteLength) return Array.from(new BigInt64Array(t.rawData.slice().buffer), Number);
    return t.int64Data.map(Number);
  }
  if (t.dataType === DataType.INT32) {
    if (t.rawData.byteLength) return Array.from(new Int32Array(t.rawData.slice().buffer));
    return [...t.int32Data];
  }
  return undefined;
}

const normalize = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Axes given by attribute (older opsets) or by a constant input (newer ones). */
function axesOf(node: NodeProto, catalog: TensorCatalog, inputIndex: number): number[] | undefined {
  return getInts(node, 'axes') ?? intValues(constantNamed(catalog, node.input[inputIndex]));
}

/** The traced value after one layout op (one trace per output that carries it), or undefined when it cannot be followed. */
function step(t: Trace, node: NodeProto, inputIndex: number, catalog: TensorCatalog): Trace[] | undefined {
  const rank = t.axes.length;
  const path = [...t.path, node.opType];
  const out = (axes: (number | undefined)[], dims: (number | undefined)[], outputs = node.output.slice(0, 1)) =>
    outputs.filter(Boolean).map((value) => ({ value, axes, dims, path }));
  switch (node.opType) {
    case 'Cast':
    case 'Identity':
      return out(t.axes, t.dims);
    case 'DequantizeLinear':
      return inputIndex === 0 ? out(t.axes, t.dims) : undefined;
    case 'Slice': {
      if (inputIndex !== 0) return undefined;
      const axes = axesOf(node, catalog, 3)?.map((a) => normalize(a, rank));
      return out(
        t.axes,
        t.dims.map((d, i) => (axes && !axes.includes(i) ? d : undefined)),
      );
    }
    case 'Split': {
      if (inputIndex !== 0) return undefined;
      const axis = normalize(getInt(node, 'axis', 0), rank);
      return out(
        t.axes,
        t.dims.map((d, i) => (i === axis ? undefined : d)),
        node.output,
      );
    }
    case 'Concat': {
      const axis = normalize(getInt(node, 'axis', 0), rank);
      return out(
        t.axes,
        t.dims.map((d, i) => (i === axis ? undefined : d)),
      );
    }
    case 'Transpose': {
      const perm = getInts(node, 'perm') ?? t.axes.map((_, i) => rank - 1 - i);
      return out(
        perm.map((p) => t.axes[p]),
        perm.map((p) => t.dims[p]),
      );
    }
    case 'Squeeze': {
      if (inputIndex !== 0) return undefined;
      let axes = axesOf(node, catalog, 1)?.map((a) => normalize(a, rank));
      if (!axes) {
        if (t.dims.some((d) => d === undefined)) return undefined;
        axes = t.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      }
      return out(
        t.axes.filter((_, i) => !axes.includes(i)),
        t.dims.filter((_, i) => !axes.includes(i)),
      );
    }
    case 'Unsqueeze': {
      if (inputIndex !== 0) return undefined;
      const raw = axesOf(node, catalog, 1);
      if (!raw) return undefined;
      const outRank = rank + raw.length;
      const inserted = raw.map((a) => normalize(a, outRank));
      const axes: (number | undefined)[] = [];
      const dims: (number | undefined)[] = [];
      for (let i = 0, k = 0; i < outRank; i++) {
        if (inserted.includes(i)) {
          axes.push(undefined);
          dims.push(1);
        } else {
          axes.push(t.axes[k]);
          dims.push(t.dims[k++]);
        }
      }
      return out(axes, dims);
    }
    case 'Flatten': {
      const axis = normalize(getInt(node, 'axis', 1), rank);
      const size = (from: number, to: number) =>
        t.dims.slice(from, to).reduce<number | undefined>((p, d) => (p === undefined || d === undefined ? undefined : p * d), 1);
      return out([axis === 0 ? undefined : t.axes[0], t.axes[axis]], [size(0, axis), size(axis, rank)]);
    }
    case 'Reshape': {
      if (inputIndex !== 0) return undefined;
      const target = intValues(constantNamed(catalog, node.input[1]));
      if (!target || t.dims.some((d) => d === undefined)) return undefined;
      const dims = t.dims as number[];
      const total = dims.reduce((a, b) => a * b, 1);
      const resolved = target.map((d, i) => (d === 0 && getInt(node, 'allowzero', 0) === 0 ? dims[i]! : d));
      const known = resolved.reduce((a, d) => (d === -1 ? a : a * d), 1);
      const shape = resolved.map((d) => (d === -1 ? total / known : d));
      if (shape.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
      return out(matchReshape(t.axes, dims, shape), shape);
    }
    default:
      return undefined;
  }
}

/**
 * Axes of a reshaped tensor mapped back: input and output dims are grouped where their running products meet;
 * every output axis of a group takes the group's first (outermost) non-trivial input axis.
 */
function matchReshape(axes: (number | undefined)[], from: number[], to: number[]): (number | undefined)[] {
  const result: (number | undefined)[] = new Array(to.length).fill(undefined);
  let i = 0;
  let j = 0;
  while (i < from.length || j < to.length) {
    const gi = i;
    const gj = j;
    let pi = from[i++] ?? 1;
    let pj = to[j++] ?? 1;
    while (pi !== pj && (i < from.length || j < to.length)) {
      if (pi < pj && i < from.length) pi *= from[i++]!;
      else if (j < to.length) pj *= to[j++]!;
      else break;
    }
    const major = from.slice(gi, i).findIndex((d) => d !== 1);
    const source = major >= 0 ? axes[gi + major] : undefined;
    for (let k = gj; k < j; k++) if (to[k] !== 1) result[k] = source;
  }
  return result;
}

/** Every op that reads `entry`, through layout ops, with what it does with it. */
export function weightUses(entry: CatalogEntry, catalog: TensorCatalog): WeightUse[] {
  const uses: WeightUse[] = [];
  const seen = new Set<NodeProto>();
  const start: Trace = { value: entry.name, axes: entry.shape.map((_, i) => i), dims: [...entry.shape], path: [] };
  const visit = (t: Trace, consumers: TensorConsumer[]) => {
    for (const c of consumers) {
      if (seen.has(c.node) || t.path.length > 8) continue;
      seen.add(c.node);
      const base = { node: c.node, nodeLabel: c.nodeLabel, graphPath: c.graphPath, op: opKey(c.node), inputIndex: c.inputIndex, path: t.path };
      const traits = opTraits(c.node);
      const weight = traits?.weights.find((w) => w.input === c.inputIndex);
      if (weight) {
        const rank = t.axes.length;
        const ch = weight.channelAxis(c.node, rank);
        const red = weight.reductionAxis(c.node, rank);
        uses.push({
          ...base,
          kind: 'weight',
          channelAxis: ch === undefined ? undefined : t.axes[ch],
          reductionAxis: red === undefined ? undefined : t.axes[red],
        });
        continue;
      }
      const keep = traits?.keep?.[c.inputIndex];
      if (keep) {
        uses.push({ ...base, kind: 'keep', keepReason: keep });
        continue;
      }
      if (LAYOUT_OPS.has(c.node.opType) && (!c.node.domain || c.node.domain === 'ai.onnx')) {
        const next = step(t, c.node, c.inputIndex, catalog);
        if (next) {
          for (const n of next) visit(n, catalog.valueConsumers.get(n.value) ?? []);
          continue;
        }
      }
      uses.push({ ...base, kind: 'other' });
    }
  };
  visit(start, entry.consumers);
  return uses;
}

/** True when the op reads the stored tensor itself (directly, or through value copies only). */
export function readsDirectly(use: WeightUse): boolean {
  return use.path.every((op) => VALUE_COPIES.has(op));
}
