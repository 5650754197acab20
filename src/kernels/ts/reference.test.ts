import { describe, expect, it } from 'vitest';
import { checkParity, checkPruneParity, checkQuantParity } from '../../../test/kernels/parity';
import { histogramBin, histogramParams } from '../types';
import { channelStatsOf, gatherBinsOf, histogramOf, momentsOf, referenceBackend } from './reference';

describe('reference kernels, hand-computed', () => {
  it('moments skip NaN/Inf and count them', () => {
    const m = momentsOf(new Float32Array([1, -3, 0, NaN, Infinity, -Infinity, 2, -0]));
    expect(m).toEqual({ count: 8, nanCount: 1, posInfCount: 1, negInfCount: 1, zeroCount: 2, min: -3, max: 2, sum: 0, sumSq: 14, absMax: 3 });
    const none = momentsOf(new Float32Array([NaN]));
    expect(none.min).toBeNaN();
    expect(none.absMax).toBeNaN();
  });

  it('histogram: equal bins, x = hi in the last bin, out-of-range and NaN not counted', () => {
    // bins of width 0.5 over [0, 2]: [0,.5) [.5,1) [1,1.5) [1.5,2]
    const h = histogramOf(new Float32Array([0, 0.25, 0.5, 0.99, 1, 1.75, 2, 2.01, -0.01, NaN]), 4, 0, 2);
    expect([...h]).toEqual([2, 2, 1, 2]);
    const p = histogramParams(4, 0, 2);
    expect(p.scale).toBe(2);
    expect(histogramBin(2, 4, p.lo, p.hi, p.scale)).toBe(3);
    expect(histogramBin(Infinity, 4, p.lo, p.hi, p.scale)).toBe(-1);
  });

  it('channel stats over [outer, channels, inner] layouts', () => {
    // [2 rows, 3 cols] as MatMul weight [K=2, N=3]: channels are columns
    const data = new Float32Array([1, 2, 3, -4, 5, NaN]);
    const s = channelStatsOf(data, { outer: 2, channels: 3, inner: 1 });
    expect([...s.min]).toEqual([-4, 2, 3]);
    expect([...s.max]).toEqual([1, 5, 3]);
    expect([...s.absMax]).toEqual([4, 5, 3]);
    expect([...s.sum]).toEqual([-3, 7, 3]);
    expect([...s.sumSq]).toEqual([17, 29, 9]);
    const rows = channelStatsOf(data, { outer: 1, channels: 2, inner: 3 });
    expect([...rows.min]).toEqual([1, -4]);
    expect([...rows.sum]).toEqual([6, 1]);
  });

  it('gatherBins returns exactly the values of the wanted bins', () => {
    const g = gatherBinsOf(new Float32Array([0.1, 0.6, 0.7, 1.9, 2]), 4, 0, 2, Int32Array.from([1, 3]));
    expect(g.map((a) => [...a].map((v) => Math.round(v * 10) / 10))).toEqual([
      [0.6, 0.7],
      [1.9, 2],
    ]);
  });

  it('passes its own parity suite (the suite is self-consistent)', async () => {
    expect(await checkParity(referenceBackend)).toEqual([]);
    expect(await checkQuantParity(referenceBackend)).toEqual([]);
    expect(await checkPruneParity(referenceBackend)).toEqual([]);
  });
});
