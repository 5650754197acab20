/**
 * The compute-kernel layer: one interface, several implementations (plain TypeScript reference,
 * WASM SIMD, WebGPU). Every implementation must equal the reference: exactly for integer outputs
 * (histogram counts, NaN/Inf/zero counts, min/max), within stated tolerances for float sums.
 */

import type { LinalgKernels } from './linalg';
import type { PruneKernels } from './prune';
import type { QuantKernels } from './quant';

export type BackendName = 'ts' | 'wasm' | 'webgpu';

/** Data held where a backend computes on it (JS memory, the WASM heap, a GPU buffer). Upload once, run many kernels. */
export interface DeviceTensor {
  readonly length: number;
  dispose(): void;
}

/** Whole-tensor moments. min/max/sum/sumSq/absMax cover finite values only; NaN and ±Inf are counted apart. */
export interface MomentStats {
  count: number;
  nanCount: number;
  posInfCount: number;
  negInfCount: number;
  /** Exact zeros (+0 and -0). */
  zeroCount: number;
  /** NaN when there is no finite value. */
  min: number;
  max: number;
  /** float64 (TS, WASM) or float32-partials-summed-in-float64 (WebGPU) accumulation. */
  sum: number;
  sumSq: number;
  absMax: number;
}

/** Element (o, c, i) of a tensor viewed as [outer, channels, inner] sits at (o * channels + c) * inner + i. */
export interface ChannelLayout {
  outer: number;
  channels: number;
  inner: number;
}

/** Per-channel moments over finite values; a channel with no finite value has min = max = NaN. */
export interface ChannelStats {
  min: Float32Array;
  max: Float32Array;
  absMax: Float32Array;
  sum: Float64Array;
  sumSq: Float64Array;
}

export interface KernelBackend {
  readonly name: BackendName;
  upload(data: Float32Array): Promise<DeviceTensor>;
  moments(t: DeviceTensor): Promise<MomentStats>;
  /**
   * Counts finite values in [lo, hi] into `bins` equal bins, computed in float32 exactly as
   * `histogramBin` below so every backend agrees bit for bit. Values outside [lo, hi] are not counted.
   */
  histogram(t: DeviceTensor, bins: number, lo: number, hi: number): Promise<Uint32Array>;
  channelStats(t: DeviceTensor, layout: ChannelLayout): Promise<ChannelStats>;
  /**
   * Copies out the values whose histogram bin (same parameters and arithmetic as `histogram`) is one of
   * `wanted` (ascending bin indices), one array per wanted bin, values in any order. Used for exact quantiles.
   */
  gatherBins(t: DeviceTensor, bins: number, lo: number, hi: number, wanted: Int32Array): Promise<Float32Array[]>;
  /** IEEE half (fp16) or bfloat16 bit patterns → float32. */
  decodeHalf(bits: Uint16Array, kind: 'fp16' | 'bf16'): Promise<Float32Array>;
  /** Quantization kernels (./quant.ts), where this backend has them. */
  quant?: QuantKernels;
  /** Pruning kernels (./prune.ts), where this backend has them. */
  prune?: PruneKernels;
  /** Linear-algebra kernels of GPTQ / SparseGPT (./linalg.ts), where this backend has them. */
  linalg?: LinalgKernels;
}

/** float32 parameters of the histogram kernel, shared by every backend. */
export function histogramParams(bins: number, lo: number, hi: number): { lo: number; hi: number; scale: number } {
  const flo = Math.fround(lo);
  const fhi = Math.fround(hi);
  const width = fhi - flo;
  return { lo: flo, hi: fhi, scale: width > 0 ? Math.fround(bins / width) : 0 };
}

/**
 * The bin of value x, or -1 when x is not counted. All arithmetic in float32:
 * bin = floor(f32(f32(x - lo) * scale)), clamped to bins - 1 (x = hi lands in the last bin).
 */
export function histogramBin(x: number, bins: number, lo: number, hi: number, scale: number): number {
  if (!(x >= lo && x <= hi)) return -1; // also rejects NaN
  const b = Math.floor(Math.fround(Math.fround(x - lo) * scale));
  return b >= bins ? bins - 1 : b;
}
