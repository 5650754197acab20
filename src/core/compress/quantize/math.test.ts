import { describe, expect, it } from 'vitest';
import { codeRange, groupIndices, packNibbles, paramsForRange, quantError, quantizeTensor, roundHalfEven, type QuantSpec } from './math';

const spec = (over: Partial<QuantSpec>): QuantSpec => ({
  bits: 8,
  symmetric: true,
  granularity: 'tensor',
  blockSize: 32,
  range: 'minmax',
  percentile: 99.99,
  ...over,
});

describe('quantization reference math', () => {
  it('rounds half to even like ONNX QuantizeLinear', async () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual(
      [0, 2, 2, -0, -2, -2, 2, 3].map((v) => (v === 0 ? roundHalfEven(-0.5) : v)),
    );
    expect(roundHalfEven(0.5)).toBe(0);
  });

  it('code ranges', async () => {
    expect(codeRange(8, true)).toEqual({ qmin: -127, qmax: 127, signed: true });
    expect(codeRange(4, true)).toEqual({ qmin: -7, qmax: 7, signed: true });
    expect(codeRange(4, false)).toEqual({ qmin: 0, qmax: 15, signed: false });
    expect(codeRange(3, true)).toEqual({ qmin: -3, qmax: 3, signed: true });
  });

  it('hand-computed scale and zero point', async () => {
    // symmetric int8: abs-max 2.54 → scale 0.02
    expect(paramsForRange(-2.54, 1, 8, true).scale).toBe(Math.fround(0.02));
    // asymmetric uint8 over [-1, 3]: scale 4/255, zp = round(0 + 1/(4/255)) = round(63.75) = 64
    const p = paramsForRange(-1, 3, 8, false);
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64);
    // range not containing zero is widened to include it: [0.5, 2] → [0, 2], zp 0
    expect(paramsForRange(0.5, 2, 8, false)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
  });

  it('quantizes per tensor with round-half-even codes and clipping', async () => {
    // abs-max 7 at 4 bits symmetric (qmax 7): scale exactly 1, so codes are x rounded half to even
    const q = await quantizeTensor(new Float32Array([7, -7, 3.5, 0.5, 1.5, -2.5]), { outer: 1, axisLength: 6, inner: 1 }, spec({ bits: 4 }));
    expect([...q.codes]).toEqual([7, -7, 4, 0, 2, -2]);
    expect(q.scales[0]).toBe(1);
    expect([...q.dequantized]).toEqual([7, -7, 4, 0, 2, -2]);
    // 99th percentile of |x| sits at rank 98.01: 0.06 + 0.01·(10 − 0.06) = 0.1594, so 10 clips to the grid's end
    const clipped = Float32Array.from({ length: 100 }, (_, i) => (i === 0 ? 10 : (i % 7) * 0.01));
    const c = await quantizeTensor(clipped, { outer: 1, axisLength: 100, inner: 1 }, spec({ bits: 4, range: 'percentile', percentile: 99 }));
    expect(c.codes[0]).toBe(7);
    expect(c.scales[0]).toBe(Math.fround(Math.fround(0.06 + 0.01 * (10 - Math.fround(0.06))) / 7));
    expect(c.dequantized[0]).toBeCloseTo(0.1594, 6);
  });

  it('per-channel and per-block grouping follow DequantizeLinear layouts', async () => {
    // [2, 3] viewed around axis 1: channel groups are columns
    const cols = groupIndices({ outer: 2, axisLength: 3, inner: 1 }, { granularity: 'channel', blockSize: 1 });
    expect(cols.map((g) => [...g])).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    // [K=4, N=2] blocked along axis 0 with block 2: groups (blk, n) → scale shape [2, 2]
    const blocks = groupIndices({ outer: 1, axisLength: 4, inner: 2 }, { granularity: 'block', blockSize: 2 });
    expect(blocks.map((g) => [...g])).toEqual([
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ]);
    // ragged last block: D = 5, B = 2 → 3 blocks
    expect(groupIndices({ outer: 1, axisLength: 5, inner: 1 }, { granularity: 'block', blockSize: 2 }).map((g) => g.length)).toEqual([2, 2, 1]);
  });

  it('per-channel beats per-tensor when channel ranges differ, MSE clipping beats min-max with an outlier', async () => {
    const values = new Float32Array(200);
    for (let i = 0; i < 100; i++) values[2 * i] = Math.sin(i) * 0.01; // small column
    for (let i = 0; i < 100; i++) values[2 * i + 1] = Math.cos(i) * 5; // large column
    const view = { outer: 100, axisLength: 2, inner: 1 };
    const perTensor = quantError(values, (await quantizeTensor(values, view, spec({ bits: 4 }))).dequantized);
    const perChannel = quantError(values, (await quantizeTensor(values, view, spec({ bits: 4, granularity: 'channel' }))).dequantized);
    expect(perChannel.sqnrDb).toBeGreaterThan(perTensor.sqnrDb);

    const gauss = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 12.9898) * Math.cos(i * 78.233));
    gauss[7] = 25; // one outlier
    const v1 = { outer: 1, axisLength: gauss.length, inner: 1 };
    const minmax = quantError(gauss, (await quantizeTensor(gauss, v1, spec({ bits: 4 }))).dequantized);
    const mse = quantError(gauss, (await quantizeTensor(gauss, v1, spec({ bits: 4, range: 'mse' }))).dequantized);
    const pct = quantError(gauss, (await quantizeTensor(gauss, v1, spec({ bits: 4, range: 'percentile', percentile: 99.9 }))).dequantized);
    expect(mse.sqnrDb).toBeGreaterThanOrEqual(minmax.sqnrDb);
    expect(pct.sqnrDb).toBeGreaterThan(minmax.sqnrDb);
  });

  it('SQNR and relative error, closed form', async () => {
    const e = quantError(new Float32Array([3, 4]), new Float32Array([3, 3]));
    // signal 25, noise 1 → 10·log10(25) dB, rel = 1/5
    expect(e.sqnrDb).toBeCloseTo(10 * Math.log10(25), 12);
    expect(e.relError).toBeCloseTo(0.2, 12);
    expect(e.maxAbsError).toBe(1);
    expect(quantError(new Float32Array([1]), new Float32Array([1])).sqnrDb).toBe(Infinity);
  });

  it('packs int4 low nibble first', async () => {
    expect([...packNibbles([1, -1, 7, -8, 3])]).toEqual([0xf1, 0x87, 0x03]);
    expect([...packNibbles([15, 0])]).toEqual([0x0f]);
  });
});

