/**
 * Weight quantization math (the reference every kernel backend is tested against).
 *
 * A tensor is viewed as [outer, D, inner] around one axis. Groups that share a scale and zero point:
 *   tensor  — one group;
 *   channel — one group per index along the axis (D groups), scale shape [D];
 *   block   — blocks of `blockSize` along the axis: group (o, ⌊d/B⌋, i), scale shape = the tensor shape with
 *             D replaced by ⌈D/B⌉ (DequantizeLinear's blocked layout).
 * Codes follow ONNX QuantizeLinear: q = clamp(roundHalfEven(x / scale) + zp); dequantized y = (q − zp) · scale in float32.
 */

export type Granularity = 'tensor' | 'channel' | 'block';
export type RangeMethod = 'minmax' | 'percentile' | 'mse';

export interface QuantSpec {
  bits: number;
  symmetric: boolean;
  granularity: Granularity;
  blockSize: number;
  range: RangeMethod;
  /** For range = 'percentile': the percentile of |x| (symmetric) or the two-sided percentile kept, e.g. 99.99. */
  percentile: number;
}

export interface GroupView {
  outer: number;
  axisLength: number;
  inner: number;
}

export interface QuantizedTensor {
  /** One code per element, in the tensor's element order (signed for symmetric, unsigned for asymmetric). */
  codes: Int32Array;
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** Dequantized values (what the runtime will compute with). */
  dequantized: Float32Array;
  signed: boolean;
  qmin: number;
  qmax: number;
  groups: number;
}

export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Integer range of the codes: symmetric uses the narrow signed range [−(2^(b−1)−1), 2^(b−1)−1] so ±abs-max map exactly. */
export function codeRange(bits: number, symmetric: boolean): { qmin: number; qmax: number; signed: boolean } {
  return symmetric ? { qmin: -(2 ** (bits - 1) - 1), qmax: 2 ** (bits - 1) - 1, signed: true } : { qmin: 0, qmax: 2 ** bits - 1, signed: false };
}

export function groupCount(view: GroupView, spec: Pick<QuantSpec, 'granularity' | 'blockSize'>): number {
  if (spec.granularity === 'tensor') return 1;
  if (spec.granularity === 'channel') return view.axisLength;
  return view.outer * Math.ceil(view.axisLength / spec.blockSize) * view.inner;
}

/** Calls visit(group, elementIndex) for every element, grouped as the spec says. */
export function forEachGroupElement(view: GroupView, spec: Pick<QuantSpec, 'granularity' | 'blockSize'>, visit: (group: number, index: number) => void): void {
  const { outer, axisLength: D, inner } = view;
  const blocks = Math.ceil(D / spec.blockSize);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < D; d++) {
      const base = (o * D + d) * inner;
      for (let i = 0; i < inner; i++) {
        const g = spec.granularity === 'tensor' ? 0 : spec.granularity === 'channel' ? d : (o * blocks + Math.floor(d / spec.blockSize)) * inner + i;
        visit(g, base + i);
      }
    }
  }
}

/** Element indices of each group (cheap for the sizes weights have; keeps the range search simple). */
export function groupIndices(view: GroupView, spec: Pick<QuantSpec, 'granularity' | 'blockSize'>): Int32Array[] {
  const n = groupCount(view, spec);
  const sizes = new Int32Array(n);
  forEachGroupElement(view, spec, (g) => sizes[g]!++);
  const out = Array.from(sizes, (s) => new Int32Array(s));
  const fill = new Int32Array(n);
  forEachGroupElement(view, spec, (g, idx) => {
    out[g]![fill[g]!++] = idx;
  });
  return out;
}

interface GroupParams {
  scale: number;
  zeroPoint: number;
}

/** Scale and zero point covering [lo, hi] (zero always representable). */
export function paramsForRange(lo: number, hi: number, bits: number, symmetric: boolean): GroupParams {
  const { qmin, qmax } = codeRange(bits, symmetric);
  if (symmetric) {
    const absMax = Math.max(Math.abs(lo), Math.abs(hi));
    return { scale: absMax > 0 ? Math.fround(absMax / qmax) : 1, zeroPoint: 0 };
  }
  const rmin = Math.min(lo, 0);
  const rmax = Math.max(hi, 0);
  if (rmax === rmin) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((rmax - rmin) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - rmin / scale)));
  return { scale, zeroPoint };
}

