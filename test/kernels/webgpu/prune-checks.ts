/**
 * Extra parity checks of a backend's pruning kernels beyond checkPruneParity (../parity.ts): masks compared bit for
 * bit (−0 ≠ +0; NaN payloads aside), thresholds that are not float32 values or are subnormal / NaN / negative /
 * infinite, subnormal magnitudes that a flush-to-zero device would tie, NaN / ±Inf / ±0 inside N:M groups, every
 * N:M shape (ragged runs, N >= M, N = 0, M = 1, M > 32 on the host path, views with gaps, views that may overlap),
 * runs crossing window and buffer boundaries (with small segments / chunks), norms of huge, tiny and subnormal
 * channels, invalid arguments, concurrent calls, and that the input tensor is left unchanged. Framework-free (Node
 * child process and browser page).
 */
import { gaussian } from '../parity';
import type { MaskedValues, NMView } from '../../../src/kernels/prune';
import { channelNormsOf, maskBelowOf, nmMaskOf } from '../../../src/kernels/ts/prune-reference';
import type { ChannelLayout, KernelBackend } from '../../../src/kernels/types';

const wordsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const isNaNBits = (w: number) => (w & 0x7fffffff) > 0x7f800000;
/** Index of the first element whose float32 bits differ (any NaN equals any NaN), or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const x = wordsOf(a);
  const y = wordsOf(b);
  for (let i = 0; i < y.length; i++) if (x[i] !== y[i] && !(isNaNBits(x[i]!) && isNaNBits(y[i]!))) return i;
  return -1;
}
const show = (x: number | undefined) => (Object.is(x, -0) ? '-0' : String(x));
const closeRel = (a: number, b: number) =>
  Number.isNaN(a) || Number.isNaN(b) ? Number.isNaN(a) && Number.isNaN(b) : Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-300;

/** Gaussian data with specials, subnormals, ties and ±0 sprinkled in (also next to 4096- and 40 000-element boundaries). */
function pruneData(n: number, seed: number): Float32Array {
  const d = gaussian(n, seed, 0.3);
  const specials = [
    NaN,
    Infinity,
    -Infinity,
    0,
    -0,
    2 ** -149,
    -(2 ** -149),
    3 * 2 ** -149,
    -2 * 2 ** -149,
    2 ** -126,
    -(2 ** -127),
    1e-40,
    0.125,
    -0.125,
    3.4028234663852886e38,
    -3e38,
    1e-30,
  ];
  for (let i = 0, k = 0; i < n; i += 37 + (i % 11), k++) d[i] = specials[k % specials.length]!;
  for (const at of [4094, 4095, 4096, 4097, 39_998, 39_999, 40_000, 40_001, 79_999, 80_000]) if (at < n) d[at] = specials[at % specials.length]!;
  return d;
}