describe('recipe globs', () => {
  it('match tensor or layer names; \\ escapes * and ?; exact-name globs say "by name"', async () => {
    const { globToRegExp, exactGlob, excludedBecause, matchesAny } = await import('../../recipe');
    expect(globToRegExp('conv*').test('conv1.weight')).toBe(true);
    expect(globToRegExp('conv?.weight').test('conv12.weight')).toBe(false);
    expect(globToRegExp('a\\*b').test('a*b')).toBe(true);
    expect(globToRegExp('a\\*b').test('axxb')).toBe(false);
    expect(globToRegExp(exactGlob('odd*name?')).test('odd*name?')).toBe(true);
    expect(globToRegExp(exactGlob('odd*name?')).test('oddXnameY')).toBe(false);
    expect(matchesAny(['fc*'], 'w123', 'fc1')).toBe('fc*');
    expect(excludedBecause([exactGlob('fc1.weight')], 'fc1.weight', 'fc1')).toBe('excluded by name');
    expect(excludedBecause(['fc*'], 'fc1.weight', 'fc1')).toBe('excluded by pattern "fc*"');
  });
});

describe('degenerate groups', () => {
  it('a group of subnormal values gets a normal scale (no Infinity reciprocal, no NaN codes)', async () => {
    const tiny = new Float32Array([1e-40, -2e-40, 3e-41, 0]);
    const q = await quantizeTensor(tiny, { outer: 1, axisLength: 4, inner: 1 }, spec({ bits: 8 }));
    expect(q.scales[0]).toBe(2 ** -126);
    expect([...q.dequantized].every(Number.isFinite)).toBe(true);
    expect([...q.codes]).toEqual([0, 0, 0, 0]);
  });
});
