/**
 * Activation statistics gathered while the teacher runs on calibration data, and the four ways to turn them into
 * a quantization range: MinMax, Percentile, Entropy (KL divergence, TensorRT's definition as onnxruntime uses it)
 * and MSE.
 *
 * The histogram is streamed: it covers [−R, R] in a fixed number of equal bins with R a power of two. When a
 * value beyond R arrives, R doubles and each half's bins merge pairwise (exactly: bin edges nest), so memory stays
 * constant and no second pass over the data is needed. Its resolution is at worst half of a histogram fitted to
 * the final range.
 */
import { roundHalfEven } from '../../kernels/quant';

/** Bins of each half (negative, positive) of an activation histogram. */
export const HALF_BINS = 2048;

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';
export const CALIBRATION_METHODS: CalibrationMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];

export interface ActivationStats {
  min: number;
  max: number;
  /** Values seen (NaN/Inf excluded). */
  count: number;
  /** Half range of the histogram (a power of two). */
  range: number;
  /** 2·HALF_BINS counts; bin k covers [−R + k·w, −R + (k+1)·w), w = R / HALF_BINS. */
  bins: Float64Array;
  /**
   * Σ values per channel (axis 1 of NCHW / [N, C], the last axis of [B, T, C]) and the values per channel summed,
   * when every chunk came with the same channel count: the teacher's input means, for bias correction.
   */
  channelSums?: Float64Array;
  channelCount?: number;
}

/** The channel axis read from a captured tensor's dims (undefined for scalars and vectors). */
export function channelAxisOf(dims: readonly number[]): number | undefined {
  return dims.length === 3 ? 2 : dims.length >= 2 ? 1 : undefined;
}

/** Per-channel means of the values seen, or undefined when they were not gathered. */
export function channelMeans(stats: ActivationStats): Float64Array | undefined {
  if (!stats.channelSums || !stats.channelCount) return undefined;
  return stats.channelSums.map((v) => v / stats.channelCount!);
}

function accumulateChannels(stats: ActivationStats, values: ArrayLike<number>, dims: readonly number[]): void {
  const axis = channelAxisOf(dims);
  if (axis === undefined || stats.channelCount === -1) return;
  const C = dims[axis]!;
  if (stats.channelSums && stats.channelSums.length !== C) {
    stats.channelSums = undefined;
    stats.channelCount = -1;
    return;
  }
  const sums = (stats.channelSums ??= new Float64Array(C));
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = values.length / (C * inner);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < C; c++) {
      let sum = 0;
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = values[base + i]!;
        if (Number.isFinite(v)) sum += v;
      }
      sums[c]! += sum;
    }
  stats.channelCount = (stats.channelCount ?? 0) + outer * inner;
}

export function emptyStats(halfBins = HALF_BINS): ActivationStats {
  return { min: Infinity, max: -Infinity, count: 0, range: 0, bins: new Float64Array(2 * halfBins) };
}

/** Doubles the histogram's range until it covers `absMax` (pairs of bins merge, counted from the centre out). */
function grow(stats: ActivationStats, absMax: number): void {
  if (stats.range === 0) {
    stats.range = 2 ** Math.ceil(Math.log2(Math.max(absMax, 2 ** -40)));
    if (stats.range < absMax) stats.range *= 2;
    return;
  }
  const half = stats.bins.length / 2;
  while (stats.range < absMax) {
    const next = new Float64Array(stats.bins.length);
    for (let j = 0; j < half; j++) {
      next[half + (j >> 1)] += stats.bins[half + j]!; // positive side: j-th bin from the centre
      next[half - 1 - (j >> 1)] += stats.bins[half - 1 - j]!; // negative side, mirrored
    }
    stats.bins = next;
    stats.range *= 2;
  }
}

/** Adds a chunk of values to the statistics (with its dims, per-channel sums too). */
export function accumulate(stats: ActivationStats, values: ArrayLike<number>, dims?: readonly number[]): void {
  if (dims) accumulateChannels(stats, values, dims);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return; // nothing finite
  stats.min = Math.min(stats.min, lo);
  stats.max = Math.max(stats.max, hi);
  grow(stats, Math.max(Math.abs(lo), Math.abs(hi)));
  const half = stats.bins.length / 2;
  const perBin = half / stats.range;
  const last = stats.bins.length - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const k = Math.floor(v * perBin) + half;
    stats.bins[k > last ? last : k < 0 ? 0 : k]!++;
    stats.count++;
  }
}

