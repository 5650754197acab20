/**
 * Backend parity suite: runs every kernel of a backend on the same inputs as the reference and lists
 * the differences. Framework-free so it runs in vitest (Node), in a browser page and on a real GPU.
 *
 * Tolerances: integer outputs (counts, histograms, gathered values) and min/max/absMax exact;
 * sums relative 1e-5 of Σ|x| (float32 partial sums on the GPU), sums of squares relative 1e-5.
 */
import { seededRandom } from '../../src/core/eval/synthetic';
import { floatToBf16Bits, floatToFp16Bits } from '../../src/kernels/codecs/half';
import type { GroupView, Grouping } from '../../src/kernels/quant';
import { channelStatsOf, decodeHalfOf, gatherBinsOf, histogramOf, momentsOf, referenceBackend } from '../../src/kernels/ts/reference';
import type { ChannelLayout, KernelBackend } from '../../src/kernels/types';

export interface ParityCase {
  name: string;
  data: Float32Array;
}

/** The seeded generator of the synthetic inputs (mulberry32). */
export const rng = seededRandom;

export function gaussian(n: number, seed = 1, std = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

export function parityCases(): ParityCase[] {
  const withSpecials = gaussian(100_003, 7);
  [3, 500, 77_777].forEach((i) => (withSpecials[i] = NaN));
  withSpecials[10] = Infinity;
  withSpecials[11] = -Infinity;
  for (let i = 20; i < 2000; i += 3) withSpecials[i] = 0;
  const heavy = gaussian(65_536, 3, 0.02);
  heavy[100] = 9.5; // an outlier channel value
  heavy[40_000] = -7.25;
  return [
    { name: 'empty', data: new Float32Array(0) },
    { name: 'one value', data: new Float32Array([-2.5]) },
    { name: 'odd length 13', data: Float32Array.from({ length: 13 }, (_, i) => (i - 6) * 0.75) },
    { name: 'gaussian 1M', data: gaussian(1 << 20, 42) },
    { name: 'NaN, ±Inf and zeros', data: withSpecials },
    { name: 'all NaN', data: new Float32Array(37).fill(NaN) },
    { name: 'heavy tails', data: heavy },
    { name: 'constant', data: new Float32Array(4099).fill(0.125) },
  ];
}

const LAYOUTS: ((n: number) => ChannelLayout | undefined)[] = [
  (n) => (n % 64 === 0 ? { outer: 1, channels: 64, inner: n / 64 } : undefined), // Conv / Gemm(transB) rows
  (n) => (n % 16 === 0 ? { outer: n / 16, channels: 16, inner: 1 } : undefined), // MatMul [K, N] columns
  (n) => (n % 24 === 0 ? { outer: 2, channels: 3, inner: n / 6 } : undefined), // ConvTranspose-like middle axis
  (n) => (n > 0 ? { outer: 1, channels: 1, inner: n } : undefined),
];

function sameFloat(a: number, b: number): boolean {
  return Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function closeRel(a: number, b: number, scale: number, rel = 1e-5): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= rel * Math.max(scale, 1e-30) + 1e-30;
}

/** Runs every kernel on every case; returns human-readable differences (empty when the backend matches). */
export async function checkParity(backend: KernelBackend, cases = parityCases()): Promise<string[]> {
  const problems: string[] = [];
  const fail = (c: string, what: string) => problems.push(`${backend.name} · ${c}: ${what}`);
  for (const { name, data } of cases) {
    const t = await backend.upload(data);
    try {
      const want = momentsOf(data);
      const got = await backend.moments(t);
      for (const k of ['count', 'nanCount', 'posInfCount', 'negInfCount', 'zeroCount'] as const) {
        if (got[k] !== want[k]) fail(name, `moments.${k} ${got[k]} ≠ ${want[k]}`);
      }
      for (const k of ['min', 'max', 'absMax'] as const) if (!sameFloat(got[k], want[k])) fail(name, `moments.${k} ${got[k]} ≠ ${want[k]}`);
      let absSum = 0;
      for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i]!)) absSum += Math.abs(data[i]!);
      if (!closeRel(got.sum, want.sum, absSum)) fail(name, `moments.sum ${got.sum} vs ${want.sum}`);
      if (!closeRel(got.sumSq, want.sumSq, want.sumSq)) fail(name, `moments.sumSq ${got.sumSq} vs ${want.sumSq}`);

      if (Number.isFinite(want.min)) {
        for (const [bins, lo, hi] of [
          [256, want.min, want.max],
          [1000, -1, 1],
          [7, want.min / 2, want.max / 3],
        ] as const) {
          const h = await backend.histogram(t, bins, lo, hi);
          const ref = histogramOf(data, bins, lo, hi);
          if (h.length !== bins || h.some((v, i) => v !== ref[i])) {
            const i = h.findIndex((v, j) => v !== ref[j]);
            fail(name, `histogram(${bins}, ${lo}, ${hi}) bin ${i}: ${h[i]} ≠ ${ref[i]}`);
          }
          const wanted = Int32Array.from(new Set([0, bins >> 1, bins - 1]));
          const gathered = await backend.gatherBins(t, bins, lo, hi, wanted);
          const refGathered = gatherBinsOf(data, bins, lo, hi, wanted);
          gathered.forEach((g, k) => {
            const a = Float32Array.from(g).sort();
            const b = Float32Array.from(refGathered[k]!).sort();
            if (a.length !== b.length || a.some((v, i) => !sameFloat(v, b[i]!))) fail(name, `gatherBins bin ${wanted[k]}: ${a.length} values vs ${b.length}`);
          });
        }
      }

      for (const make of LAYOUTS) {
        const layout = make(data.length);
        if (!layout) continue;
        const got = await backend.channelStats(t, layout);
        const ref = channelStatsOf(data, layout);
        const tag = `channelStats(${layout.outer}×${layout.channels}×${layout.inner})`;
        for (let c = 0; c < layout.channels; c++) {
          if (!sameFloat(got.min[c]!, ref.min[c]!) || !sameFloat(got.max[c]!, ref.max[c]!) || !sameFloat(got.absMax[c]!, ref.absMax[c]!)) {
            fail(name, `${tag} channel ${c} min/max ${got.min[c]}/${got.max[c]} ≠ ${ref.min[c]}/${ref.max[c]}`);
            break;
          }
          if (
            !closeRel(got.sum[c]!, ref.sum[c]!, Math.sqrt(ref.sumSq[c]!) * Math.sqrt(layout.outer * layout.inner)) ||
            !closeRel(got.sumSq[c]!, ref.sumSq[c]!, ref.sumSq[c]!)
          ) {
            fail(name, `${tag} channel ${c} sum/sumSq ${got.sum[c]}/${got.sumSq[c]} vs ${ref.sum[c]}/${ref.sumSq[c]}`);
            break;
          }
        }
      }
    } finally {
      t.dispose();
    }
  }

  // Every fp16 and bf16 bit pattern must decode exactly as the reference.
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  for (const kind of ['fp16', 'bf16'] as const) {
    const got = await backend.decodeHalf(all, kind);
    const ref = decodeHalfOf(all, kind);
    const i = ref.findIndex((v, j) => !sameFloat(v, got[j]!) && !(Number.isNaN(v) && Number.isNaN(got[j]!)));
    if (got.length !== ref.length || i >= 0) fail('decodeHalf', `${kind} bits 0x${i.toString(16)}: ${got[i]} ≠ ${ref[i]}`);
  }
  // Round-trip sanity: encoded values decode back.
  const sample = gaussian(1001, 9);
  const halfBits = Uint16Array.from(sample, (v) => floatToFp16Bits(v));
  const bfBits = Uint16Array.from(sample, (v) => floatToBf16Bits(v));
  const h = await backend.decodeHalf(halfBits, 'fp16');
  const b = await backend.decodeHalf(bfBits, 'bf16');
  if (sample.some((v, i) => Math.abs(v - h[i]!) > Math.abs(v) * 1e-3 + 1e-7)) fail('decodeHalf', 'fp16 round trip off by more than 1e-3 relative');
  if (sample.some((v, i) => Math.abs(v - b[i]!) > Math.abs(v) * 8e-3 + 1e-7)) fail('decodeHalf', 'bf16 round trip off by more than 8e-3 relative');
  return problems;
}

