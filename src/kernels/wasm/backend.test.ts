import { afterEach, describe, expect, it } from 'vitest';
import { checkParity, checkPruneParity, checkQuantParity, rng } from '../../../test/kernels/parity';
import type { NMView } from '../prune';
import { groupCount, type GroupView, type Grouping } from '../quant';
import { channelNormsOf, maskBelowOf, nmMaskOf } from '../ts/prune-reference';
import { candidateErrorsOf, groupMinMaxOf, packNibblesOf, quantizeGroupsOf } from '../ts/quant-reference';
import { channelStatsOf, decodeHalfOf, gatherBinsOf, histogramOf, momentsOf } from '../ts/reference';
import { createWasmBackend, HEAP_LIMIT_BYTES, type WasmKernelBackend } from './backend';
import { pruneFallbacks, pruneTuning } from './prune-kernels';
import { quantFallbacks, quantTuning } from './quant-kernels';

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

// ---------------------------------------------------------------------------------------------- quantization

interface QuantParams {
  scales: Float32Array;
  invScales: Float32Array;
  zeroPoints: Int32Array;
  qmin: number;
  qmax: number;
}

/** quantizeOn's min/max parameters: symmetric (narrow signed range) or asymmetric (unsigned, zero point). */
function minMaxParams(min: Float32Array, max: Float32Array, bits: number, symmetric: boolean): QuantParams {
  const qmin = symmetric ? -(2 ** (bits - 1) - 1) : 0;
  const qmax = symmetric ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const scales = new Float32Array(min.length);
  const zeroPoints = new Int32Array(min.length);
  for (let g = 0; g < min.length; g++) {
    const lo = Math.min(min[g]!, 0);
    const hi = Math.max(max[g]!, 0);
    if (!(hi >= lo) || !Number.isFinite(lo + hi) || hi === lo) {
      scales[g] = 1;
      continue;
    }
    if (symmetric) scales[g] = Math.fround(Math.max(-lo, hi) / qmax);
    else {
      scales[g] = Math.fround((hi - lo) / (qmax - qmin));
      zeroPoints[g] = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scales[g]!)));
    }
  }
  return { scales, invScales: scales.map((v) => Math.fround(1 / v)), zeroPoints, qmin, qmax };
}

const rel = (a: number, b: number) => (a === b || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Math.abs(a - b) / Math.abs(b));

/** Every quantization kernel against the reference: min/max, codes and dequantized values bit for bit, max error exactly. */
async function expectQuantMatches(
  wasm: WasmKernelBackend,
  data: Float32Array,
  view: GroupView,
  grouping: Grouping,
  bits: number,
  symmetric: boolean,
  tag: string,
): Promise<void> {
  const q = wasm.quant!;
  const t = await wasm.upload(data);
  try {
    const got = await q.groupMinMax(t, view, grouping);
    const want = groupMinMaxOf(data, view, grouping);
    expect(got.min.length, tag).toBe(groupCount(view, grouping));
    const badG = want.min.findIndex((v, g) => v !== got.min[g] || want.max[g] !== got.max[g]);
    expect(badG, `${tag}: groupMinMax group ${badG}`).toBe(-1);
    const params = minMaxParams(want.min, want.max, bits, symmetric);
    const a = await q.quantizeGroups(t, view, grouping, params);
    const b = quantizeGroupsOf(data, view, grouping, params);
    const bad = b.codes.findIndex((c, i) => c !== a.codes[i] || !Object.is(b.dequantized[i], a.dequantized[i]));
    expect(bad, `${tag}: element ${bad} (x = ${data[bad]}): ${a.codes[bad]} / ${a.dequantized[bad]} vs ${b.codes[bad]} / ${b.dequantized[bad]}`).toBe(-1);
    expect(a.maxAbsError, `${tag}: max |x − y|`).toBe(b.maxAbsError);
    expect(rel(a.signal, b.signal), `${tag}: Σx² ${a.signal} vs ${b.signal}`).toBeLessThan(1e-5);
    expect(rel(a.noise, b.noise), `${tag}: Σ(x − y)² ${a.noise} vs ${b.noise}`).toBeLessThan(1e-5);
    const C = 5;
    const G = want.min.length;
    const cand = minMaxParams(
      Float32Array.from({ length: G * C }, (_, k) => want.min[Math.floor(k / C)]! * (1 - 0.07 * (k % C))),
      Float32Array.from({ length: G * C }, (_, k) => want.max[Math.floor(k / C)]! * (1 - 0.07 * (k % C))),
      bits,
      symmetric,
    );
    const cp = { candidates: C, ...cand };
    const ea = await q.candidateErrors(t, view, grouping, cp);
    const eb = candidateErrorsOf(data, view, grouping, cp);
    const badE = eb.findIndex((v, k) => !(rel(ea[k]!, v) < 1e-5));
    expect(badE, `${tag}: candidateErrors[${badE}] ${ea[badE]} vs ${eb[badE]}`).toBe(-1);
  } finally {
    t.dispose();
  }
}

