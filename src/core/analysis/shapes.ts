/**
 * Static shapes of the main graph's values, from the input shapes (dynamic dimensions set to 1 unless given) and
 * the stored tensors, with the small integer tensors that shape arithmetic computes (Shape → Gather → Concat →
 * Reshape) folded to their values. MAC counting and structured pruning's channel analysis read it. An op it does
 * not know leaves its outputs unknown: whatever depends on them reports "unknown" rather than a guess.
 */
import type { ModelProto, NodeProto } from 'onnx-buf';
import { buildCatalog, type TensorCatalog } from '../onnx/catalog';
import { getInt, getInts, getString, isDefaultDomain } from '../onnx/graph-edit';
import { constantNamed, intValues } from '../onnx/weight-use';
import { DataType } from '../tensor/dtypes';

export type Shape = number[];

export interface ShapeInfo {
  shapes: Map<string, Shape>;
  /** Values of small integer tensors known statically (stored shape constants and folded shape arithmetic). */
  ints: Map<string, number[]>;
}

/** Ops whose first output has the shape of their first input. */
export const SAME_SHAPE_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Elu',
  'Selu',
  'Celu',
  'Softplus',
  'Softsign',
  'Gelu',
  'Erf',
  'Identity',
  'Dropout',
  'Clip',
  'Cast',
  'CastLike',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'BatchNormalization',
  'LayerNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'LRN',
  'Mish',
  'Swish',
  'DequantizeLinear',
  'QuantizeLinear',
  'Not',
  'IsNaN',
  'IsInf',
  'ThresholdedRelu',
  'Shrink',
  'MeanVarianceNormalization',
]);
/** Ops whose output broadcasts all their inputs (numpy rules). */
export const BROADCAST_OPS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Where',
  'Sum',
  'Mean',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Mod',
  'BitShift',
]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const REDUCE = new Set([
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
  'ArgMax',
  'ArgMin',
]);

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
export const normalizeAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

export function broadcastShapes(shapes: readonly Shape[]): Shape {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: n }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - n + i] ?? 1;
      if (x !== 1) d = x;
    }
    return d;
  });
}

/** Output spatial size of a Conv / pool along each spatial axis. */
function convSpatial(node: NodeProto, input: Shape, kernel: number[]): number[] {
  const rank = kernel.length;
  const strides = getInts(node, 'strides') ?? kernel.map(() => 1);
  const dil = getInts(node, 'dilations') ?? kernel.map(() => 1);
  const pads = getInts(node, 'pads') ?? new Array(2 * rank).fill(0);
  const mode = getString(node, 'auto_pad', 'NOTSET');
  const ceil = getInt(node, 'ceil_mode', 0) === 1;
  return kernel.map((k, i) => {
    const size = input[2 + i]!;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(size / strides[i]!);
    const span = (k - 1) * dil[i]! + 1;
    const pad = mode === 'VALID' ? 0 : pads[i]! + pads[i + rank]!;
    const v = (size + pad - span) / strides[i]!;
    return (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
  });
}

function convTransposeSpatial(node: NodeProto, input: Shape, kernel: number[]): number[] {
  const rank = kernel.length;
  const explicit = getInts(node, 'output_shape');
  if (explicit) return explicit.slice(-rank);
  const strides = getInts(node, 'strides') ?? kernel.map(() => 1);
  const dil = getInts(node, 'dilations') ?? kernel.map(() => 1);
  const pads = getInts(node, 'pads') ?? new Array(2 * rank).fill(0);
  const outPad = getInts(node, 'output_padding') ?? kernel.map(() => 0);
  const mode = getString(node, 'auto_pad', 'NOTSET');
  return kernel.map((k, i) => {
    const size = input[2 + i]!;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return size * strides[i]!;
    return strides[i]! * (size - 1) + outPad[i]! + (k - 1) * dil[i]! + 1 - (mode === 'VALID' ? 0 : pads[i]! + pads[i + rank]!);
  });
}

/** Slice parameters (opset 10+: inputs; before: attributes), resolved against `dims`. */
export function sliceParams(
  node: NodeProto,
  ints: Map<string, number[]>,
  dims: Shape,
): { axis: number; start: number; end: number; step: number }[] | undefined {
  const fromInputs = node.input.length > 1;
  const starts = fromInputs ? ints.get(node.input[1]!) : getInts(node, 'starts');
  const ends = fromInputs ? ints.get(node.input[2]!) : getInts(node, 'ends');
  if (!starts || !ends || starts.length !== ends.length) return undefined;
  const axes = (fromInputs ? (node.input[3] ? ints.get(node.input[3]) : undefined) : getInts(node, 'axes')) ?? starts.map((_, i) => i);
  if (fromInputs && node.input[3] && !ints.has(node.input[3])) return undefined;
  const steps = (fromInputs && node.input[4] ? ints.get(node.input[4]) : undefined) ?? starts.map(() => 1);
  if (fromInputs && node.input[4] && !ints.has(node.input[4])) return undefined;
  return starts.map((s, i) => {
    const axis = normalizeAxis(axes[i]!, dims.length);
    const d = dims[axis]!;
    const step = steps[i]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
    const resolve = (v: number) => (v < 0 ? v + d : v);
    const start = step > 0 ? clamp(resolve(s), 0, d) : clamp(resolve(s), -1, d - 1);
    const end = step > 0 ? clamp(resolve(ends[i]!), 0, d) : clamp(resolve(ends[i]!), -1, d - 1);
    return { axis, start, end, step };
  });
}

/** Split sizes (from the `split` input or attribute, or equal parts), for a tensor of `size` along the axis. */
export function splitSizes(node: NodeProto, ints: Map<string, number[]>, size: number): number[] | undefined {
  const given = node.input[1] ? ints.get(node.input[1]) : getInts(node, 'split');
  if (node.input[1] && !given) return undefined;
  if (given) return given;
  const parts = getInt(node, 'num_outputs', node.output.length);
  const each = Math.ceil(size / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, size - i * each)));
}

