import { describe, expect, it } from 'vitest';
import {
  accumulate,
  affineParams,
  calibratedRange,
  emptyStats,
  entropyBins,
  entropyRange,
  klDivergence,
  mergeStats,
  mseRange,
  percentileRange,
  type ActivationStats,
} from './histogram';

/** A small hand-made histogram: 2 bins per side over [−2, 2] (bins [−2,−1), [−1,0), [0,1), [1,2)). */
function handStats(bins: number[], min: number, max: number): ActivationStats {
  return { min, max, count: bins.reduce((a, b) => a + b, 0), range: 2, bins: Float64Array.from(bins) };
}

describe('streamed activation histogram', () => {
  it('doubles its range by merging bins exactly like a histogram built at the final range', () => {
    const a = emptyStats(8);
    accumulate(a, [0.3, -0.7, 0.05, -0.01]);
    expect(a.range).toBe(1);
    accumulate(a, [3, -2.5, 1.2]);
    expect(a.range).toBe(4);
    const b = emptyStats(8);
    accumulate(b, [3, 0.3, -0.7, 0.05, -0.01, -2.5, 1.2]);
    expect(Array.from(a.bins)).toEqual(Array.from(b.bins));
    expect([a.min, a.max, a.count]).toEqual([-2.5, 3, 7]);
  });

  it('skips NaN and Infinity, and merges statistics from two chunks', () => {
    const a = emptyStats(8);
    accumulate(a, [NaN, 0.5, Infinity, -0.25]);
    expect([a.min, a.max, a.count]).toEqual([-0.25, 0.5, 2]);
    const b = emptyStats(8);
    accumulate(b, [6]);
    mergeStats(a, b);
    const c = emptyStats(8);
    accumulate(c, [0.5, -0.25, 6]);
    expect(Array.from(a.bins)).toEqual(Array.from(c.bins));
    expect([a.min, a.max, a.count, a.range]).toEqual([-0.25, 6, 3, 8]);
  });
});

describe('calibration methods on hand-computed histograms', () => {
  it('MinMax is the observed range', () => {
    expect(calibratedRange(handStats([0, 10, 80, 10], -1, 1.9), { method: 'minmax' })).toEqual({ min: -1, max: 1.9 });
  });

  it('Percentile interpolates inside the bin that holds the cut', () => {
    // 100 values: 10 in [−1,0), 80 in [0,1), 10 in [1,2). 95 %: the 5th value from each end.
    const r = percentileRange(handStats([0, 10, 80, 10], -1, 1.9), 95);
    expect(r.min).toBeCloseTo(-0.5, 12); // −2 + (1 + 5/10)·1
    expect(r.max).toBeCloseTo(1.5, 12); // −2 + (3 + 5/10)·1
  });

  it('Entropy: the KL divergence of each candidate threshold as TensorRT defines it', () => {
    const hist = [4, 2, 1, 1];
    // i = 2: P = [4, 4]/8, Q = [4, 2]/6 → ½ln(1.125)
    expect(klDivergence(hist, 2, 2)).toBeCloseTo(0.5 * Math.log(1.125), 12);
    // i = 3: P = [4, 2, 2]/8, Q = [4, 1.5, 1.5]/7 → ½ln(49/48)
    expect(klDivergence(hist, 3, 2)).toBeCloseTo(0.5 * Math.log(49 / 48), 12);
    // i = 4: P = [4, 2, 1, 1]/8, Q = [3, 3, 1, 1]/8 → ½ln(4/3) + ¼ln(2/3)
    expect(klDivergence(hist, 4, 2)).toBeCloseTo(0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3), 12);
    expect(entropyBins(hist, 2)).toBe(3);
  });

  it('Entropy clips a long tail and keeps a tensor with no outliers whole', () => {
    const tail = emptyStats();
    const values: number[] = [];
    for (let i = 0; i < 20000; i++) values.push(Math.sin(i * 12.9898) * 0.5 + 0.5); // [0, 1]
    values.push(8); // one outlier: the histogram spans [−8, 8], 256 bins per unit
    accumulate(tail, values);
    const r = entropyRange(tail);
    expect(r.min).toBeGreaterThanOrEqual(0);
    expect(r.max).toBeLessThan(1.1); // the outlier is clipped: min-max would keep 8
    expect(r.max).toBeGreaterThan(0.9);
    const uniform = emptyStats();
    accumulate(
      uniform,
      Array.from({ length: 4096 }, (_, i) => i / 4095),
    ); // [0, 1]: no tail to clip
    expect(entropyRange(uniform).max).toBeCloseTo(1, 1);
  });

  it('Entropy treats each side of zero on its own: a clamp spike below zero does not clip the positive tail', () => {
    // Max(x, −0.4) after a conv: 40 % of the values sit exactly at −0.4, the rest are exponential (mean 0.3) above 0.
    // Folded into one |x| histogram the spike landed on +0.4 and KL kept 0.80 of a tail whose 99th percentile is 1.23.
    const s = emptyStats();
    const values: number[] = [];
    const n = 30000;
    for (let i = 0; i < n; i++) values.push(i < 0.4 * n ? -0.4 : -0.3 * Math.log(1 - ((i * 0.6180339887) % 1) * 0.9999));
    accumulate(s, values);
    const p99 = values.slice().sort((a, b) => a - b)[Math.floor(0.99 * n)]!;
    const r = entropyRange(s);
    expect(r.min).toBeCloseTo(-0.4, 6); // the spike side keeps its extreme
    expect(r.max).toBeGreaterThan(p99);
    expect(r.max).toBeLessThan(s.max); // the thin tail is still clipped
  });

  it('MSE picks the clip ratio with the smaller expected squared error', () => {
    // 99 values at 0.5 and 1 at 1.5 (bin centres), 3 levels. Range [0,2]: scale 1 → 0.5 rounds to 0 (half even):
    // error 99·0.25 + 0.25 = 25. Range [0,1]: scale 0.5 → 0.5 exact, 1.5 clips to 1: error 0.25.
    const s = handStats([0, 0, 99, 1], 0, 2);
    expect(mseRange(s, 3, [1, 0.5])).toEqual({ min: 0, max: 1 });
    expect(mseRange(s, 3, [1])).toEqual({ min: 0, max: 2 });
  });

  it('affine parameters keep zero exact', () => {
    expect(affineParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = affineParams({ min: -1, max: 3 });
    expect(p.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
  });
});