describe('WASM SIMD quantization kernels', () => {
  const tuning = structuredClone(quantTuning);
  afterEach(() => Object.assign(quantTuning, structuredClone(tuning)));

  it('matches the TypeScript reference on the parity suite', async () => {
    expect(await checkQuantParity(await createWasmBackend())).toEqual([]);
  });

  it('matches the reference in every layout: ragged blocks, groups of one, NaN/±Inf, 4- and 8-bit codes', async () => {
    const wasm = await createWasmBackend();
    const fallbacks = quantFallbacks.count;
    const cases: [string, GroupView, Grouping][] = [
      ['tensor', { outer: 1, axisLength: 70_001, inner: 1 }, { granularity: 'tensor', blockSize: 0 }],
      ['Conv rows (runs)', { outer: 1, axisLength: 33, inner: 75 }, { granularity: 'channel', blockSize: 0 }],
      ['channel middle axis (runs)', { outer: 3, axisLength: 5, inner: 17 }, { granularity: 'channel', blockSize: 0 }],
      ['MatMul columns (rows)', { outer: 301, axisLength: 130, inner: 1 }, { granularity: 'channel', blockSize: 0 }],
      ['MatMul columns, N % 4 ≠ 0', { outer: 97, axisLength: 67, inner: 1 }, { granularity: 'channel', blockSize: 0 }],
      ['few channels, short inner (widened rows)', { outer: 211, axisLength: 3, inner: 5 }, { granularity: 'channel', blockSize: 0 }],
      ['channel groups of one', { outer: 1, axisLength: 37, inner: 1 }, { granularity: 'channel', blockSize: 0 }],
      ['Gemm transB blocks of 32, ragged', { outer: 41, axisLength: 300, inner: 1 }, { granularity: 'block', blockSize: 32 }],
      ['blocks of 7, ragged', { outer: 13, axisLength: 50, inner: 1 }, { granularity: 'block', blockSize: 7 }],
      ['block larger than the axis', { outer: 9, axisLength: 20, inner: 1 }, { granularity: 'block', blockSize: 64 }],
      ['block groups of one', { outer: 6, axisLength: 11, inner: 1 }, { granularity: 'block', blockSize: 1 }],
      ['MatMul blocks along K, ragged (rows)', { outer: 1, axisLength: 90, inner: 52 }, { granularity: 'block', blockSize: 16 }],
      ['blocks with outer and inner', { outer: 3, axisLength: 21, inner: 9 }, { granularity: 'block', blockSize: 4 }],
      ['block groups of one with inner', { outer: 2, axisLength: 3, inner: 6 }, { granularity: 'block', blockSize: 1 }],
    ];
    for (const [k, [name, view, grouping]] of cases.entries()) {
      const n = view.outer * view.axisLength * view.inner;
      const r = rng(k + 1);
      const data = Float32Array.from({ length: n }, () => (r() - 0.5) * 0.2);
      data[Math.floor(n / 3)] = 3.5; // an outlier
      for (let i = 7; i < n; i += 101) data[i] = [NaN, Infinity, -Infinity, 0, -0, 1e-40][(i >> 3) % 6]!;
      for (const [bits, symmetric] of [
        [8, true],
        [8, false],
        [4, true],
        [4, false],
        [2, false],
      ] as const) {
        await expectQuantMatches(wasm, data, view, grouping, bits, symmetric, `${name} ${bits}-bit ${symmetric ? 'sym' : 'asym'}`);
      }
    }
    expect(quantFallbacks.count).toBe(fallbacks); // all on the kernels
    expect(wasm.heapInUse).toBeLessThanOrEqual(64); // every scratch block released
  });

  it('matches the reference on random layouts, data and chunk / band sizes (fuzz)', async () => {
    const wasm = await createWasmBackend();
    for (let seed = 1; seed <= 240; seed++) {
      const r = rng(seed * 7919);
      const ri = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
      const tune = seed % 4;
      quantTuning.chunkElements = [1 << 22, 1, 7, 100][tune]!;
      quantTuning.candidateBytes = [1 << 25, 1, 500, 5000][tune]!;
      quantTuning.bandRows = {
        quantize: [4, 1, 3, 8][tune]!,
        quantizeUniformZp: [1, 2, 1, 5][tune]!,
        minMax: [8, 1, 3, 2][tune]!,
        candidates: [8, 1, 5, 2][tune]!,
      };
      const dims = [
        [ri(1, 5), ri(1, 70), ri(1, 40)],
        [ri(1, 300), ri(1, 20), 1],
        [1, ri(1, 50), ri(1, 300)],
        [ri(1, 3), ri(1, 9), ri(1, 19)],
        [ri(1, 100), ri(1, 200), 1],
      ][ri(0, 4)]!;
      const view = { outer: dims[0]!, axisLength: dims[1]!, inner: dims[2]! };
      const grouping: Grouping = { granularity: (['tensor', 'channel', 'block'] as const)[seed % 3]!, blockSize: ri(1, 40) };
      const n = view.outer * view.axisLength * view.inner;
      const amp = [1, 0.01, 100, 1e-30, 1e18][ri(0, 4)]!; // 1e-30: float32 squares underflow; 1e18: they overflow
      const data = Float32Array.from({ length: n }, () => (r() * 2 - 1) * amp * (r() < 0.05 ? 20 : 1));
      for (let s = ri(0, 3) * 3; s > 0; s--) data[ri(0, n - 1)] = [NaN, Infinity, -Infinity, 0, -0, 3e38, -2e20, 1e-44][ri(0, 7)]!;
      if (r() < 0.1) data.fill(0.125); // every error exactly 0
      await expectQuantMatches(wasm, data, view, grouping, ri(2, 8), r() < 0.5, `seed ${seed} ${JSON.stringify(view)} ${JSON.stringify(grouping)} amp ${amp}`);
    }
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });

  it('rounds ties to even and clamps exactly like the reference', async () => {
    const wasm = await createWasmBackend();
    const view = { outer: 1, axisLength: 1, inner: 4096 };
    const grouping: Grouping = { granularity: 'tensor', blockSize: 0 };
    // x / scale lands exactly on k + 0.5 (scale a power of two); some far outside the range.
    const data = Float32Array.from({ length: 4096 }, (_, i) => ((i % 300) - 150 + 0.5) * 0.25 * (i % 7 === 0 ? 3 : 1));
    const t = await wasm.upload(data);
    for (const [zp, qmin, qmax] of [
      [0, -127, 127],
      [3, -8, 7],
      [128, 0, 255],
      [-5, -128, 127],
      [400, 0, 15],
    ]) {
      const params = { scales: Float32Array.of(0.25), invScales: Float32Array.of(4), zeroPoints: Int32Array.of(zp!), qmin: qmin!, qmax: qmax! };
      const a = await wasm.quant!.quantizeGroups(t, view, grouping, params);
      const b = quantizeGroupsOf(data, view, grouping, params);
      expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
      expect(a.dequantized.every((v, i) => Object.is(v, b.dequantized[i]))).toBe(true);
      expect(a.maxAbsError).toBe(b.maxAbsError);
    }
    t.dispose();
  });

  it('answers parameters outside the kernels’ range (zero scale, 16-bit codes) with the reference', async () => {
    const wasm = await createWasmBackend();
    const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e-3);
    data[3] = 0;
    const view = { outer: 10, axisLength: 100, inner: 1 };
    const grouping: Grouping = { granularity: 'channel', blockSize: 0 };
    const t = await wasm.upload(data);
    const before = quantFallbacks.count;
    const zeroScale = {
      scales: new Float32Array(100).fill(0),
      invScales: new Float32Array(100).fill(Infinity),
      zeroPoints: new Int32Array(100),
      qmin: -127,
      qmax: 127,
    };
    const a = await wasm.quant!.quantizeGroups(t, view, grouping, zeroScale);
    const b = quantizeGroupsOf(data, view, grouping, zeroScale);
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    expect(a.dequantized.every((v, i) => Object.is(v, b.dequantized[i]))).toBe(true);
    const wide = {
      scales: new Float32Array(100).fill(1e-7),
      invScales: new Float32Array(100).fill(Math.fround(1e7)),
      zeroPoints: new Int32Array(100).fill(32768),
      qmin: 0,
      qmax: 65535,
    };
    expect(Array.from((await wasm.quant!.quantizeGroups(t, view, grouping, wide)).codes)).toEqual(
      Array.from(quantizeGroupsOf(data, view, grouping, wide).codes),
    );
    expect(quantFallbacks.count).toBe(before + 2);
    await expect(wasm.quant!.groupMinMax(t, { outer: 3, axisLength: 100, inner: 1 }, grouping)).rejects.toThrow(/does not match/);
    await expect(wasm.quant!.quantizeGroups(t, view, grouping, { ...zeroScale, scales: new Float32Array(5) })).rejects.toThrow(/entries/);
    await expect(wasm.quant!.groupMinMax(t, view, { granularity: 'block', blockSize: 0 })).rejects.toThrow(/blockSize/);
    t.dispose();
    const empty = await wasm.upload(new Float32Array(0));
    const none = await wasm.quant!.quantizeGroups(empty, { outer: 0, axisLength: 4, inner: 1 }, grouping, {
      ...zeroScale,
      scales: new Float32Array(4).fill(1),
      invScales: new Float32Array(4).fill(1),
    });
    expect([none.codes.length, none.signal, none.noise, none.maxAbsError]).toEqual([0, 0, 0, 0]);
    expect(Array.from((await wasm.quant!.groupMinMax(empty, { outer: 0, axisLength: 2, inner: 1 }, grouping)).min)).toEqual([Infinity, Infinity]);
  });

  it('packs nibbles like the reference for every length and code', async () => {
    const wasm = await createWasmBackend();
    for (const n of [0, 1, 2, 31, 32, 33, 63, 64, 65, 1000, 4097]) {
      const codes = Int16Array.from({ length: n }, (_, i) => ((i * 7) % 31) - 15);
      expect(await wasm.quant!.packNibbles(codes)).toEqual(packNibblesOf(codes));
    }
    quantTuning.chunkElements = 99; // odd: chunks still start on a byte
    const codes = Int16Array.from({ length: 1001 }, (_, i) => (i % 16) - 8);
    expect(await wasm.quant!.packNibbles(codes)).toEqual(packNibblesOf(codes));
  });

  it('quantizes a 12M-element tensor in several chunks on a fresh heap (memory grows mid-call)', async () => {
    const wasm = await createWasmBackend();
    const view = { outer: 3000, axisLength: 4000, inner: 1 }; // MatMul [3000, 4000] per output column: 3 chunks
    const grouping: Grouping = { granularity: 'channel', blockSize: 0 };
    const n = 12_000_000;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * (1 + (i % 4000) / 1000);
    data[5_000_123] = NaN;
    const t = await wasm.upload(data);
    const grownBefore = wasm.memoryBytes;
    const { min, max } = await wasm.quant!.groupMinMax(t, view, grouping);
    const params = minMaxParams(min, max, 8, true);
    const a = await wasm.quant!.quantizeGroups(t, view, grouping, params);
    expect(wasm.memoryBytes).toBeGreaterThan(grownBefore);
    const b = quantizeGroupsOf(data, view, grouping, params);
    expect(a.codes.length).toBe(n);
    expect(b.codes.findIndex((c, i) => c !== a.codes[i] || !Object.is(b.dequantized[i], a.dequantized[i]))).toBe(-1);
    expect(a.maxAbsError).toBe(b.maxAbsError);
    expect(rel(a.noise, b.noise)).toBeLessThan(1e-5);
    t.dispose();
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });
});