/** Merges statistics gathered elsewhere (another worker, another chunk) into `into`. */
export function mergeStats(into: ActivationStats, from: ActivationStats): void {
  if (from.count === 0) return;
  grow(into, from.range);
  const copy: ActivationStats = { ...from, bins: Float64Array.from(from.bins) };
  grow(copy, into.range);
  for (let k = 0; k < into.bins.length; k++) into.bins[k]! += copy.bins[k]!;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
  if (into.count === 0 && from.channelSums) {
    into.channelSums = Float64Array.from(from.channelSums);
    into.channelCount = from.channelCount;
  } else if (into.channelSums && from.channelSums && into.channelSums.length === from.channelSums.length) {
    for (let c = 0; c < into.channelSums.length; c++) into.channelSums[c]! += from.channelSums[c]!;
    into.channelCount! += from.channelCount!;
  } else {
    into.channelSums = undefined;
    into.channelCount = -1;
  }
  into.count += from.count;
}

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** Percentile kept for 'percentile' (two-sided), e.g. 99.99. */
  percentile?: number;
  /** Quantized levels the range is split into (256 for 8 bits). */
  levels?: number;
}

export interface Range {
  min: number;
  max: number;
}

const binWidth = (s: ActivationStats) => (2 * s.range) / s.bins.length;

/** The value below which `fraction` of the counts lie (linear inside a bin). */
function quantileOf(s: ActivationStats, fraction: number): number {
  const target = fraction * s.count;
  const w = binWidth(s);
  let seen = 0;
  for (let k = 0; k < s.bins.length; k++) {
    const c = s.bins[k]!;
    if (c > 0 && seen + c >= target) return -s.range + (k + (target - seen) / c) * w;
    seen += c;
  }
  return s.max;
}

/** Two-sided percentile range: the lowest (100 − p)% and the highest (100 − p)% are clipped. */
export function percentileRange(s: ActivationStats, percentile: number): Range {
  const tail = (100 - percentile) / 100;
  return { min: Math.max(s.min, quantileOf(s, tail)), max: Math.min(s.max, quantileOf(s, 1 - tail)) };
}

/**
 * KL(P‖Q) of TensorRT's entropy calibration for one candidate threshold of `i` bins: P = the first i bins with
 * everything beyond folded into the last; Q = the first i bins merged into `levels` groups, each group's total
 * spread evenly over its non-empty bins (empty bins stay empty). Natural log; 0·log 0 = 0; a bin where P > 0 and
 * Q = 0 costs nothing (TensorRT smooths it away; with this spreading it cannot occur).
 */
export function klDivergence(hist: ArrayLike<number>, i: number, levels: number): number {
  const p = new Float64Array(i);
  for (let k = 0; k < i; k++) p[k] = hist[k]!;
  let outliers = 0;
  for (let k = i; k < hist.length; k++) outliers += hist[k]!;
  p[i - 1]! += outliers;
  const q = new Float64Array(i);
  const per = i / levels;
  for (let g = 0; g < levels; g++) {
    const start = Math.floor(g * per);
    const end = g === levels - 1 ? i : Math.floor((g + 1) * per);
    let total = 0;
    let nonZero = 0;
    for (let k = start; k < end; k++) {
      total += hist[k]!;
      if (hist[k]! !== 0) nonZero++;
    }
    for (let k = start; k < end; k++) if (hist[k]! !== 0) q[k] = total / nonZero;
  }
  const sumP = p.reduce((a, b) => a + b, 0);
  const sumQ = q.reduce((a, b) => a + b, 0);
  if (sumP === 0 || sumQ === 0) return Infinity;
  let kl = 0;
  for (let k = 0; k < i; k++) {
    const pk = p[k]! / sumP;
    const qk = q[k]! / sumQ;
    if (pk > 0 && qk > 0) kl += pk * Math.log(pk / qk);
  }
  return kl;
}

