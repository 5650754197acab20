import { describe, expect, it } from 'vitest';
import { checkParity } from '../parity';
import { channelStatsOf, decodeHalfOf, gatherBinsOf, histogramOf, momentsOf } from '../ts/reference';
import { createWasmBackend, HEAP_LIMIT_BYTES } from './backend';

describe('WASM SIMD kernel backend', () => {
  it('matches the TypeScript reference on every parity case', async () => {
    expect(await checkParity(await createWasmBackend())).toEqual([]);
  });

  it('handles specials in every SIMD block position and odd tails', async () => {
    const wasm = await createWasmBackend();
    for (const n of [1, 3, 4, 7, 8, 15, 16, 255, 256, 257, 1023, 1024, 1031, 5000]) {
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3);
      for (let i = 0; i < n; i += 97) data[i] = [NaN, Infinity, -Infinity, 0, -0, 3e38, -3e38][i % 7]!;
      const t = await wasm.upload(data);
      const got = await wasm.moments(t);
      const want = momentsOf(data);
      expect({ ...got, sum: 0, sumSq: 0 }).toEqual({ ...want, sum: 0, sumSq: 0 });
      let absSum = 0;
      for (const x of data) if (Number.isFinite(x)) absSum += Math.abs(x);
      expect(Math.abs(got.sum - want.sum)).toBeLessThanOrEqual(1e-6 * absSum);
      expect(Math.abs(got.sumSq - want.sumSq)).toBeLessThanOrEqual(1e-6 * want.sumSq);
      for (const [bins, lo, hi] of [
        [64, -3, 3],
        [5, -1, 2],
        [3, -Infinity, 1],
        [3, 0, Infinity],
        [1, 0, 0],
        [4, 1e-45, 2e-45],
      ] as const) {
        expect(await wasm.histogram(t, bins, lo, hi)).toEqual(histogramOf(data, bins, lo, hi));
      }
      t.dispose();
    }
  });

  it('channelStats matches the reference for many layouts, with specials and leftover rows', async () => {
    const wasm = await createWasmBackend();
    const layouts = [
      [1, 1, 1],
      [7, 1, 1],
      [100, 3, 1],
      [33, 5, 2],
      [10, 7, 3],
      [9, 2, 15],
      [3, 4, 16],
      [2, 3, 100],
      [1000, 17, 1],
      [5, 300, 1],
      [4, 1, 1029],
      [4096, 3, 1],
      [2000, 5, 2],
      [300, 64, 1],
      [77, 4, 40],
    ];
    for (const [outer, channels, inner] of layouts as [number, number, number][]) {
      const n = outer * channels * inner;
      const data = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.7) * (1 + (i % 11)));
      for (let i = 5; i < n; i += 41) data[i] = [NaN, Infinity, -Infinity, 0, 3e30, -2e25][i % 6]!; // incl. squares beyond float32
      if (channels > 1) for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) data[(o * channels + 1) * inner + i] = NaN; // an all-NaN channel
      const t = await wasm.upload(data);
      const got = await wasm.channelStats(t, { outer, channels, inner });
      const want = channelStatsOf(data, { outer, channels, inner });
      expect([got.min, got.max, got.absMax]).toEqual([want.min, want.max, want.absMax]);
      for (let c = 0; c < channels; c++) {
        expect(Math.abs(got.sum[c]! - want.sum[c]!)).toBeLessThanOrEqual(1e-6 * want.sumSq[c]! + 1e-9);
        expect(Math.abs(got.sumSq[c]! - want.sumSq[c]!)).toBeLessThanOrEqual(1e-6 * want.sumSq[c]!);
      }
      t.dispose();
    }
    const t = await wasm.upload(new Float32Array(12));
    await expect(wasm.channelStats(t, { outer: 2, channels: 2, inner: 2 })).rejects.toThrow(/does not match/);
  });

  it('gatherBins handles duplicate and out-of-range wanted bins; decodeHalf handles odd lengths and chunks', async () => {
    const wasm = await createWasmBackend();
    const data = Float32Array.from({ length: 10_007 }, (_, i) => Math.sin(i) * 2);
    const t = await wasm.upload(data);
    const wanted = Int32Array.from([0, 3, 3, 9, 12, -1]);
    expect(await wasm.gatherBins(t, 10, -1, 1, wanted)).toEqual(gatherBinsOf(data, 10, -1, 1, wanted));
    for (const n of [1, 7, 9, (1 << 20) + 13]) {
      const bits = Uint16Array.from({ length: n }, (_, i) => (i * 40503) & 0xffff);
      for (const kind of ['fp16', 'bf16'] as const) {
        const got = await wasm.decodeHalf(bits, kind);
        const want = decodeHalfOf(bits, kind);
        expect(got.every((v, i) => Object.is(v, want[i]) || (Number.isNaN(v) && Number.isNaN(want[i])))).toBe(true);
      }
    }
  });

  it('uploads, reduces and histograms a 64M-element tensor, and reuses the heap after dispose', async () => {
    const wasm = await createWasmBackend();
    const n = 64 * 2 ** 20;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 1000) - 500; // exact sums in float64
    const t = await wasm.upload(data);
    const grown = wasm.memoryBytes;
    expect(grown).toBeGreaterThanOrEqual(n * 4);
    const m = await wasm.moments(t);
    expect(m.count).toBe(n);
    expect(m.min).toBe(-500);
    expect(m.max).toBe(499);
    expect(m.zeroCount).toBe(Math.floor(n / 1000) + (n % 1000 > 500 ? 1 : 0));
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < 1000; i++) {
      const k = Math.floor(n / 1000) + (i < n % 1000 ? 1 : 0);
      sum += k * (i - 500);
      sumSq += k * (i - 500) ** 2;
    }
    expect(Math.abs(m.sum - sum)).toBeLessThanOrEqual(1e-9 * sumSq);
    expect(Math.abs(m.sumSq - sumSq)).toBeLessThanOrEqual(1e-6 * sumSq);
    const h = await wasm.histogram(t, 1000, -500, 500);
    expect(h.reduce((a, b) => a + b, 0)).toBe(n);
    expect(h[0]).toBe(Math.floor(n / 1000) + 1);
    t.dispose();
    expect(wasm.heapInUse).toBeLessThan(1 << 20);

    // Reuse: a second tensor of the same size fits in the memory already grown.
    const t2 = await wasm.upload(data.subarray(0, n - 7));
    expect(wasm.memoryBytes).toBe(grown);
    expect((await wasm.moments(t2)).count).toBe(n - 7);
    t2.dispose();
    expect(() => t2.dispose()).not.toThrow();
    await expect(wasm.moments(t2)).rejects.toThrow(/disposed/);
  });

  it('fails clearly beyond the 1 GiB heap limit', async () => {
    const wasm = await createWasmBackend();
    const tooBig = new Float32Array(HEAP_LIMIT_BYTES / 4 + 1); // zero pages, never touched
    await expect(wasm.upload(tooBig)).rejects.toThrow(/heap limit/);
    const t = await wasm.upload(new Float32Array([1, 2, 3]));
    expect((await wasm.moments(t)).sum).toBe(6);
  });

  it('rejects tensors of another backend', async () => {
    const a = await createWasmBackend();
    const b = await createWasmBackend();
    const t = await a.upload(new Float32Array(4));
    await expect(b.moments(t)).rejects.toThrow(/another backend/);
  });
});