/** Resize / Upsample: the output shape from constant scales or sizes. */
function resizeShape(node: NodeProto, x: Shape, ints: Map<string, number[]>, floats: (name: string | undefined) => number[] | undefined): Shape | undefined {
  const upsample = node.opType === 'Upsample';
  const scalesInput = upsample || node.input.length === 2 ? 1 : 2;
  const sizes = !upsample && node.input[3] ? ints.get(node.input[3]) : undefined;
  const axes = getInts(node, 'axes');
  if (sizes) {
    if (!axes) return sizes.length === x.length ? sizes : undefined;
    const out = [...x];
    axes.forEach((a, i) => (out[normalizeAxis(a, x.length)] = sizes[i]!));
    return out;
  }
  const scales = floats(node.input[scalesInput]) ?? (upsample ? getFloatsAttr(node, 'scales') : undefined);
  if (!scales || scales.length === 0) return undefined;
  const out = [...x];
  const targetAxes = axes ? axes.map((a) => normalizeAxis(a, x.length)) : x.map((_, i) => i);
  targetAxes.forEach((a, i) => (out[a] = Math.floor(x[a]! * scales[i]!)));
  return out;
}

function getFloatsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a ? [...a.floats] : undefined;
}

/** Shapes and folded integer values of every value of the main graph. */
export function inferShapes(model: ModelProto, inputDims: Record<string, number[]> = {}, catalog: TensorCatalog = buildCatalog(model)): ShapeInfo {
  const graph = model.graph!;
  const shapes = new Map<string, Shape>();
  const ints = new Map<string, number[]>();
  for (const e of catalog.entries) {
    if (e.graphPath !== 'main') continue;
    shapes.set(e.name, e.shape);
    if (e.dataType === DataType.INT64 || e.dataType === DataType.INT32) {
      const v = intValues(e);
      if (v) ints.set(e.name, v);
    }
  }
  const floatValues = (name: string | undefined): number[] | undefined => {
    const e = constantNamed(catalog, name);
    if (!e || e.external || e.elements > 16 || e.dataType !== DataType.FLOAT) return undefined;
    const t = e.tensor;
    if (t.rawData.byteLength) return Array.from(new Float32Array(t.rawData.slice().buffer));
    return [...t.floatData];
  };
  for (const input of graph.input) {
    if (shapes.has(input.name) || input.type?.value.case !== 'tensorType') continue;
    const dims = input.type.value.value.shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : 1)) ?? [];
    shapes.set(input.name, inputDims[input.name] ?? dims);
  }
  for (const node of graph.node) {
    if (!isDefaultDomain(node)) continue;
    const ins = node.input.map((n) => (n ? shapes.get(n) : undefined));
    const set = (i: number, s: Shape | undefined) => {
      if (s && node.output[i] && !s.some((d) => !Number.isFinite(d))) shapes.set(node.output[i]!, s);
    };
    const setInts = (v: number[] | undefined) => {
      if (v && node.output[0] && v.every(Number.isFinite)) ints.set(node.output[0], v.map(Math.trunc));
    };
    const x = ins[0];
    const op = node.opType;
    try {
      if (op === 'Conv' || op === 'ConvInteger') {
        const w = ins[op === 'Conv' ? 1 : 1];
        if (x && w) set(0, [x[0]!, w[0]!, ...convSpatial(node, x, getInts(node, 'kernel_shape') ?? w.slice(2))]);
      } else if (op === 'ConvTranspose') {
        const w = ins[1];
        if (x && w) set(0, [x[0]!, w[1]! * getInt(node, 'group', 1), ...convTransposeSpatial(node, x, getInts(node, 'kernel_shape') ?? w.slice(2))]);
      } else if (POOLS.has(op)) {
        const k = getInts(node, 'kernel_shape');
        if (x && k) {
          const out = [x[0]!, x[1]!, ...convSpatial(node, x, k)];
          set(0, out);
          set(1, out);
        }
      } else if (GLOBAL_POOLS.has(op)) {
        if (x) set(0, [x[0]!, x[1]!, ...x.slice(2).map(() => 1)]);
      } else if (SAME_SHAPE_OPS.has(op)) {
        set(0, x);
        if (op === 'Dropout') set(1, x);
        if (op === 'Cast' || op === 'Identity') setInts(ints.get(node.input[0]!));
      } else if (BROADCAST_OPS.has(op)) {
        if (ins.every((s) => s !== undefined)) set(0, broadcastShapes(ins as Shape[]));
        const vals = node.input.map((n) => ints.get(n));
        if (['Add', 'Sub', 'Mul', 'Div'].includes(op) && vals.length === 2 && vals[0] && vals[1]) {
          const [a, b] = vals as [number[], number[]];
          const n = Math.max(a.length, b.length);
          if ((a.length === n || a.length === 1) && (b.length === n || b.length === 1)) {
            setInts(
              Array.from({ length: n }, (_, i) => {
                const p = a[a.length === 1 ? 0 : i]!;
                const q = b[b.length === 1 ? 0 : i]!;
                return op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Mul' ? p * q : Math.trunc(p / q);
              }),
            );
          }
        }
      } else if (op === 'Flatten') {
        if (x) {
          const axis = normalizeAxis(getInt(node, 'axis', 1), x.length);
          set(0, [product(x.slice(0, axis)), product(x.slice(axis))]);
        }
      } else if (op === 'Reshape') {
        const target = ints.get(node.input[1] ?? '');
        if (x && target) {
          const total = product(x);
          const allowZero = getInt(node, 'allowzero', 0) === 1;
          const dims = target.map((d, i) => (d === 0 && !allowZero ? x[i]! : d));
          const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
          set(
            0,
            dims.map((d) => (d === -1 ? total / known : d)),
          );
        }
      } else if (op === 'Gemm') {
        const w = ins[1];
        if (x && w) set(0, [getInt(node, 'transA', 0) ? x[1]! : x[0]!, getInt(node, 'transB', 0) ? w[0]! : w[1]!]);
      } else if (op === 'MatMul' || op === 'MatMulInteger') {
        const w = ins[1];
        if (x && w) {
          const a = x.length === 1 ? [1, x[0]!] : x;
          const b = w.length === 1 ? [w[0]!, 1] : w;
          const out = [...broadcastShapes([a.slice(0, -2), b.slice(0, -2)]), a[a.length - 2]!, b[b.length - 1]!];
          if (x.length === 1) out.splice(out.length - 2, 1);
          if (w.length === 1) out.pop();
          set(0, out);
        }
      } else if (op === 'Transpose') {
        const perm = getInts(node, 'perm');
        if (x) set(0, perm ? perm.map((p) => x[p]!) : [...x].reverse());
      } else if (op === 'Concat') {
        if (ins.every((s) => s !== undefined) && ins.length) {
          const axis = normalizeAxis(getInt(node, 'axis', 0), ins[0]!.length);
          const out = [...ins[0]!];
          out[axis] = ins.reduce((n, s) => n + s![axis]!, 0);
          set(0, out);
        }
        const vals = node.input.map((n) => ints.get(n));
        if (vals.every((v) => v !== undefined)) setInts(vals.flat() as number[]);
      } else if (op === 'Split') {
        if (x) {
          const axis = normalizeAxis(getInt(node, 'axis', 0), x.length);
          const sizes = splitSizes(node, ints, x[axis]!);
          sizes?.forEach((s, i) => {
            const out = [...x];
            out[axis] = s;
            set(i, out);
          });
        }
      } else if (op === 'Slice') {
        if (x) {
          const params = sliceParams(node, ints, x);
          if (params) {
            const out = [...x];
            for (const p of params) out[p.axis] = Math.max(0, Math.ceil((p.end - p.start) / p.step));
            set(0, out);
            const v = ints.get(node.input[0]!);
            if (v && x.length === 1 && params.length === 1) {
              const p = params[0]!;
              const picked: number[] = [];
              for (let i = p.start; p.step > 0 ? i < p.end : i > p.end; i += p.step) picked.push(v[i]!);
              setInts(picked);
            }
          }
        }
      } else if (op === 'Squeeze' || op === 'Unsqueeze') {
        const axesRaw = getInts(node, 'axes') ?? (node.input[1] ? ints.get(node.input[1]) : undefined);
        if (x) {
          if (op === 'Squeeze') {
            const axes = axesRaw?.map((a) => normalizeAxis(a, x.length)) ?? x.flatMap((d, i) => (d === 1 ? [i] : []));
            set(
              0,
              x.filter((_, i) => !axes.includes(i)),
            );
          } else if (axesRaw) {
            const rank = x.length + axesRaw.length;
            const axes = axesRaw.map((a) => normalizeAxis(a, rank));
            const out: number[] = [];
            for (let i = 0, k = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[k++]!);
            set(0, out);
          }
        }
        setInts(ints.get(node.input[0]!));
      } else if (op === 'Resize' || op === 'Upsample') {
        if (x) set(0, resizeShape(node, x, ints, floatValues));
      } else if (op === 'Pad') {
        const pads = getInts(node, 'pads') ?? (node.input[1] ? ints.get(node.input[1]) : undefined);
        const axesIn = node.input[3] ? ints.get(node.input[3]) : undefined;
        if (x && pads) {
          const axes = axesIn?.map((a) => normalizeAxis(a, x.length)) ?? x.map((_, i) => i);
          const out = [...x];
          axes.forEach((a, i) => (out[a] = x[a]! + pads[i]! + pads[i + axes.length]!));
          set(0, out);
        }
      } else if (op === 'Shape') {
        if (x) {
          const start = normalizeAxis(getInt(node, 'start', 0), x.length);
          const endAttr = node.attribute.find((a) => a.name === 'end');
          const end = endAttr ? Math.min(x.length, normalizeAxis(Number(endAttr.i), x.length)) : x.length;
          const v = x.slice(Math.max(0, start), end);
          set(0, [v.length]);
          setInts(v);
        }
      } else if (op === 'Size') {
        set(0, []);
        if (x) setInts([product(x)]);
      } else if (op === 'Gather') {
        const idx = ins[1];
        if (x && idx) {
          const axis = normalizeAxis(getInt(node, 'axis', 0), x.length);
          set(0, [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]);
          const v = ints.get(node.input[0]!);
          const iv = ints.get(node.input[1]!);
          if (v && iv && x.length === 1) setInts(iv.map((i) => v[i < 0 ? i + v.length : i]!));
        }
      } else if (op === 'Constant') {
        // Stored in the catalog (shape and integer values are already known).
      } else if (op === 'ConstantOfShape') {
        set(0, ints.get(node.input[0]!));
      } else if (op === 'Expand') {
        const target = ints.get(node.input[1] ?? '');
        if (x && target) set(0, broadcastShapes([x, target]));
      } else if (op === 'Tile') {
        const reps = ints.get(node.input[1] ?? '');
        if (x && reps)
          set(
            0,
            x.map((d, i) => d * reps[i]!),
          );
      } else if (REDUCE.has(op)) {
        if (x) {
          const fromInput = node.input[1] ? ints.get(node.input[1]) : undefined;
          const raw = op === 'ArgMax' || op === 'ArgMin' ? [getInt(node, 'axis', 0)] : (getInts(node, 'axes') ?? fromInput);
          const noop = getInt(node, 'noop_with_empty_axes', 0) === 1;
          if (node.input[1] && !fromInput) throw new Error('axes unknown');
          const axes = raw?.map((a) => normalizeAxis(a, x.length)) ?? (noop ? [] : x.map((_, i) => i));
          const keep = getInt(node, 'keepdims', 1) === 1;
          set(0, keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)));
        }
      } else if (op === 'Range') {
        const [s, l, d] = node.input.map((n) => ints.get(n)?.[0]);
        if (s !== undefined && l !== undefined && d !== undefined && d !== 0) set(0, [Math.max(0, Math.ceil((l - s) / d))]);
      }
    } catch {
      // A malformed or unusual node: its outputs stay unknown.
    }
  }
  return { shapes, ints };
}