// ---------------------------------------------------------------- quantization kernels

const QUANT_LAYOUTS: { view: GroupView; grouping: Grouping }[] = [
  { view: { outer: 1, axisLength: 4096, inner: 1 }, grouping: { granularity: 'tensor', blockSize: 1 } },
  { view: { outer: 1, axisLength: 64, inner: 72 }, grouping: { granularity: 'channel', blockSize: 1 } }, // Conv [64, 8, 3, 3]
  { view: { outer: 784, axisLength: 64, inner: 1 }, grouping: { granularity: 'channel', blockSize: 1 } }, // MatMul [784, 64] columns
  { view: { outer: 64, axisLength: 784, inner: 1 }, grouping: { granularity: 'block', blockSize: 32 } }, // Gemm transB [64, 784], blocks along K (ragged)
  { view: { outer: 1, axisLength: 100, inner: 48 }, grouping: { granularity: 'block', blockSize: 16 } }, // MatMul [K=100, N=48] blocks along axis 0
];

/** Parity of a backend's quantization kernels with the reference: codes, dequantized values and min/max exact. */
export async function checkQuantParity(backend: KernelBackend): Promise<string[]> {
  const problems: string[] = [];
  const quant = backend.quant;
  if (!quant) return [`${backend.name}: no quantization kernels`];
  const ref = referenceQuant();
  for (const [k, { view, grouping }] of QUANT_LAYOUTS.entries()) {
    const n = view.outer * view.axisLength * view.inner;
    const data = gaussian(n, 100 + k, 0.1);
    data[5] = 2.5; // outlier
    if (k === 1) data[17] = NaN; // a NaN quantizes as 0 and is left out of min/max and error sums
    const tag = `${backend.name} · quant layout ${k} (${grouping.granularity})`;
    const t = await backend.upload(data);
    const h = await referenceBackend.upload(data);
    try {
      const got = await quant.groupMinMax(t, view, grouping);
      const want = await ref.groupMinMax(h, view, grouping);
      const bad = want.min.findIndex((v, g) => !sameFloat(v, got.min[g]!) || !sameFloat(want.max[g]!, got.max[g]!));
      if (bad >= 0) problems.push(`${tag}: groupMinMax group ${bad} ${got.min[bad]}/${got.max[bad]} ≠ ${want.min[bad]}/${want.max[bad]}`);
      for (const bits of [8, 4]) {
        const qmax = 2 ** (bits - 1) - 1;
        const scales = Float32Array.from(want.max, (hi, g) => Math.fround(Math.max(hi, -want.min[g]!) / qmax) || 1);
        const invScales = scales.map((s) => Math.fround(1 / s));
        const zeroPoints = Int32Array.from(scales, (_, g) => (g % 3) - 1); // exercise non-zero zero points
        const params = { scales, invScales, zeroPoints, qmin: -qmax - 1, qmax };
        const a = await quant.quantizeGroups(t, view, grouping, params);
        const b = await ref.quantizeGroups(h, view, grouping, params);
        const i = b.codes.findIndex((c, j) => c !== a.codes[j] || !sameFloat(b.dequantized[j]!, a.dequantized[j]!));
        if (i >= 0) problems.push(`${tag} ${bits}-bit: element ${i} code ${a.codes[i]} / ${a.dequantized[i]} ≠ ${b.codes[i]} / ${b.dequantized[i]}`);
        if (!closeRel(a.signal, b.signal, b.signal) || !closeRel(a.noise, b.noise, b.noise) || !sameFloat(a.maxAbsError, b.maxAbsError)) {
          problems.push(`${tag} ${bits}-bit: error sums ${a.signal}/${a.noise}/${a.maxAbsError} vs ${b.signal}/${b.noise}/${b.maxAbsError}`);
        }
        const packedA = await quant.packNibbles(Int16Array.from(a.codes, (c) => Math.max(-8, Math.min(7, c))));
        const packedB = await ref.packNibbles(Int16Array.from(b.codes, (c) => Math.max(-8, Math.min(7, c))));
        if (packedA.length !== packedB.length || packedA.some((v, j) => v !== packedB[j])) problems.push(`${tag}: packNibbles differs`);
      }
      const C = 5;
      const groups = want.min.length;
      const cs = new Float32Array(groups * C);
      for (let g = 0; g < groups; g++)
        for (let c = 0; c < C; c++) cs[g * C + c] = Math.fround(((Math.max(want.max[g]!, -want.min[g]!) || 1) * (1 - c * 0.1)) / 7);
      const cp = { candidates: C, scales: cs, invScales: cs.map((s) => Math.fround(1 / s)), zeroPoints: new Int32Array(groups * C), qmin: -7, qmax: 7 };
      const ea = await quant.candidateErrors(t, view, grouping, cp);
      const eb = await ref.candidateErrors(h, view, grouping, cp);
      const e = eb.findIndex((v, j) => !closeRel(ea[j]!, v, v, 1e-4));
      if (e >= 0) problems.push(`${tag}: candidateErrors[${e}] ${ea[e]} vs ${eb[e]}`);
    } finally {
      t.dispose();
      h.dispose();
    }
  }
  return problems;
}