export async function pruneChecks(backend: KernelBackend): Promise<string[]> {
  const problems: string[] = [];
  const prune = backend.prune;
  if (!prune) return [`${backend.name}: no pruning kernels`];
  const fail = (what: string) => problems.push(`${backend.name} · prune extra: ${what}`);
  const compare = (tag: string, a: MaskedValues, b: MaskedValues) => {
    const i = a.values.length === b.values.length ? firstBitDifference(a.values, b.values) : -1;
    if (a.values.length !== b.values.length) fail(`${tag}: ${a.values.length} values ≠ ${b.values.length}`);
    else if (i >= 0) fail(`${tag}: element ${i} ${show(a.values[i])} ≠ ${show(b.values[i])}`);
    if (a.zeros !== b.zeros) fail(`${tag}: zeros ${a.zeros} ≠ ${b.zeros}`);
  };

  // 1. maskBelow: thresholds exact against float64 (non-float32 thresholds, subnormal, NaN, negative, infinite).
  const data = pruneData(100_003, 11);
  const f01 = Math.fround(0.1);
  data[500] = f01;
  data[501] = -f01;
  data[502] = 2 ** -148;
  data[503] = 1.5 * 2 ** -148; // = 3 · 2^-149
  const t = await backend.upload(data);
  try {
    const thresholds = [
      0,
      -0,
      -1,
      NaN,
      Infinity,
      -Infinity,
      0.1,
      f01,
      f01 + 1e-12,
      f01 - 1e-12,
      2 ** -149,
      1.5 * 2 ** -149,
      1e-50,
      2 ** -148,
      3 * 2 ** -149 + 1e-60,
      2 ** -126,
      1e-30,
      0.3,
      3.4028234663852886e38,
      3.4028235e38,
      3.5e38,
      1e300,
    ];
    for (const threshold of thresholds) compare(`maskBelow(${threshold})`, await prune.maskBelow(t, threshold), maskBelowOf(data, threshold));

    // 2. nmMask: every view shape on the 100 003-element tensor (several windows / segments when split).
    const views: [string, NMView][] = [
      ['rows, ragged', { lines: 96, length: 1031, lineStride: 1031, kStride: 1 }],
      ['rows with gaps', { lines: 900, length: 97, lineStride: 111, kStride: 1 }],
      ['columns [K=1000, N=100]', { lines: 100, length: 1000, lineStride: 1, kStride: 100 }],
      ['columns [K=20, N=5000] (run spans 15 001 elements)', { lines: 5000, length: 20, lineStride: 1, kStride: 5000 }],
      ['middle axis', { lines: 7, length: 1000, lineStride: 1, kStride: 13 }],
      ['one line', { lines: 1, length: 100_003, lineStride: 0, kStride: 1 }],
      ['one line, strided', { lines: 1, length: 33_334, lineStride: 0, kStride: 3 }],
      ['one column', { lines: 100_003, length: 1, lineStride: 1, kStride: 0 }],
      ['interleaved (host path)', { lines: 40, length: 1000, lineStride: 2, kStride: 3 }],
      ['empty view', { lines: 0, length: 4, lineStride: 4, kStride: 1 }],
    ];
    const shapes: [number, number][] = [
      [2, 4],
      [4, 8],
      [1, 4],
      [3, 4],
      [0, 4],
      [4, 4],
      [5, 4],
      [2, 3],
      [16, 32],
      [1, 1],
      [2, 33],
      [20, 64],
    ];
    for (const [what, view] of views) {
      for (const [n, m] of what.startsWith('rows, ragged') || what.startsWith('columns [K=1000') ? shapes : shapes.slice(0, 2)) {
        compare(`nmMask ${n}:${m} ${what}`, await prune.nmMask(t, view, n, m), nmMaskOf(data, view, n, m));
      }
    }
    // the tensor itself is left unchanged
    compare('maskBelow(0) after nmMask (input unchanged)', await prune.maskBelow(t, 0), maskBelowOf(data, 0));
  } finally {
    t.dispose();
  }

  // 3. nmMask groups built to tell exact selection from approximations: NaN first / later in a run, subnormals that
  //    differ only below the flush threshold, ±0 ties, ±Inf, equal magnitudes of opposite sign.
  {
    const S = 2 ** -149;
    const groups = [
      [NaN, 1, 2, 3],
      [1, NaN, 2, 3],
      [1, 2, NaN, 3],
      [NaN, NaN, 1, 0],
      [NaN, NaN, NaN, NaN],
      [0, -0, 0, -0],
      [-0, 0, -0, 0],
      [S, 2 * S, 3 * S, -S],
      [-3 * S, 2 * S, 3 * S, S],
      [2 ** -126, -(2 ** -127), 2 ** -127, S],
      [Infinity, -Infinity, 1, 2],
      [1, -1, 1, -1],
      [-2, 2, -2, 1],
      [0.5, 0.25, -0.5, 0.25],
      [3e38, -3.4028234663852886e38, Infinity, NaN],
      [0, 0, 0, S],
      [1e-45, 0, -1e-45, -0],
      [NaN, -0, 0, NaN],
    ];
    const flat = Float32Array.from(groups.flat());
    const ts = await backend.upload(flat);
    try {
      for (const [n, m] of [
        [2, 4],
        [1, 4],
        [3, 4],
        [1, 2],
        [2, 8],
      ] as const) {
        const view = { lines: 1, length: flat.length, lineStride: 0, kStride: 1 };
        compare(`nmMask ${n}:${m} hand-made groups`, await prune.nmMask(ts, view, n, m), nmMaskOf(flat, view, n, m));
      }
      // the same groups as columns (transposed: kStride = number of groups)
      const G = groups.length;
      const cols = new Float32Array(G * 4);
      groups.forEach((g, j) => g.forEach((v, k) => (cols[k * G + j] = v)));
      const tc = await backend.upload(cols);
      try {
        const view = { lines: G, length: 4, lineStride: 1, kStride: G };
        compare('nmMask 2:4 hand-made groups as columns', await prune.nmMask(tc, view, 2, 4), nmMaskOf(cols, view, 2, 4));
      } finally {
        tc.dispose();
      }
      for (const threshold of [S, 2 * S, 2 ** -126, 1e-45, 1])
        compare(`maskBelow(${threshold}) hand-made`, await prune.maskBelow(ts, threshold), maskBelowOf(flat, threshold));
    } finally {
      ts.dispose();
    }
  }

  // 4. channelNorms: every channelStats strategy, multi-segment tensors, and channels whose squares overflow or
  //    underflow float32 (huge, tiny normal, subnormal), NaN / Inf skipped, an all-NaN channel (norm 0).
  {
    const layouts: ChannelLayout[] = [
      { outer: 1, channels: 8, inner: 12_500 }, // runs
      { outer: 500, channels: 4, inner: 64 }, // runs, many outer slices
      { outer: 12_500, channels: 8, inner: 1 }, // columns
      { outer: 300, channels: 7, inner: 5 }, // columns, several rows per pass
      { outer: 1, channels: 1000, inner: 9 }, // serial
      { outer: 2, channels: 50_000, inner: 1 }, // serial, many workgroups
    ];
    for (const layout of layouts) {
      const { outer, channels, inner } = layout;
      const n = outer * channels * inner;
      const d = pruneData(n, n);
      const scaleOf = [1, 1e30, 1e-30, 1e-41, 3e36, 1e-20, 1, 1];
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < channels; c++) {
          for (let i = 0; i < inner; i++) {
            const k = (o * channels + c) * inner + i;
            if (c < 8 && Number.isFinite(d[k]!)) d[k] = d[k]! * scaleOf[c]!;
            if (c === 6) d[k] = NaN; // all-NaN channel
          }
        }
      }
      const tn = await backend.upload(d);
      try {
        for (const norm of ['l1', 'l2'] as const) {
          const a = await prune.channelNorms(tn, layout, norm);
          const b = channelNormsOf(d, layout, norm);
          const c = b.findIndex((v, k) => !closeRel(a[k]!, v));
          if (a.length !== b.length || c >= 0) fail(`channelNorms ${norm} ${outer}×${channels}×${inner} channel ${c}: ${a[c]} vs ${b[c]}`);
        }
      } finally {
        tn.dispose();
      }
    }
  }

  // 5. Empty and one-element tensors, invalid arguments (rejected, and the backend keeps working), concurrent calls.
  {
    const empty = await backend.upload(new Float32Array(0));
    const one = await backend.upload(Float32Array.of(-0));
    try {
      compare('maskBelow of an empty tensor', await prune.maskBelow(empty, 1), maskBelowOf(new Float32Array(0), 1));
      compare('nmMask of an empty tensor', await prune.nmMask(empty, { lines: 0, length: 0, lineStride: 0, kStride: 1 }, 2, 4), {
        values: new Float32Array(0),
        zeros: 0,
      });
      const norms = await prune.channelNorms(empty, { outer: 1, channels: 3, inner: 0 }, 'l2');
      if (norms.length !== 3 || norms.some((v) => v !== 0)) fail(`channelNorms of an empty tensor: ${Array.from(norms).join()}`);
      compare('maskBelow(-0) of [-0]', await prune.maskBelow(one, 0), maskBelowOf(Float32Array.of(-0), 0));
      compare(
        'nmMask 2:4 of [-0]',
        await prune.nmMask(one, { lines: 1, length: 1, lineStride: 1, kStride: 1 }, 2, 4),
        nmMaskOf(Float32Array.of(-0), { lines: 1, length: 1, lineStride: 1, kStride: 1 }, 2, 4),
      );
      const rejects = async (what: string, call: () => Promise<unknown>) => {
        const ok = await call().then(
          () => true,
          () => false,
        );
        if (ok) fail(`${what} should reject`);
      };
      await rejects('nmMask with m = 0', () => prune.nmMask(one, { lines: 1, length: 1, lineStride: 1, kStride: 1 }, 2, 0));
      await rejects('nmMask with a view past the end', () => prune.nmMask(one, { lines: 1, length: 2, lineStride: 1, kStride: 1 }, 2, 4));
      await rejects('channelNorms with a wrong layout', () => prune.channelNorms(one, { outer: 1, channels: 2, inner: 1 }, 'l1'));
    } finally {
      empty.dispose();
      one.dispose();
    }
    const d = pruneData(20_000, 5);
    const tc = await backend.upload(d);
    try {
      const view = { lines: 200, length: 100, lineStride: 100, kStride: 1 };
      const [a, b, c] = await Promise.all([
        prune.maskBelow(tc, 0.2),
        prune.nmMask(tc, view, 2, 4),
        prune.channelNorms(tc, { outer: 1, channels: 200, inner: 100 }, 'l1'),
      ]);
      compare('concurrent maskBelow', a, maskBelowOf(d, 0.2));
      compare('concurrent nmMask', b, nmMaskOf(d, view, 2, 4));
      const ref = channelNormsOf(d, { outer: 1, channels: 200, inner: 100 }, 'l1');
      if (ref.some((v, k) => !closeRel(c[k]!, v))) fail('concurrent channelNorms differ');
    } finally {
      tc.dispose();
    }
  }
  return problems;
}
