import { describe, expect, it } from 'vitest';
import { channelNormsOf, nmMaskOf } from '../../../kernels/ts/prune-reference';
import { channelsToKeep, countZeros, globalPruneCounts, pruneSmallest } from './masks';

describe('pruning masks, hand-computed', () => {
  it('unstructured: exactly ⌊s·n⌋ smallest magnitudes go, ties in element order', () => {
    const v = new Float32Array([0.5, -0.1, 0.3, -0.1, 2, 0.1, -0.7, 0.05]);
    pruneSmallest(v, 3); // |w| sorted: .05, .1, .1, .1 … → 0.05 and the first two 0.1 ties
    expect([...v].map((x) => Math.round(x * 100) / 100)).toEqual([0.5, 0, 0.3, 0, 2, 0.1, -0.7, 0]);
    expect(countZeros(v)).toBe(3);
  });

  it('global threshold with a per-layer cap', () => {
    const small = Float32Array.from({ length: 100 }, (_, i) => 0.001 * (i + 1)); // all tiny
    const large = Float32Array.from({ length: 100 }, (_, i) => 1 + i);
    // 50% globally without a cap would take all of `small`; a 0.8 cap takes 80 there and 20 from `large`.
    expect(globalPruneCounts([small, large], 0.5, 0.8)).toEqual([80, 20]);
    expect(globalPruneCounts([small, large], 0.5, 1)).toEqual([100, 0]);
    expect(globalPruneCounts([small, large], 0.25, 0.9)).toEqual([50, 0]);
  });

  it('2:4 and 4:8 keep exactly N of every M along the reduction axis', () => {
    // [rows=2, K=8], K contiguous
    const v = Float32Array.from([1, -5, 3, 2, 0.5, 0.25, -4, 6, 8, 7, -6, 5, 4, -3, 2, 1]);
    const view = { lines: 2, length: 8, lineStride: 8, kStride: 1 };
    const a = nmMaskOf(v, view, 2, 4).values;
    expect([...a]).toEqual([0, -5, 3, 0, 0, 0, -4, 6, 8, 7, 0, 0, 4, -3, 0, 0]);
    for (let g = 0; g < 4; g++) expect(countZeros(a.subarray(g * 4, g * 4 + 4))).toBe(2);
    const b = nmMaskOf(v, view, 4, 8).values;
    expect(countZeros(b.subarray(0, 8))).toBe(4);
    expect([...b.subarray(0, 8)]).toEqual([0, -5, 3, 0, 0, 0, -4, 6]);
    // K-major layout [K=4, N=2]: groups run down each column
    const col = nmMaskOf(Float32Array.from([1, 10, -2, 20, 3, -30, -4, 40]), { lines: 2, length: 4, lineStride: 1, kStride: 2 }, 2, 4).values;
    expect([...col]).toEqual([0, 0, 0, 0, 3, -30, -4, 40]);
  });

  it('channel norms and the channels kept', () => {
    const w = Float32Array.from([1, -1, 3, 0, 0.5, 0.5]); // [3 channels, 2]
    const l1 = channelNormsOf(w, { outer: 1, channels: 3, inner: 2 }, 'l1');
    expect([...l1]).toEqual([2, 3, 1]);
    const l2 = channelNormsOf(w, { outer: 1, channels: 3, inner: 2 }, 'l2');
    expect(l2[0]).toBeCloseTo(Math.SQRT2, 12);
    expect(channelsToKeep(l1, 1 / 3)).toEqual([0, 1]);
    expect(channelsToKeep(l1, 0.95)).toEqual([1]);
    expect(channelsToKeep(l1, 0)).toEqual([0, 1, 2]);
  });
});