/** The number of bins (from `levels` to all) whose threshold minimises the KL divergence. */
export function entropyBins(hist: ArrayLike<number>, levels: number): number {
  if (hist.length <= levels) return hist.length;
  let best = hist.length;
  let bestKl = Infinity;
  for (let i = levels; i <= hist.length; i++) {
    const kl = klDivergence(hist, i, levels);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

/** Entropy calibration needs this many values per quantization level; sparser tensors keep min-max. */
export const ENTROPY_MIN_VALUES_PER_LEVEL = 64;

/**
 * Entropy calibration, each side of zero on its own: the threshold T = (bins kept + 0.5) · bin width, as TensorRT
 * (and onnxruntime's entropy calibrator) place it, clipped to the observed range. Each side gets the share of the
 * `levels` the asymmetric grid written gives it (all of them for tensors that are never negative). Folding |x| into
 * one histogram mixed the sides: after Max(x, −0.4) the spike at −0.4 landed on +0.4, and the KL search then kept
 * the spike and clipped the positive tail at 0.45 of its 3.3 (openWakeWord's embedding model fell to 2 dB).
 */
export function entropyRange(s: ActivationStats, levels = 256): Range {
  const span = s.max - Math.min(s.min, 0);
  const maxT = s.max > 0 ? sideThreshold(s, 1, Math.max(2, Math.round((levels * s.max) / span))) : s.max;
  const minT = s.min < 0 ? -sideThreshold(s, -1, Math.max(2, Math.round((levels * -s.min) / span))) : s.min;
  return { min: Math.max(s.min, minT), max: Math.min(s.max, maxT) };
}

/** The KL threshold of one side's magnitudes (side 1: x > 0, −1: x < 0); its observed extreme when that side is sparse. */
function sideThreshold(s: ActivationStats, side: 1 | -1, levels: number): number {
  const half = s.bins.length / 2;
  const w = s.range / half;
  const extreme = side === 1 ? s.max : -s.min;
  const hist = new Float64Array(half);
  let count = 0;
  for (let j = 0; j < half; j++) count += hist[j] = s.bins[side === 1 ? half + j : half - 1 - j]!;
  // KL on a sparse histogram (a few hundred values: logits, pooled features) rewards any threshold whose bins hold
  // one value each, and clips far too much: such sides keep their observed extreme.
  if (count < ENTROPY_MIN_VALUES_PER_LEVEL * levels) return extreme;
  let last = half;
  while (last > 0 && hist[last - 1] === 0) last--;
  const bins = entropyBins(hist.subarray(0, Math.max(last, 1)), levels);
  return Math.min((bins + 0.5) * w, extreme);
}

/** Clip ratios the MSE search tries (1 = min-max), finer than the weights' search: activations have long tails. */
export const ACTIVATION_CLIP_RATIOS = Array.from({ length: 100 }, (_, k) => 1 - k * 0.0095);

/** Scale and zero point of an asymmetric range on `levels` codes (0 … levels − 1), zero representable. */
export function affineParams(range: Range, levels = 256): { scale: number; zeroPoint: number } {
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  if (!(hi > lo)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / (levels - 1));
  const zeroPoint = Math.min(levels - 1, Math.max(0, roundHalfEven(-lo / scale)));
  return { scale, zeroPoint };
}

/** Σ count · (x − dequant(quant(x)))² over the bin centres: the expected squared error of a range. */
export function histogramMse(s: ActivationStats, range: Range, levels = 256): number {
  const { scale, zeroPoint } = affineParams(range, levels);
  const w = binWidth(s);
  let err = 0;
  for (let k = 0; k < s.bins.length; k++) {
    const c = s.bins[k]!;
    if (c === 0) continue;
    const x = -s.range + (k + 0.5) * w;
    const q = Math.min(levels - 1, Math.max(0, roundHalfEven(x / scale) + zeroPoint));
    err += c * (x - (q - zeroPoint) * scale) ** 2;
  }
  return err;
}

/** The min-max range shrunk by the ratio (of ACTIVATION_CLIP_RATIOS) with the least expected squared error. */
export function mseRange(s: ActivationStats, levels = 256, ratios = ACTIVATION_CLIP_RATIOS): Range {
  let best: Range = { min: s.min, max: s.max };
  let bestErr = Infinity;
  for (const r of ratios) {
    const candidate = { min: s.min * r, max: s.max * r };
    const err = histogramMse(s, candidate, levels);
    if (err < bestErr) {
      bestErr = err;
      best = candidate;
    }
  }
  return best;
}

/** The range a calibration method picks from the statistics. */
export function calibratedRange(s: ActivationStats, options: CalibrationOptions): Range {
  if (s.count === 0) return { min: 0, max: 0 };
  const levels = options.levels ?? 256;
  switch (options.method) {
    case 'minmax':
      return { min: s.min, max: s.max };
    case 'percentile':
      return percentileRange(s, options.percentile ?? 99.99);
    case 'entropy':
      return entropyRange(s, levels);
    case 'mse':
      return mseRange(s, levels);
  }
}
