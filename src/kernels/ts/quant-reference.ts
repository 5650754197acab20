import { dequantizeCode, groupCount, groupOf, quantizeCode, type GroupView, type Grouping, type QuantKernels, type QuantizedGroups } from '../quant';

/** Calls visit(group, index) for every element in element order. */
function forEach(view: GroupView, grouping: Grouping, visit: (group: number, index: number) => void): void {
  const { outer, axisLength: D, inner } = view;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < D; d++) {
      const base = (o * D + d) * inner;
      for (let i = 0; i < inner; i++) visit(groupOf(view, grouping, o, d, i), base + i);
    }
  }
}

export function groupMinMaxOf(data: Float32Array, view: GroupView, grouping: Grouping): { min: Float32Array; max: Float32Array } {
  const n = groupCount(view, grouping);
  const min = new Float32Array(n).fill(Infinity);
  const max = new Float32Array(n).fill(-Infinity);
  forEach(view, grouping, (g, i) => {
    const x = data[i]!;
    if (x - x !== 0) return;
    if (x < min[g]!) min[g] = x;
    if (x > max[g]!) max[g] = x;
  });
  return { min, max };
}

export function quantizeGroupsOf(
  data: Float32Array,
  view: GroupView,
  grouping: Grouping,
  p: { scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
): QuantizedGroups {
  const codes = new Int16Array(data.length);
  const dequantized = new Float32Array(data.length);
  let signal = 0;
  let noise = 0;
  let maxAbsError = 0;
  forEach(view, grouping, (g, i) => {
    const x = data[i]!;
    const zp = p.zeroPoints[g]!;
    const q = quantizeCode(x, p.invScales[g]!, zp, p.qmin, p.qmax);
    const y = dequantizeCode(q, p.scales[g]!, zp);
    codes[i] = q;
    dequantized[i] = y;
    if (Number.isFinite(x)) {
      const e = x - y;
      signal += x * x;
      noise += e * e;
      if (Math.abs(e) > maxAbsError) maxAbsError = Math.abs(e);
    }
  });
  return { codes, dequantized, signal, noise, maxAbsError };
}

export function candidateErrorsOf(
  data: Float32Array,
  view: GroupView,
  grouping: Grouping,
  p: { candidates: number; scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
): Float64Array {
  const C = p.candidates;
  const errors = new Float64Array(groupCount(view, grouping) * C);
  forEach(view, grouping, (g, i) => {
    const x = data[i]!;
    if (x - x !== 0) return;
    for (let c = 0; c < C; c++) {
      const k = g * C + c;
      const zp = p.zeroPoints[k]!;
      const y = dequantizeCode(quantizeCode(x, p.invScales[k]!, zp, p.qmin, p.qmax), p.scales[k]!, zp);
      errors[k]! += (x - y) * (x - y);
    }
  });
  return errors;
}

export function packNibblesOf(codes: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) out[i >> 1]! |= (codes[i]! & 0xf) << ((i & 1) * 4);
  return out;
}

/** Plain-TypeScript quantization kernels on host arrays (the reference). */
export function hostQuantKernels(host: (t: import('../types').DeviceTensor) => Float32Array): QuantKernels {
  return {
    groupMinMax: async (t, view, grouping) => groupMinMaxOf(host(t), view, grouping),
    quantizeGroups: async (t, view, grouping, params) => quantizeGroupsOf(host(t), view, grouping, params),
    candidateErrors: async (t, view, grouping, params) => candidateErrorsOf(host(t), view, grouping, params),
    packNibbles: async (codes) => packNibblesOf(codes),
  };
}
