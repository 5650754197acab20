import { groupCount, groupOf, roundHalfEven, type GroupGranularity, type GroupView, type Grouping, type QuantKernels } from '../../../kernels/quant';
import { referenceBackend } from '../../../kernels/ts/reference';
import type { DeviceTensor } from '../../../kernels/types';
import { floatToFp16Bits, fp16BitsToFloat } from '../../tensor/codecs';

/**
 * Weight quantization math (the reference every kernel backend is tested against).
 *
 * A tensor is viewed as [outer, D, inner] around one axis. Groups that share a scale and zero point:
 *   tensor  — one group;
 *   channel — one group per index along the axis (D groups), scale shape [D];
 *   block   — blocks of `blockSize` along the axis: group (o, ⌊d/B⌋, i), scale shape = the tensor shape with
 *             D replaced by ⌈D/B⌉ (DequantizeLinear's blocked layout).
 * Codes: q = clamp(roundHalfEven(f32(x · f32(1/scale))) + zp); dequantized y = f32((q − zp) · scale), the value
 * DequantizeLinear computes. (The kernels multiply by the reciprocal so every backend rounds identically.)
 */

export type Granularity = GroupGranularity;
export type RangeMethod = 'minmax' | 'percentile' | 'mse';

export interface QuantSpec {
  bits: number;
  symmetric: boolean;
  granularity: Granularity;
  blockSize: number;
  range: RangeMethod;
  /** For range = 'percentile': the percentile of |x| (symmetric) or the two-sided percentile kept, e.g. 99.99. */
  percentile: number;
  /** The dtype the scales are stored in (float16 for float16 weights: DequantizeLinear then yields float16). */
  scaleType?: 'float32' | 'float16';
}

export type { GroupView };

export interface QuantizedTensor {
  /** One code per element, in the tensor's element order (signed for symmetric, unsigned for asymmetric). */
  codes: Int16Array;
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** Dequantized values (what the runtime will compute with). */
  dequantized: Float32Array;
  signed: boolean;
  qmin: number;
  qmax: number;
  groups: number;
  /** Σx², Σ(x−y)², max|x−y| (from the kernel). */
  signal: number;
  noise: number;
  maxAbsError: number;
}

export { roundHalfEven };

/** Integer range of the codes: symmetric uses the narrow signed range [−(2^(b−1)−1), 2^(b−1)−1] so ±abs-max map exactly. */
export function codeRange(bits: number, symmetric: boolean): { qmin: number; qmax: number; signed: boolean } {
  return symmetric ? { qmin: -(2 ** (bits - 1) - 1), qmax: 2 ** (bits - 1) - 1, signed: true } : { qmin: 0, qmax: 2 ** bits - 1, signed: false };
}

export { groupCount };

/** Element indices of each group (for per-group percentiles on the host). */
export function groupIndices(view: GroupView, grouping: Grouping): Int32Array[] {
  const n = groupCount(view, grouping);
  const members: number[][] = Array.from({ length: n }, () => []);
  const { outer, axisLength: D, inner } = view;
  for (let o = 0; o < outer; o++)
    for (let d = 0; d < D; d++) for (let i = 0; i < inner; i++) members[groupOf(view, grouping, o, d, i)]!.push((o * D + d) * inner + i);
  return members.map((m) => Int32Array.from(m));
}

export interface GroupParams {
  scale: number;
  zeroPoint: number;
}

/** Smallest normal float32: scales below it would make 1/scale overflow to Infinity. */
const MIN_SCALE = 2 ** -126;

/** Scale and zero point covering [lo, hi] (zero always representable; scales at least the smallest normal float32). */
export function paramsForRange(lo: number, hi: number, bits: number, symmetric: boolean): GroupParams {
  const p = rawParamsForRange(lo, hi, bits, symmetric);
  return p.scale < MIN_SCALE ? { scale: MIN_SCALE, zeroPoint: symmetric ? 0 : p.zeroPoint } : p;
}

