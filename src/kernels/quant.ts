/**
 * Quantization kernels: the part of the kernel layer that quantization and its error use.
 *
 * A tensor is viewed as [outer, D, inner] around one axis; groups share a scale and zero point:
 *   tensor  — one group;  channel — group d (D groups);
 *   block   — group (o·⌈D/B⌉ + ⌊d/B⌋)·inner + i  (DequantizeLinear's blocked layout).
 *
 * Arithmetic every backend reproduces exactly (float32, only correctly rounded operations):
 *   q = clamp(roundHalfEven(f32(x · invScale)) + zp, qmin, qmax),  y = f32((q − zp) · scale)
 * with invScale = f32(1 / scale) computed once per group on the host. Non-finite x are treated as 0.
 */
import type { DeviceTensor } from './types';

export type GroupGranularity = 'tensor' | 'channel' | 'block';

export interface GroupView {
  outer: number;
  axisLength: number;
  inner: number;
}

export interface Grouping {
  granularity: GroupGranularity;
  blockSize: number;
}

export interface QuantizedGroups {
  /** One code per element, in element order. */
  codes: Int16Array;
  dequantized: Float32Array;
  /** Σx² and Σ(x − y)² over the tensor (float64 or float32 partials summed in float64), max |x − y|. */
  signal: number;
  noise: number;
  maxAbsError: number;
}

export interface QuantKernels {
  /** Per-group min and max over finite values (+Inf / −Inf for a group with none). */
  groupMinMax(t: DeviceTensor, view: GroupView, grouping: Grouping): Promise<{ min: Float32Array; max: Float32Array }>;
  quantizeGroups(
    t: DeviceTensor,
    view: GroupView,
    grouping: Grouping,
    params: { scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
  ): Promise<QuantizedGroups>;
  /**
   * Squared error of each group under each candidate (scale, zero point): candidates are laid out
   * [group][candidate] in `params`. Returns errors [group · candidates + c]. Used by the MSE clipping search.
   */
  candidateErrors(
    t: DeviceTensor,
    view: GroupView,
    grouping: Grouping,
    params: { candidates: number; scales: Float32Array; invScales: Float32Array; zeroPoints: Int32Array; qmin: number; qmax: number },
  ): Promise<Float64Array>;
  /** Packs codes of ≤ 4 bits two per byte, element i in the low nibble when i is even (ONNX int4/uint4 order). */
  packNibbles(codes: Int16Array): Promise<Uint8Array>;
}

export function groupCount(view: GroupView, grouping: Grouping): number {
  if (grouping.granularity === 'tensor') return 1;
  if (grouping.granularity === 'channel') return view.axisLength;
  return view.outer * Math.ceil(view.axisLength / grouping.blockSize) * view.inner;
}

/** Group of element (o, d, i). */
export function groupOf(view: GroupView, grouping: Grouping, o: number, d: number, i: number): number {
  if (grouping.granularity === 'tensor') return 0;
  if (grouping.granularity === 'channel') return d;
  return (o * Math.ceil(view.axisLength / grouping.blockSize) + Math.floor(d / grouping.blockSize)) * view.inner + i;
}

export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** The exact per-element quantizer every backend implements. */
export function quantizeCode(x: number, invScale: number, zp: number, qmin: number, qmax: number): number {
  const v = Number.isFinite(x) ? x : 0;
  const q = roundHalfEven(Math.fround(v * invScale)) + zp;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

export function dequantizeCode(q: number, scale: number, zp: number): number {
  return Math.fround((q - zp) * scale);
}
