/**
 * Extra parity checks of a backend's quantization kernels beyond checkQuantParity (../parity.ts): subnormal
 * inputs under huge inverse scales, subnormal errors, exact max|x − y| when two errors round to the same float32,
 * parameters only the host path reproduces (subnormal scale → Infinity invScale, zero scale), every code width
 * (int8, uint8, int16, uint16 wrap-around, uint4), overflowing products, all-NaN groups, every group layout of
 * candidateErrors and groupMinMax, packNibbles lengths. Framework-free (Node child process and browser page).
 */
import { gaussian } from '../parity';
import { groupCount, type GroupView, type Grouping, type QuantizedGroups } from '../../../src/kernels/quant';
import { candidateErrorsOf, groupMinMaxOf, packNibblesOf, quantizeGroupsOf } from '../../../src/kernels/ts/quant-reference';
import type { KernelBackend } from '../../../src/kernels/types';

const same = (a: number, b: number) => Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b));
const closeRel = (a: number, b: number, rel: number) =>
  a === b || (Number.isNaN(a) || Number.isNaN(b) ? Number.isNaN(a) && Number.isNaN(b) : Math.abs(a - b) <= rel * Math.abs(b) + 1e-30);

const TENSOR: Grouping = { granularity: 'tensor', blockSize: 1 };
const CHANNEL: Grouping = { granularity: 'channel', blockSize: 1 };
const block = (blockSize: number): Grouping => ({ granularity: 'block', blockSize });

interface Params {
  scales: Float32Array;
  invScales: Float32Array;
  zeroPoints: Int32Array;
  qmin: number;
  qmax: number;
}

function params(scales: ArrayLike<number>, qmin: number, qmax: number, zp: (k: number) => number = () => 0): Params {
  const s = Float32Array.from(scales);
  return { scales: s, invScales: s.map((v) => Math.fround(1 / v)), zeroPoints: Int32Array.from(s, (_, k) => zp(k)), qmin, qmax };
}

/** Symmetric / asymmetric params from the reference min/max, like the quantizer does. */
function fitted(data: Float32Array, view: GroupView, grouping: Grouping, qmin: number, qmax: number, asym: boolean): Params {
  const { min, max } = groupMinMaxOf(data, view, grouping);
  if (!asym)
    return params(
      Float32Array.from(max, (hi, g) => Math.fround(Math.max(hi, -min[g]!) / qmax) || 1),
      qmin,
      qmax,
    );
  const scales = Float32Array.from(max, (hi, g) => Math.fround((Math.max(hi, 0) - Math.min(min[g]!, 0)) / (qmax - qmin)) || 1);
  return params(scales, qmin, qmax, (g) => Math.min(qmax, Math.max(qmin, Math.round(qmin - Math.min(min[g]!, 0) / scales[g]!))));
}