function rawParamsForRange(lo: number, hi: number, bits: number, symmetric: boolean): GroupParams {
  const { qmin, qmax } = codeRange(bits, symmetric);
  if (!(hi >= lo)) return { scale: 1, zeroPoint: symmetric ? 0 : qmin };
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

/** Clip ratios tried by the MSE search (1 = plain min-max). */
export const MSE_CLIP_RATIOS = Array.from({ length: 24 }, (_, k) => 1 - k * 0.03);

function percentileOf(sorted: Float32Array, q: number): number {
  const p = q * (sorted.length - 1);
  const lo = sorted[Math.floor(p)]!;
  return lo + (sorted[Math.ceil(p)]! - lo) * (p - Math.floor(p));
}

/** Ranges clipped at a percentile, per group (host: sorts each group's finite values). */
function percentileRanges(values: Float32Array, view: GroupView, spec: QuantSpec, min: Float32Array, max: Float32Array): void {
  const q = spec.percentile / 100;
  groupIndices(view, spec).forEach((idx, g) => {
    const finite = Float32Array.from(idx, (i) => values[i]!).filter((x) => Number.isFinite(x));
    if (finite.length < 2) return;
    if (spec.symmetric) {
      const a = percentileOf(finite.map(Math.abs).sort(), q);
      min[g] = -a;
      max[g] = a;
    } else {
      finite.sort();
      min[g] = percentileOf(finite, 1 - q);
      max[g] = percentileOf(finite, q);
    }
  });
}

/**
 * Quantizes one tensor on a kernel backend: per-group min/max → (percentile clip on the host, or MSE search
 * over clip ratios on the kernels) → scales and zero points → codes, dequantized values and error.
 * `codesOf`, when given, is quantized instead of `t` on the grid `t`'s ranges chose (GPTQ: the grid comes from the
 * original weights, the codes from the adjusted ones).
 */
export async function quantizeOn(
  kernels: QuantKernels,
  t: DeviceTensor,
  values: Float32Array,
  view: GroupView,
  spec: QuantSpec,
  codesOf?: DeviceTensor,
): Promise<QuantizedTensor> {
  const { qmin, qmax, signed } = codeRange(spec.bits, spec.symmetric);
  const grouping: Grouping = { granularity: spec.granularity, blockSize: spec.blockSize };
  const { min, max } = await kernels.groupMinMax(t, view, grouping);
  const groups = min.length;
  if (spec.range === 'percentile') percentileRanges(values, view, spec, min, max);
  const chosen: GroupParams[] = new Array(groups);
  if (spec.range === 'mse') {
    const C = MSE_CLIP_RATIOS.length;
    const scales = new Float32Array(groups * C);
    const zeroPoints = new Int32Array(groups * C);
    const candidates: GroupParams[] = new Array(groups * C);
    for (let g = 0; g < groups; g++) {
      MSE_CLIP_RATIOS.forEach((r, c) => {
        const p = paramsForRange(min[g]! * r, max[g]! * r, spec.bits, spec.symmetric);
        candidates[g * C + c] = p;
        scales[g * C + c] = p.scale;
        zeroPoints[g * C + c] = p.zeroPoint;
      });
    }
    const invScales = scales.map((s) => Math.fround(1 / s));
    const errors = await kernels.candidateErrors(t, view, grouping, { candidates: C, scales, invScales, zeroPoints, qmin, qmax });
    for (let g = 0; g < groups; g++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (errors[g * C + c]! < errors[g * C + best]!) best = c;
      chosen[g] = candidates[g * C + best]!;
    }
  } else {
    for (let g = 0; g < groups; g++) chosen[g] = paramsForRange(min[g]!, max[g]!, spec.bits, spec.symmetric);
  }
  const scales = Float32Array.from(chosen, (p) => (spec.scaleType === 'float16' ? halfScale(p.scale) : p.scale));
  const zeroPoints = Int32Array.from(chosen, (p) => p.zeroPoint);
  const invScales = scales.map((s) => Math.fround(1 / s));
  const out = await kernels.quantizeGroups(codesOf ?? t, view, grouping, { scales, invScales, zeroPoints, qmin, qmax });
  return { ...out, scales, zeroPoints, signed, qmin, qmax, groups };
}

/** Smallest normal float16: a float16 scale below it would lose precision (and 1/scale would overflow float16). */
const MIN_HALF_SCALE = 2 ** -14;

/** A scale as float16 stores it (codes are then computed with exactly that scale). */
export function halfScale(scale: number): number {
  return fp16BitsToFloat(floatToFp16Bits(Math.max(scale, MIN_HALF_SCALE)));
}

/** Quantizes on the TypeScript reference kernels. */
export async function quantizeTensor(values: Float32Array, view: GroupView, spec: QuantSpec): Promise<QuantizedTensor> {
  const t = await referenceBackend.upload(values);
  return quantizeOn(referenceBackend.quant!, t, values, view, spec);
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

export { packNibblesOf as packNibbles } from '../../../kernels/ts/quant-reference';