// ---------------------------------------------------------------------------------------------- pruning

/** First element where two masked results differ (±0 and NaN payload-insensitive), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

async function expectNMMatches(wasm: WasmKernelBackend, data: Float32Array, view: NMView, n: number, m: number, tag: string): Promise<void> {
  const t = await wasm.upload(data);
  try {
    const got = await wasm.prune.nmMask(t, view, n, m);
    const want = nmMaskOf(data, view, n, m);
    const i = firstDiff(got.values, want.values);
    expect(i, `${tag} ${n}:${m}: element ${i} (x = ${data[i]}) ${got.values[i]} vs ${want.values[i]}`).toBe(-1);
    expect(got.zeros, `${tag} ${n}:${m}: zeros`).toBe(want.zeros);
  } finally {
    t.dispose();
  }
}

/** Rows (Conv / Gemm transB: kStride 1) and columns (MatMul [K, N]: lineStride 1) views of a [lines, length] weight. */
const rowsView = (lines: number, length: number): NMView => ({ lines, length, lineStride: length, kStride: 1 });
const colsView = (K: number, N: number): NMView => ({ lines: N, length: K, lineStride: 1, kStride: N });

/** Values with many exact ties (±0 included) and a few specials. */
function tiedData(n: number, seed: number, specials = true): Float32Array {
  const r = rng(seed);
  const data = Float32Array.from({ length: n }, () => [0, -0, 0.5, -0.5, 1, -1, 0.25, 2][Math.floor(r() * 8)]! * (r() < 0.5 ? 1 : 1 + Math.floor(r() * 3)));
  if (specials) for (let i = 3; i < n; i += 37) data[i] = [NaN, Infinity, -Infinity, -0, 1e-45, 3e38][Math.floor(r() * 6)]!;
  return data;
}