function referenceQuant() {
  return referenceBackend.quant!;
}

// ---------------------------------------------------------------- pruning kernels

/** Parity of a backend's pruning kernels with the reference: masks and zero counts exact, norms within 1e-5. */
export async function checkPruneParity(backend: KernelBackend): Promise<string[]> {
  const problems: string[] = [];
  const prune = backend.prune;
  if (!prune) return [`${backend.name}: no pruning kernels`];
  const ref = referenceBackend.prune!;
  const data = gaussian(96 * 100 + 3, 77, 0.2);
  data[10] = NaN;
  data[11] = 0;
  data[12] = data[13] = 0.125; // ties
  const t = await backend.upload(data);
  const h = await referenceBackend.upload(data);
  try {
    for (const layout of [
      { outer: 1, channels: 3, inner: 3201 },
      { outer: 3201, channels: 3, inner: 1 },
      { outer: 1, channels: 9603, inner: 1 },
    ]) {
      for (const norm of ['l1', 'l2'] as const) {
        const a = await prune.channelNorms(t, layout, norm);
        const b = await ref.channelNorms(h, layout, norm);
        const i = b.findIndex((v, c) => !closeRel(a[c]!, v, v));
        if (i >= 0) problems.push(`${backend.name} · channelNorms ${norm} ${layout.outer}×${layout.channels}×${layout.inner} channel ${i}: ${a[i]} vs ${b[i]}`);
      }
    }
    for (const threshold of [0, 0.125, 0.2, 10]) {
      const a = await prune.maskBelow(t, threshold);
      const b = await ref.maskBelow(h, threshold);
      const i = b.values.findIndex((v, j) => !sameFloat(v, a.values[j]!));
      if (i >= 0 || a.zeros !== b.zeros)
        problems.push(`${backend.name} · maskBelow(${threshold}): element ${i} ${a.values[i]} ≠ ${b.values[i]}, zeros ${a.zeros}/${b.zeros}`);
    }
    const views = [
      { lines: 3, length: 3201, lineStride: 3201, kStride: 1 }, // Gemm transB [N, K] rows, ragged tail
      { lines: 3, length: 3201, lineStride: 1, kStride: 3 }, // MatMul [K, N] columns
    ];
    for (const view of views) {
      for (const [n, m] of [
        [2, 4],
        [4, 8],
      ]) {
        const a = await prune.nmMask(t, view, n!, m!);
        const b = await ref.nmMask(h, view, n!, m!);
        const i = b.values.findIndex((v, j) => !sameFloat(v, a.values[j]!));
        if (i >= 0 || a.zeros !== b.zeros)
          problems.push(`${backend.name} · nmMask ${n}:${m} stride ${view.kStride}: element ${i} ${a.values[i]} ≠ ${b.values[i]}`);
      }
    }
  } finally {
    t.dispose();
    h.dispose();
  }
  return problems;
}