function quantizeValue(x: number, p: GroupParams, qmin: number, qmax: number): number {
  const q = roundHalfEven(x / p.scale) + p.zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

function groupError(values: Float32Array, idx: Int32Array, p: GroupParams, qmin: number, qmax: number): number {
  let err = 0;
  for (let k = 0; k < idx.length; k++) {
    const x = values[idx[k]!]!;
    const y = Math.fround((quantizeValue(x, p, qmin, qmax) - p.zeroPoint) * p.scale);
    err += (x - y) * (x - y);
  }
  return err;
}

/** Clip ratios tried by the MSE search (1 = plain min-max). */
export const MSE_CLIP_RATIOS = Array.from({ length: 24 }, (_, k) => 1 - k * 0.03);

function percentileOf(sorted: Float32Array, q: number): number {
  const p = q * (sorted.length - 1);
  const lo = sorted[Math.floor(p)]!;
  return lo + (sorted[Math.ceil(p)]! - lo) * (p - Math.floor(p));
}

function chooseParams(values: Float32Array, idx: Int32Array, spec: QuantSpec, qmin: number, qmax: number): GroupParams {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < idx.length; k++) {
    const x = values[idx[k]!]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (idx.length === 0 || !Number.isFinite(lo)) return { scale: 1, zeroPoint: spec.symmetric ? 0 : Math.max(qmin, Math.min(qmax, 0)) };
  if (spec.range === 'percentile' && idx.length > 1) {
    const q = spec.percentile / 100;
    if (spec.symmetric) {
      const abs = Float32Array.from(idx, (i) => Math.abs(values[i]!)).sort();
      const a = percentileOf(abs, q);
      lo = -a;
      hi = a;
    } else {
      const sorted = Float32Array.from(idx, (i) => values[i]!).sort();
      lo = percentileOf(sorted, 1 - q);
      hi = percentileOf(sorted, q);
    }
  }
  if (spec.range === 'mse') {
    let best = paramsForRange(lo, hi, spec.bits, spec.symmetric);
    let bestErr = groupError(values, idx, best, qmin, qmax);
    for (const ratio of MSE_CLIP_RATIOS.slice(1)) {
      const p = paramsForRange(lo * ratio, hi * ratio, spec.bits, spec.symmetric);
      const err = groupError(values, idx, p, qmin, qmax);
      if (err < bestErr) {
        best = p;
        bestErr = err;
      }
    }
    return best;
  }
  return paramsForRange(lo, hi, spec.bits, spec.symmetric);
}

export function quantizeTensor(values: Float32Array, view: GroupView, spec: QuantSpec): QuantizedTensor {
  const { qmin, qmax, signed } = codeRange(spec.bits, spec.symmetric);
  const groups = groupIndices(view, spec);
  const scales = new Float32Array(groups.length);
  const zeroPoints = new Int32Array(groups.length);
  const codes = new Int32Array(values.length);
  const dequantized = new Float32Array(values.length);
  groups.forEach((idx, g) => {
    const p = chooseParams(values, idx, spec, qmin, qmax);
    scales[g] = p.scale;
    zeroPoints[g] = p.zeroPoint;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      const q = quantizeValue(values[i]!, p, qmin, qmax);
      codes[i] = q;
      dequantized[i] = Math.fround((q - p.zeroPoint) * p.scale);
    }
  });
  return { codes, scales, zeroPoints, dequantized, signed, qmin, qmax, groups: groups.length };
}

export interface QuantError {
  /** 10·log10(Σx² / Σ(x−y)²); Infinity when exact. */
  sqnrDb: number;
  /** ‖x − y‖ / ‖x‖. */
  relError: number;
  maxAbsError: number;
}

export function quantError(original: Float32Array, approx: Float32Array): QuantError {
  let signal = 0;
  let noise = 0;
  let maxAbs = 0;
  for (let i = 0; i < original.length; i++) {
    const x = original[i]!;
    const e = x - approx[i]!;
    signal += x * x;
    noise += e * e;
    if (Math.abs(e) > maxAbs) maxAbs = Math.abs(e);
  }
  return {
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    relError: signal === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / signal),
    maxAbsError: maxAbs,
  };
}

/** Packs codes of ≤ 4 bits two per byte, element i in the low nibble of byte i/2 when i is even (ONNX int4/uint4 order). */
export function packNibbles(codes: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) out[i >> 1]! |= (codes[i]! & 0xf) << ((i & 1) * 4);
  return out;
}