describe('WASM SIMD pruning kernels', () => {
  const tuning = structuredClone(pruneTuning);
  afterEach(() => Object.assign(pruneTuning, structuredClone(tuning)));

  it('matches the TypeScript reference on the parity suite', async () => {
    expect(await checkPruneParity(await createWasmBackend())).toEqual([]);
  });

  it('maskBelow: exact for every threshold (unrepresentable, subnormal, ±Inf, NaN, ≤ 0), specials, ±0, odd lengths', async () => {
    const wasm = await createWasmBackend();
    const f3 = Math.fround(0.3);
    expect(f3 + 6e-17).toBeGreaterThan(f3);
    expect(Math.fround(f3 + 6e-17)).toBe(f3);
    for (const n of [1, 3, 4, 15, 16, 17, 63, 64, 65, 1000, 4099]) {
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.71) * 0.3);
      for (let i = 0; i < n; i += 13) data[i] = [NaN, Infinity, -Infinity, 0, -0, 0.2, -0.2, 1e-45, -1e-40, 0.1, Math.fround(0.1), 3.4e38, -f3][(i / 13) % 13]!;
      const t = await wasm.upload(data);
      // f3 + 6e-17: a float64 just above a float32 (its float32 rounding is below it, so |f3| < it).
      for (const threshold of [
        0.2,
        Math.fround(0.2),
        0.1,
        Math.fround(0.1),
        f3,
        f3 + 6e-17,
        1e-45,
        7e-46,
        1e-300,
        0,
        -0,
        -1,
        NaN,
        Infinity,
        -Infinity,
        3.5e38,
        1e300,
        0.125,
      ]) {
        for (const chunk of [1 << 16, 16, 5]) {
          pruneTuning.chunkElements = chunk;
          const got = await wasm.prune.maskBelow(t, threshold);
          const want = maskBelowOf(data, threshold);
          const i = firstDiff(got.values, want.values);
          expect(i, `n ${n} threshold ${threshold}: element ${i} (x = ${data[i]}) ${got.values[i]} vs ${want.values[i]}`).toBe(-1);
          expect(got.zeros, `n ${n} threshold ${threshold}: zeros`).toBe(want.zeros);
        }
      }
      t.dispose();
    }
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });

  it('nmMask: ties keep the earlier, NaN anywhere in a group, ±Inf, ±0, ragged tails, 2:4, 4:8 and other N:M, both layouts', async () => {
    const wasm = await createWasmBackend();
    const fallbacks = pruneFallbacks.count;
    // Hand-made groups of 4 and 8: each a worst case for the order (NaN first / later, all equal, ±0, Inf ties).
    const groups = [
      [1, 1, 1, 1],
      [0, -0, -0, 0],
      [-0, 0, 0, -0],
      [NaN, 1, 3, 2],
      [1, NaN, 3, 2],
      [1, 3, NaN, 2],
      [NaN, NaN, 1, NaN],
      [Infinity, -Infinity, Infinity, 1],
      [-2, 2, -2, 2],
      [1e-45, -1e-45, 0, 1e-45],
      [3, 2, 2, 3],
      [0.5, 0.25, 0.5, 0.25],
    ];
    const flat = Float32Array.from(groups.flat());
    for (const [n, m] of [
      [2, 4],
      [1, 4],
      [3, 4],
      [0, 4],
      [4, 4],
      [4, 8],
      [2, 8],
      [6, 8],
      [1, 2],
      [2, 3],
      [1, 1],
    ] as const) {
      await expectNMMatches(wasm, flat, rowsView(1, flat.length), n, m, 'hand-made rows');
      await expectNMMatches(wasm, flat, rowsView(groups.length, 4), n, m, 'hand-made rows of 4');
      // The same groups down columns: column c of the [4, 12] transpose holds group c.
      const cols = Float32Array.from({ length: flat.length }, (_, i) => flat[(i % groups.length) * 4 + Math.floor(i / groups.length)]!);
      await expectNMMatches(wasm, cols, colsView(4, groups.length), n, m, 'hand-made columns');
    }
    const nm = [
      [2, 4],
      [4, 8],
      [1, 4],
      [3, 8],
      [0, 8],
      [8, 8],
      [2, 5],
      [5, 16],
      [16, 64],
      [1, 3],
      [31, 64],
    ] as const;
    const shapes = [
      [1, 1],
      [3, 7],
      [5, 4],
      [2, 9],
      [7, 8],
      [13, 27],
      [33, 100],
      [64, 66],
      [4, 1003],
      [1, 257],
      [129, 5],
      [17, 130],
    ] as const;
    for (const [s, [a, b]] of shapes.entries()) {
      const data = tiedData(a * b, s + 1);
      for (const [n, m] of nm) {
        await expectNMMatches(wasm, data, rowsView(a, b), n, m, `rows [${a}, ${b}]`);
        await expectNMMatches(wasm, data, colsView(a, b), n, m, `columns [${a}, ${b}]`);
      }
    }
    expect(pruneFallbacks.count).toBe(fallbacks); // all on the kernels
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });

  it('nmMask: chunk boundaries inside rows and between column groups (fuzz over shapes, N:M, data, chunk sizes)', async () => {
    const wasm = await createWasmBackend();
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed * 104729);
      const ri = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
      pruneTuning.chunkElements = [1 << 16, 1, 7, 100, 1000][seed % 5]!;
      const [n, m] = (
        [
          [2, 4],
          [4, 8],
          [1, 4],
          [2, 8],
          [3, 6],
          [1, 2],
          [7, 16],
          [0, 4],
          [4, 4],
        ] as const
      )[ri(0, 8)]!;
      const a = ri(1, 70);
      const b = ri(1, 90);
      const data = r() < 0.5 ? tiedData(a * b, seed, r() < 0.5) : Float32Array.from({ length: a * b }, () => (r() - 0.5) * [1, 1e-40, 1e30][ri(0, 2)]!);
      if (r() < 0.3) for (let k = ri(1, 5); k > 0; k--) data[ri(0, a * b - 1)] = [NaN, Infinity, -Infinity, -0][ri(0, 3)]!;
      await expectNMMatches(wasm, data, rowsView(a, b), n, m, `seed ${seed} rows [${a}, ${b}] chunk ${pruneTuning.chunkElements}`);
      await expectNMMatches(wasm, data, colsView(a, b), n, m, `seed ${seed} columns [${a}, ${b}] chunk ${pruneTuning.chunkElements}`);
    }
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });

  it('nmMask: other views, M > 64 and N > M run the reference; invalid arguments are rejected', async () => {
    const wasm = await createWasmBackend();
    const data = tiedData(120, 5);
    const t = await wasm.upload(data);
    const before = pruneFallbacks.count;
    const others: [NMView, number, number][] = [
      [{ lines: 2, length: 30, lineStride: 60, kStride: 2 }, 2, 4], // every other element of each half
      [{ lines: 10, length: 6, lineStride: 12, kStride: 1 }, 2, 4], // every other half-row
      [{ lines: 3, length: 40, lineStride: 1, kStride: 3 }, 2, 4], // a tiling columns view: on the kernels
      [rowsView(1, 120), 3, 100], // M > 64
      [rowsView(2, 60), 5, 4], // N > M keeps everything
    ];
    for (const [view, n, m] of others) {
      const got = await wasm.prune.nmMask(t, view, n, m);
      const want = nmMaskOf(data, view, n, m);
      expect(firstDiff(got.values, want.values)).toBe(-1);
      expect(got.zeros).toBe(want.zeros);
    }
    expect(pruneFallbacks.count - before).toBe(4);
    await expect(wasm.prune.nmMask(t, rowsView(2, 60), 1.5, 4)).rejects.toThrow(/integers/);
    await expect(wasm.prune.nmMask(t, rowsView(2, 60), 2, 0)).rejects.toThrow(/integers/);
    await expect(wasm.prune.nmMask(t, rowsView(3, 60), 2, 4)).rejects.toThrow(/beyond/);
    await expect(wasm.prune.nmMask(t, { lines: 2, length: 60, lineStride: -1, kStride: 1 }, 2, 4)).rejects.toThrow(/non-negative/);
    t.dispose();
  });

  it('channelNorms: float64 sums over finite values in every layout (runs, widened rows, column slabs), tiny and huge values', async () => {
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
      [1, 9603, 1],
      [300, 64, 1],
      [77, 4, 40],
      [3, 70, 5],
    ];
    for (const slab of [1 << 14, 4, 12, 100]) {
      pruneTuning.normSlab = slab;
      for (const [s, [outer, channels, inner]] of (layouts as [number, number, number][]).entries()) {
        const n = outer * channels * inner;
        const amp = [1, 1e-30, 1e30][s % 3]!; // float32 squares of 1e-30 underflow, of 1e30 overflow
        const data = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.7) * (1 + (i % 11)) * amp);
        for (let i = 5; i < n; i += 41) data[i] = [NaN, Infinity, -Infinity, 0, 3e38, -1e-45][i % 6]!;
        if (channels > 1) for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) data[(o * channels + 1) * inner + i] = NaN; // an all-NaN channel
        const t = await wasm.upload(data);
        for (const norm of ['l1', 'l2'] as const) {
          const got = await wasm.prune.channelNorms(t, { outer, channels, inner }, norm);
          const want = channelNormsOf(data, { outer, channels, inner }, norm);
          const bad = want.findIndex((v, c) => !(rel(got[c]!, v) <= 1e-9));
          expect(bad, `${outer}×${channels}×${inner} ${norm} slab ${slab}: channel ${bad} ${got[bad]} vs ${want[bad]}`).toBe(-1);
        }
        t.dispose();
      }
    }
    const t = await wasm.upload(new Float32Array(12));
    await expect(wasm.prune.channelNorms(t, { outer: 2, channels: 2, inner: 2 }, 'l1')).rejects.toThrow(/does not match/);
    expect(await wasm.prune.channelNorms(t, { outer: 12, channels: 0, inner: 0 }, 'l2').catch(() => 'rejected')).toBe('rejected');
    t.dispose();
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });

  it('masks a 12M-element tensor in many chunks on a fresh heap: maskBelow and 2:4 / 4:8 in both layouts', async () => {
    const wasm = await createWasmBackend();
    const K = 3000;
    const N = 4000;
    const n = K * N;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * (1 + (i % 4000) / 1000);
    for (let i = 12345; i < n; i += 999_983) data[i] = [NaN, Infinity, -0][i % 3]!;
    data.fill(0.5, 6_000_000, 6_000_100); // a run of ties
    const t = await wasm.upload(data);
    const check = (got: { values: Float32Array; zeros: number }, want: { values: Float32Array; zeros: number }, tag: string) => {
      expect(firstDiff(got.values, want.values), tag).toBe(-1);
      expect(got.zeros, tag).toBe(want.zeros);
    };
    check(await wasm.prune.maskBelow(t, 0.7), maskBelowOf(data, 0.7), 'maskBelow');
    for (const [nn, m] of [
      [2, 4],
      [4, 8],
    ] as const) {
      check(await wasm.prune.nmMask(t, rowsView(K, N), nn, m), nmMaskOf(data, rowsView(K, N), nn, m), `rows ${nn}:${m}`);
      check(await wasm.prune.nmMask(t, colsView(K, N), nn, m), nmMaskOf(data, colsView(K, N), nn, m), `columns ${nn}:${m}`);
    }
    const layout = { outer: K, channels: N, inner: 1 };
    const got = await wasm.prune.channelNorms(t, layout, 'l2');
    const want = channelNormsOf(data, layout, 'l2');
    expect(want.findIndex((v, c) => !(rel(got[c]!, v) <= 1e-9))).toBe(-1);
    t.dispose();
    expect(wasm.heapInUse).toBeLessThanOrEqual(64);
  });
});