export async function quantChecks(backend: KernelBackend): Promise<string[]> {
  const problems: string[] = [];
  const quant = backend.quant;
  if (!quant) return [`${backend.name}: no quantization kernels`];
  const fail = (what: string) => problems.push(`${backend.name} · quant extra: ${what}`);

  const compare = (tag: string, a: QuantizedGroups, b: QuantizedGroups) => {
    const i = b.codes.findIndex((c, j) => c !== a.codes[j] || !same(b.dequantized[j]!, a.dequantized[j]!));
    if (a.codes.length !== b.codes.length || a.dequantized.length !== b.dequantized.length)
      fail(`${tag}: lengths ${a.codes.length}/${a.dequantized.length} ≠ ${b.codes.length}`);
    else if (i >= 0) fail(`${tag}: element ${i} code ${a.codes[i]} / ${a.dequantized[i]} ≠ ${b.codes[i]} / ${b.dequantized[i]}`);
    if (!closeRel(a.signal, b.signal, 1e-5) || !closeRel(a.noise, b.noise, 1e-5) || !same(a.maxAbsError, b.maxAbsError)) {
      fail(`${tag}: error sums ${a.signal}/${a.noise}/${a.maxAbsError} vs ${b.signal}/${b.noise}/${b.maxAbsError}`);
    }
  };

  const quantCase = async (tag: string, data: Float32Array, view: GroupView, grouping: Grouping, p: Params) => {
    const t = await backend.upload(data);
    try {
      compare(tag, await quant.quantizeGroups(t, view, grouping, p), quantizeGroupsOf(data, view, grouping, p));
    } finally {
      t.dispose();
    }
  };

  // 1. Subnormal inputs under scale 2^-126 (invScale 2^126): x · invScale reaches [0.5, 1), so codes depend on the
  //    subnormal's exact value (a flush-to-zero device reading x as 0 would give code 0); every |x − y| is subnormal.
  {
    const sub = Float32Array.from({ length: 4001 }, (_, i) => (i - 2000) * 4099 * 2 ** -149);
    sub[17] = -0;
    sub[18] = 0.75 * 2 ** -126;
    sub[19] = -0.5 * 2 ** -126; // tie: rounds to even (0)
    sub[20] = 0.5 * 2 ** -126 + 2 ** -149;
    const view = { outer: 1, axisLength: sub.length, inner: 1 };
    await quantCase('subnormal x, scale 2^-126', sub, view, TENSOR, params([2 ** -126], -127, 127));
    await quantCase(
      'subnormal x, scale 2^-126, zp 3',
      sub,
      view,
      TENSOR,
      params([2 ** -126], -8, 7, () => 3),
    );
    // channels with different tiny normal scales, and a normal tensor with subnormal and tiny values mixed in
    const mixed = gaussian(3000, 21, 1e-37);
    for (let i = 0; i < mixed.length; i += 7) mixed[i] = sub[i]!;
    await quantCase('tiny channels', mixed, { outer: 1000, axisLength: 3, inner: 1 }, CHANNEL, params([2 ** -126, 1.5 * 2 ** -125, 3e-38], -127, 127));
    await quantCase(
      'tiny channels, fitted',
      mixed,
      { outer: 1000, axisLength: 3, inner: 1 },
      CHANNEL,
      fitted(mixed, { outer: 1000, axisLength: 3, inner: 1 }, CHANNEL, -127, 127, false),
    );
  }

  // 2. max|x − y| when two errors round to the same float32 (16777218): exact values 16777217.25 (group 0,
  //    y = 0.75) and 16777217.75 (group 1, y = 0.25); the larger must win in every position / reduction order.
  for (const [a, b] of [
    [4, 1001],
    [1000, 3],
    [4, 5],
    [6, 5],
    [2046, 2047],
    [2047, 2046],
    [4, 2047],
    [2046, 3],
  ] as const) {
    const data = new Float32Array(2048).fill(0.5);
    const ga = a % 2 === 0 ? a : b; // even index: group 0
    const gb = a % 2 === 0 ? b : a;
    data[ga] = 16777218;
    data[gb] = 16777218;
    await quantCase(`max error tie ${a}/${b}`, data, { outer: 1024, axisLength: 2, inner: 1 }, CHANNEL, params([0.75, 0.25], 1, 1));
  }

  // 3. Parameters only the host path reproduces: subnormal scales (invScale = Infinity: 0 · Inf gives NaN codes in
  //    the reference), zero scale, huge zero points, and overflowing dequantized values.
  {
    const tiny = gaussian(2000, 5, 1e-39);
    tiny[3] = 0;
    const view = { outer: 20, axisLength: 100, inner: 1 };
    await quantCase('subnormal scales (host path)', tiny, view, block(32), fitted(tiny, view, block(32), -127, 127, false));
    await quantCase('zero scale (host path)', tiny, view, TENSOR, params([0], -7, 7));
    await quantCase(
      'zp 2^23 (host path)',
      tiny,
      view,
      TENSOR,
      params([1], 0, 255, () => 2 ** 23),
    );
    await quantCase(
      'overflowing y (host path)',
      gaussian(2000, 6, 1e36),
      view,
      TENSOR,
      params([3e36], -127, 127, () => 0),
    );
    const t = await backend.upload(tiny);
    try {
      const p = { ...fitted(tiny, view, CHANNEL, -7, 7, false), candidates: 1 };
      const got = await quant.candidateErrors(t, view, CHANNEL, p);
      const want = candidateErrorsOf(tiny, view, CHANNEL, p);
      if (want.some((v, k) => !closeRel(got[k]!, v, 1e-4)))
        fail(`candidateErrors with subnormal scales: ${got.slice(0, 4).join()} vs ${want.slice(0, 4).join()}`);
    } finally {
      t.dispose();
    }
  }

  // 4. Code widths and clamping: uint8 with zero points, int16, uint16 (wraps in Int16Array like the reference),
  //    uint4, 2-bit; products that overflow to Infinity; NaN / ±Inf inputs; an all-NaN block.
  {
    const data = gaussian(9000, 8);
    data[1] = 1e30;
    data[2] = -3e38;
    data[3] = 3.4e38;
    data[4] = NaN;
    data[5] = Infinity;
    data[6] = -Infinity;
    data[7] = 2 ** -140;
    for (let i = 64; i < 96; i++) data[i] = NaN; // block 2 of row 0 (blocks of 32 along the 300-long axis)
    const view = { outer: 30, axisLength: 300, inner: 1 };
    await quantCase('uint8 with zero points', data, view, block(32), fitted(data, view, block(32), 0, 255, true));
    await quantCase('uint4 with zero points', data, view, block(32), fitted(data, view, block(32), 0, 15, true));
    await quantCase('int2', data, view, block(32), fitted(data, view, block(32), -1, 1, false));
    await quantCase(
      'int16',
      data,
      view,
      CHANNEL,
      params(
        Float32Array.from({ length: 300 }, (_, d) => 1e-4 * (1 + d)),
        -32768,
        32767,
        (d) => (d % 5) - 2,
      ),
    );
    await quantCase(
      'uint16 (wraps)',
      data,
      view,
      CHANNEL,
      params(
        Float32Array.from({ length: 300 }, () => 1e-4),
        0,
        65535,
        () => 32768,
      ),
    );
    await quantCase(
      'int8 overflowing products',
      data,
      view,
      TENSOR,
      params([1e-10], -128, 127, () => 5),
    );
    await quantCase(
      'blocks along a middle axis',
      data,
      { outer: 3, axisLength: 100, inner: 30 },
      block(7),
      fitted(data, { outer: 3, axisLength: 100, inner: 30 }, block(7), -7, 7, false),
    );
  }

  // 5. groupMinMax on every layout (blocks with inner > 1, ragged last block, all-NaN groups, empty tensor).
  {
    const data = gaussian(6000, 9);
    for (let i = 0; i < 6000; i += 50) data[i] = NaN;
    data[7] = Infinity;
    data[8] = -Infinity;
    for (let o = 0; o < 20; o++) data[o * 300 + 299] = NaN; // channel 299 of [20, 300] is all NaN
    const layouts: [GroupView, Grouping][] = [
      [{ outer: 20, axisLength: 300, inner: 1 }, TENSOR],
      [{ outer: 20, axisLength: 300, inner: 1 }, CHANNEL],
      [{ outer: 20, axisLength: 300, inner: 1 }, block(32)],
      [{ outer: 20, axisLength: 300, inner: 1 }, block(1)],
      [{ outer: 1, axisLength: 20, inner: 300 }, block(6)],
      [{ outer: 4, axisLength: 15, inner: 100 }, block(4)],
      [{ outer: 6000, axisLength: 1, inner: 1 }, block(8)],
    ];
    const t = await backend.upload(data);
    try {
      for (const [view, grouping] of layouts) {
        const got = await quant.groupMinMax(t, view, grouping);
        const want = groupMinMaxOf(data, view, grouping);
        const g = want.min.findIndex((v, k) => !same(v, got.min[k]!) || !same(want.max[k]!, got.max[k]!));
        if (got.min.length !== want.min.length || g >= 0)
          fail(
            `groupMinMax ${JSON.stringify(view)} ${grouping.granularity}/${grouping.blockSize} group ${g}: ${got.min[g]}/${got.max[g]} ≠ ${want.min[g]}/${want.max[g]}`,
          );
      }
      // candidateErrors on every layout (slices of whole tensors and channels, columns, blocks), zero points
      for (const [view, grouping] of layouts) {
        const C = 7;
        const groups = groupCount(view, grouping);
        const { min, max } = groupMinMaxOf(data, view, grouping);
        const scales = new Float32Array(groups * C);
        for (let g = 0; g < groups; g++)
          for (let c = 0; c < C; c++) scales[g * C + c] = Math.fround(((Math.max(max[g]!, -min[g]!, 0) || 1) * (1 - c * 0.08)) / 7);
        const p = { candidates: C, ...params(scales, -8, 7, (k) => (k % 3) - 1) };
        const got = await quant.candidateErrors(t, view, grouping, p);
        const want = candidateErrorsOf(data, view, grouping, p);
        const k = want.findIndex((v, j) => !closeRel(got[j]!, v, 1e-4));
        if (got.length !== want.length || k >= 0)
          fail(`candidateErrors ${JSON.stringify(view)} ${grouping.granularity}/${grouping.blockSize} [${k}]: ${got[k]} vs ${want[k]}`);
      }
    } finally {
      t.dispose();
    }
    const empty = await backend.upload(new Float32Array(0));
    try {
      const got = await quant.groupMinMax(empty, { outer: 1, axisLength: 0, inner: 1 }, TENSOR);
      if (got.min.length !== 1 || got.min[0] !== Infinity || got.max[0] !== -Infinity) fail(`groupMinMax of an empty tensor: ${got.min[0]}/${got.max[0]}`);
      const q = await quant.quantizeGroups(empty, { outer: 1, axisLength: 0, inner: 1 }, TENSOR, params([1], -7, 7));
      if (q.codes.length !== 0 || q.maxAbsError !== 0 || q.noise !== 0) fail('quantizeGroups of an empty tensor');
    } finally {
      empty.dispose();
    }
  }

  // 6. packNibbles: odd lengths, lengths around the 8-code word, codes outside 4 bits (masked like the reference).
  for (const n of [1, 7, 8, 9, 1001, 20_001]) {
    const codes = Int16Array.from({ length: n }, (_, i) => ((i * 7919) % 23) - 11);
    const got = await quant.packNibbles(codes);
    const want = packNibblesOf(codes);
    const i = want.findIndex((v, j) => v !== got[j]);
    if (got.length !== want.length || i >= 0) fail(`packNibbles length ${n} byte ${i}: ${got[i]} ≠ ${want[i]}`);
  }
  return problems;
}
