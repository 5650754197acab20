import { describe, expect, it } from 'vitest';
import { gaussian } from '../../../test/kernels/parity';
import { referenceBackend } from '../../kernels/ts/reference';
import { selectKth } from './select';
import { channelLayout, quantiles, tensorStats } from './stats';

/** numpy.percentile(x, 100q) with the default linear interpolation, by sorting. */
function sortedQuantile(values: Float32Array, q: number): number {
  const finite = Float32Array.from(values.filter((v) => Number.isFinite(v))).sort();
  const p = q * (finite.length - 1);
  const lo = finite[Math.floor(p)]!;
  const hi = finite[Math.ceil(p)]!;
  return lo + (hi - lo) * (p - Math.floor(p));
}

describe('selectKth', () => {
  it('finds every order statistic of a shuffled array with duplicates', () => {
    const base = Float32Array.from({ length: 501 }, (_, i) => Math.floor(i / 3));
    const sorted = Float32Array.from(base).sort();
    for (const k of [0, 1, 250, 499, 500]) {
      const shuffled = Float32Array.from(base)
        .sort(() => 0)
        .reverse();
      expect(selectKth(shuffled, k)).toBe(sorted[k]);
    }
  });
});

describe('tensor statistics', () => {
  it('hand-computed: [1, 2, 3, 4] and specials', async () => {
    const t = await referenceBackend.upload(new Float32Array([4, 1, 3, 2, NaN, Infinity, 0, 0]));
    const { stats } = await tensorStats(referenceBackend, t);
    // finite: 4 1 3 2 0 0 → mean 10/6, E[x²] = 30/6
    expect(stats.count).toBe(8);
    expect(stats.finiteCount).toBe(6);
    expect(stats.nanCount).toBe(1);
    expect(stats.infCount).toBe(1);
    expect(stats.mean).toBeCloseTo(10 / 6, 12);
    expect(stats.std).toBeCloseTo(Math.sqrt(30 / 6 - (10 / 6) ** 2), 12);
    expect(stats.zeroFraction).toBe(2 / 8);
    expect(stats.absMax).toBe(4);
    // sorted finite: 0 0 1 2 3 4; p99 at 0.99·5 = 4.95 → 3 + 0.95·1
    expect(stats.p99).toBeCloseTo(3.95, 6);
    expect(stats.p001).toBeCloseTo(0, 12);
    expect(stats.outlierScore).toBeCloseTo(4 / stats.std, 12);
  });

  it('percentiles are exact against a sort on 1M Gaussian values with outliers', async () => {
    const data = gaussian(1 << 20, 5, 0.05);
    data[123] = 40;
    data[456] = -25;
    const t = await referenceBackend.upload(data);
    const m = await referenceBackend.moments(t);
    const qs = [0, 0.001, 0.01, 0.5, 0.99, 0.999, 1];
    const got = await quantiles(referenceBackend, t, m, qs);
    qs.forEach((q, i) => expect(got[i]).toBe(sortedQuantile(data, q)));
  });

  it('a tensor of one repeated value has zero spread', async () => {
    const t = await referenceBackend.upload(new Float32Array(100).fill(-0.5));
    const { stats } = await tensorStats(referenceBackend, t);
    expect([stats.min, stats.max, stats.p001, stats.p999, stats.std]).toEqual([-0.5, -0.5, -0.5, -0.5, 0]);
    expect(stats.outlierScore).toBe(0);
  });

  it('channel layouts', () => {
    expect(channelLayout([16, 8, 3, 3], 0)).toEqual({ outer: 1, channels: 16, inner: 72 });
    expect(channelLayout([784, 64], 1)).toEqual({ outer: 784, channels: 64, inner: 1 });
    expect(channelLayout([8, 4, 3, 3], 1)).toEqual({ outer: 8, channels: 4, inner: 9 });
  });
});
