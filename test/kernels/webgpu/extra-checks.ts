/**
 * Extra parity checks for the WebGPU backend beyond ../parity.ts: every channelStats strategy and grid shape,
 * histograms in global-atomic and private-bin variants, degenerate ranges, subnormals, gatherBins with more
 * wanted bins than one pass holds, odd-length decodes. Framework-free (Node child process and browser page).
 */
import { gaussian } from '../parity';
import { channelStatsOf, decodeHalfOf, gatherBinsOf, histogramOf, momentsOf } from '../../../src/kernels/ts/reference';
import type { ChannelLayout, KernelBackend } from '../../../src/kernels/types';

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
const close = (a: number, b: number, scale: number) =>
  Number.isNaN(a) || Number.isNaN(b) ? Number.isNaN(a) && Number.isNaN(b) : Math.abs(a - b) <= 1e-5 * Math.max(scale, 1e-30) + 1e-30;

function withSpecials(n: number, seed: number): Float32Array {
  const d = gaussian(n, seed);
  for (let i = 5; i < n; i += 97) d[i] = NaN;
  for (let i = 11; i < n; i += 389) d[i] = i % 2 ? Infinity : -Infinity;
  for (let i = 17; i < n; i += 13) d[i] = 0;
  return d;
}

export async function extraChecks(backend: KernelBackend): Promise<string[]> {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`${backend.name} · extra: ${what}`);

  // channelStats: every strategy (serial, columns with P > 1 and P = 1, runs with several slices/blocks)
  const layouts: ChannelLayout[] = [
    { outer: 1, channels: 1000, inner: 9 }, // serial
    { outer: 2, channels: 70_000, inner: 1 }, // serial, many workgroups
    { outer: 300, channels: 7, inner: 5 }, // columns, 35 columns, 7 rows per pass
    { outer: 40, channels: 300, inner: 3 }, // columns, 900 columns, 4 column blocks
    { outer: 5000, channels: 3, inner: 1 }, // columns, 85 rows per pass
    { outer: 70_000, channels: 1, inner: 1 }, // columns, one column
    { outer: 3, channels: 5, inner: 200 }, // runs, whole channel per workgroup
    { outer: 1, channels: 2, inner: 100_000 }, // runs, many inner blocks
    { outer: 500, channels: 4, inner: 64 }, // runs, many outer slices
    { outer: 1, channels: 3, inner: 0 }, // empty
  ];
  for (const layout of layouts) {
    const n = layout.outer * layout.channels * layout.inner;
    const data = withSpecials(n, n + 3);
    if (layout.channels === 7) for (let o = 0; o < layout.outer; o++) for (let i = 0; i < layout.inner; i++) data[(o * 7 + 4) * layout.inner + i] = NaN; // an all-NaN channel
    const t = await backend.upload(data);
    try {
      const got = await backend.channelStats(t, layout);
      const ref = channelStatsOf(data, layout);
      const tag = `channelStats(${layout.outer}×${layout.channels}×${layout.inner})`;
      for (let c = 0; c < layout.channels; c++) {
        if (!same(got.min[c]!, ref.min[c]!) || !same(got.max[c]!, ref.max[c]!) || !same(got.absMax[c]!, ref.absMax[c]!)) {
          fail(`${tag} channel ${c} min/max ${got.min[c]}/${got.max[c]} ≠ ${ref.min[c]}/${ref.max[c]}`);
          break;
        }
        const scale = Math.sqrt(ref.sumSq[c]!) * Math.sqrt(layout.outer * layout.inner);
        if (!close(got.sum[c]!, ref.sum[c]!, scale) || !close(got.sumSq[c]!, ref.sumSq[c]!, ref.sumSq[c]!)) {
          fail(`${tag} channel ${c} sum/sumSq ${got.sum[c]}/${got.sumSq[c]} vs ${ref.sum[c]}/${ref.sumSq[c]}`);
          break;
        }
      }
    } finally {
      t.dispose();
    }
  }

  // histograms: private-bin sizes and the global-atomic variant, reversed / NaN / degenerate ranges
  const data = withSpecials(300_001, 5);
  const t = await backend.upload(data);
  try {
    for (const [bins, lo, hi] of [
      [1, -1, 1],
      [300, -2, 2],
      [1024, -3, 0.5],
      [4096, -4, 4],
      [5000, -4, 4],
      [70_000, -4.5, 4.25],
      [10, 1, -1],
      [10, NaN, 1],
      [10, 0.5, 0.5],
      [8, -Infinity, 0],
      [8, 0, Infinity],
      [8, -0, 1],
    ] as const) {
      const h = await backend.histogram(t, bins, lo, hi);
      const ref = histogramOf(data, bins, lo, hi);
      const i = ref.findIndex((v, j) => v !== h[j]);
      if (h.length !== bins || i >= 0) fail(`histogram(${bins}, ${lo}, ${hi}) bin ${i}: ${h[i]} ≠ ${ref[i]}`);
    }
    // gatherBins: > 256 wanted bins (two passes), duplicates and out-of-range bins
    const bins = 1000;
    const wanted = Int32Array.from({ length: 600 }, (_, k) => k * 2 - 50);
    wanted[10] = wanted[9]!;
    const got = await backend.gatherBins(t, bins, -3, 3, wanted);
    const ref = gatherBinsOf(data, bins, -3, 3, wanted);
    ref.forEach((r, k) => {
      const a = Float32Array.from(got[k] ?? []).sort();
      const b = Float32Array.from(r).sort();
      if (a.length !== b.length || a.some((v, i) => !same(v, b[i]!))) fail(`gatherBins wanted[${k}] = ${wanted[k]}: ${a.length} values vs ${b.length}`);
    });
  } finally {
    t.dispose();
  }

  // subnormals: exact min/max/zero count and histogram range tests with subnormal values and bounds
  const sub = Float32Array.from({ length: 4001 }, (_, i) => (i - 2000) * 1e-42);
  sub[7] = -0;
  sub[4000] = 1.5e-39;
  const ts = await backend.upload(sub);
  try {
    const m = await backend.moments(ts);
    const r = momentsOf(sub);
    if (!same(m.min, r.min) || !same(m.max, r.max) || m.zeroCount !== r.zeroCount)
      fail(`subnormal moments min/max/zeros ${m.min}/${m.max}/${m.zeroCount} ≠ ${r.min}/${r.max}/${r.zeroCount}`);
    for (const [bins, lo, hi] of [
      [16, -1e-39, 1e-39],
      [4, 1e-42, 1],
      [4, -1, -1e-42],
    ] as const) {
      const h = await backend.histogram(ts, bins, lo, hi);
      const ref = histogramOf(sub, bins, lo, hi);
      const i = ref.findIndex((v, j) => v !== h[j]);
      if (i >= 0) fail(`subnormal histogram(${bins}, ${lo}, ${hi}) bin ${i}: ${h[i]} ≠ ${ref[i]}`);
    }
    const cs = await backend.channelStats(ts, { outer: 1, channels: 1, inner: sub.length });
    if (!same(cs.min[0]!, r.min) || !same(cs.max[0]!, r.max)) fail(`subnormal channelStats min/max ${cs.min[0]}/${cs.max[0]} ≠ ${r.min}/${r.max}`);
  } finally {
    ts.dispose();
  }

  // decodeHalf: odd lengths
  for (const n of [1, 3, 1001]) {
    const bits = Uint16Array.from({ length: n }, (_, i) => (i * 40_503 + 7) & 0xffff);
    for (const kind of ['fp16', 'bf16'] as const) {
      const got = await backend.decodeHalf(bits, kind);
      const ref = decodeHalfOf(bits, kind);
      const i = ref.findIndex((v, j) => !same(v, got[j]!));
      if (got.length !== n || i >= 0) fail(`decodeHalf ${kind} length ${n} at ${i}: ${got[i]} ≠ ${ref[i]}`);
    }
  }
  return problems;
}
