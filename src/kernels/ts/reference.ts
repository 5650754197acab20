import { bf16BitsToFloat, fp16BitsToFloat } from '../codecs/half';
import { asyncLinalg } from '../linalg';
import { referenceLinalg } from './linalg-reference';
import { hostPruneKernels } from './prune-reference';
import { hostQuantKernels } from './quant-reference';
import { histogramBin, histogramParams, type ChannelLayout, type ChannelStats, type DeviceTensor, type KernelBackend, type MomentStats } from '../types';

/** The reference backend: plain TypeScript, the definition every other backend is tested against. */
class HostTensor implements DeviceTensor {
  constructor(readonly data: Float32Array) {}
  get length() {
    return this.data.length;
  }
  dispose() {}
}

const host = (t: DeviceTensor) => {
  if (!(t instanceof HostTensor)) throw new Error('tensor was uploaded to another backend');
  return t.data;
};

export function momentsOf(data: Float32Array): MomentStats {
  let nanCount = 0;
  let posInfCount = 0;
  let negInfCount = 0;
  let zeroCount = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x !== x) nanCount++;
    else if (x === Infinity) posInfCount++;
    else if (x === -Infinity) negInfCount++;
    else {
      if (x === 0) zeroCount++;
      if (x < min) min = x;
      if (x > max) max = x;
      sum += x;
      sumSq += x * x;
    }
  }
  const finite = data.length - nanCount - posInfCount - negInfCount;
  if (finite === 0) min = max = NaN;
  return { count: data.length, nanCount, posInfCount, negInfCount, zeroCount, min, max, sum, sumSq, absMax: finite ? Math.max(-min, max) : NaN };
}

export function histogramOf(data: Float32Array, bins: number, lo: number, hi: number): Uint32Array {
  const counts = new Uint32Array(bins);
  const p = histogramParams(bins, lo, hi);
  for (let i = 0; i < data.length; i++) {
    const b = histogramBin(data[i]!, bins, p.lo, p.hi, p.scale);
    if (b >= 0) counts[b]!++;
  }
  return counts;
}

export function channelStatsOf(data: Float32Array, { outer, channels, inner }: ChannelLayout): ChannelStats {
  const min = new Float32Array(channels).fill(Infinity);
  const max = new Float32Array(channels).fill(-Infinity);
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let lo = min[c]!;
      let hi = max[c]!;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < inner; i++) {
        const x = data[base + i]!;
        if (x - x !== 0) continue; // NaN or ±Inf
        if (x < lo) lo = x;
        if (x > hi) hi = x;
        s += x;
        s2 += x * x;
      }
      min[c] = lo;
      max[c] = hi;
      sum[c]! += s;
      sumSq[c]! += s2;
    }
  }
  const absMax = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    if (min[c] === Infinity) min[c] = max[c] = NaN;
    absMax[c] = Math.max(-min[c]!, max[c]!);
  }
  return { min, max, absMax, sum, sumSq };
}

export function gatherBinsOf(data: Float32Array, bins: number, lo: number, hi: number, wanted: Int32Array): Float32Array[] {
  const p = histogramParams(bins, lo, hi);
  const slot = new Int32Array(bins).fill(-1);
  wanted.forEach((b, k) => (slot[b] = k));
  const out: number[][] = Array.from({ length: wanted.length }, () => []);
  for (let i = 0; i < data.length; i++) {
    const b = histogramBin(data[i]!, bins, p.lo, p.hi, p.scale);
    if (b >= 0 && slot[b]! >= 0) out[slot[b]!]!.push(data[i]!);
  }
  return out.map((v) => Float32Array.from(v));
}

export function decodeHalfOf(bits: Uint16Array, kind: 'fp16' | 'bf16'): Float32Array {
  const out = new Float32Array(bits.length);
  const decode = kind === 'fp16' ? fp16BitsToFloat : bf16BitsToFloat;
  for (let i = 0; i < bits.length; i++) out[i] = decode(bits[i]!);
  return out;
}

export const referenceBackend: KernelBackend = {
  name: 'ts',
  upload: async (data) => new HostTensor(data),
  moments: async (t) => momentsOf(host(t)),
  histogram: async (t, bins, lo, hi) => histogramOf(host(t), bins, lo, hi),
  channelStats: async (t, layout) => channelStatsOf(host(t), layout),
  gatherBins: async (t, bins, lo, hi, wanted) => gatherBinsOf(host(t), bins, lo, hi, wanted),
  decodeHalf: async (bits, kind) => decodeHalfOf(bits, kind),
  quant: hostQuantKernels(host),
  prune: hostPruneKernels(host),
  linalg: asyncLinalg(referenceLinalg),
};
