import type { ChannelLayout, DeviceTensor, KernelBackend, MomentStats } from '../../kernels/types';
import { selectKth } from './select';

/** Statistics of one tensor, as shown in the studio and printed by `cstudio inspect --stats`. */
export interface TensorStats {
  count: number;
  /** Finite values the statistics cover. */
  finiteCount: number;
  nanCount: number;
  infCount: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  absMax: number;
  zeroFraction: number;
  /** Percentiles 0.1 %, 1 %, 99 %, 99.9 % (exact, linear interpolation between order statistics as numpy's default). */
  p001: number;
  p01: number;
  p99: number;
  p999: number;
  /** abs-max / std: ≈ 3–5 for a Gaussian; far above means a few outliers stretch the range that quantization must cover. */
  outlierScore: number;
}

export const PERCENTILES = { p001: 0.001, p01: 0.01, p99: 0.99, p999: 0.999 } as const;

/** Bins of the selection histogram used to find order statistics. */
const SELECT_BINS = 1 << 16;

/**
 * Exact order statistics (0-based ranks among finite values) with one histogram pass and one gather pass:
 * the histogram tells which bin holds each rank, the gather copies out those bins' values, quickselect finishes.
 */
export async function orderStatistics(backend: KernelBackend, t: DeviceTensor, m: MomentStats, ranks: number[]): Promise<number[]> {
  if (!Number.isFinite(m.min) || m.min === m.max) return ranks.map(() => m.min);
  const counts = await backend.histogram(t, SELECT_BINS, m.min, m.max);
  const located = ranks.map((rank) => {
    let seen = 0;
    for (let b = 0; b < counts.length; b++) {
      if (seen + counts[b]! > rank) return { bin: b, offset: rank - seen };
      seen += counts[b]!;
    }
    return { bin: counts.length - 1, offset: counts[counts.length - 1]! - 1 };
  });
  const wanted = Int32Array.from([...new Set(located.map((l) => l.bin))].sort((a, b) => a - b));
  const gathered = await backend.gatherBins(t, SELECT_BINS, m.min, m.max, wanted);
  return located.map(({ bin, offset }) => selectKth(gathered[wanted.indexOf(bin)]!, offset));
}

export async function quantiles(backend: KernelBackend, t: DeviceTensor, m: MomentStats, qs: number[]): Promise<number[]> {
  const n = m.count - m.nanCount - m.posInfCount - m.negInfCount;
  if (n === 0) return qs.map(() => NaN);
  const positions = qs.map((q) => q * (n - 1));
  const ranks = [...new Set(positions.flatMap((p) => [Math.floor(p), Math.ceil(p)]))];
  const values = await orderStatistics(backend, t, m, ranks);
  const at = new Map(ranks.map((r, i) => [r, values[i]!]));
  return positions.map((p) => {
    const lo = at.get(Math.floor(p))!;
    const hi = at.get(Math.ceil(p))!;
    return lo + (hi - lo) * (p - Math.floor(p));
  });
}

export function statsFromMoments(m: MomentStats, percentiles: number[]): TensorStats {
  const finiteCount = m.count - m.nanCount - m.posInfCount - m.negInfCount;
  const mean = finiteCount ? m.sum / finiteCount : NaN;
  const std = finiteCount ? Math.sqrt(Math.max(0, m.sumSq / finiteCount - mean * mean)) : NaN;
  return {
    count: m.count,
    finiteCount,
    nanCount: m.nanCount,
    infCount: m.posInfCount + m.negInfCount,
    min: m.min,
    max: m.max,
    mean,
    std,
    absMax: m.absMax,
    zeroFraction: m.count ? m.zeroCount / m.count : 0,
    p001: percentiles[0]!,
    p01: percentiles[1]!,
    p99: percentiles[2]!,
    p999: percentiles[3]!,
    outlierScore: std > 0 ? m.absMax / std : 0,
  };
}

export async function tensorStats(backend: KernelBackend, t: DeviceTensor): Promise<{ stats: TensorStats; moments: MomentStats }> {
  const moments = await backend.moments(t);
  const p = await quantiles(backend, t, moments, Object.values(PERCENTILES));
  return { stats: statsFromMoments(moments, p), moments };
}

export interface ChannelRanges {
  axis: number;
  min: number[];
  max: number[];
  std: number[];
  absMax: number[];
}

/** View of `shape` as [outer, channels, inner] around `axis`. */
export function channelLayout(shape: number[], axis: number): ChannelLayout {
  const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
  return { outer: prod(shape.slice(0, axis)), channels: shape[axis]!, inner: prod(shape.slice(axis + 1)) };
}

export async function channelRanges(backend: KernelBackend, t: DeviceTensor, shape: number[], axis: number): Promise<ChannelRanges> {
  const layout = channelLayout(shape, axis);
  const s = await backend.channelStats(t, layout);
  const n = layout.outer * layout.inner;
  const std = Array.from(s.sum, (sum, c) => {
    const mean = sum / n;
    return Math.sqrt(Math.max(0, s.sumSq[c]! / n - mean * mean));
  });
  return { axis, min: [...s.min], max: [...s.max], std, absMax: [...s.absMax] };
}
