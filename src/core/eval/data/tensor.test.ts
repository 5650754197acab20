import { describe, expect, it } from 'vitest';
import { checkDims, floatToHalf, fromNumbers, halfToFloat } from './tensor';

describe('float16 conversion', () => {
  it('converts exactly representable values and rounds to nearest even', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [1e6, 0x7c00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00] /* tie → even */,
      [1 + 3 * 2 ** -11, 0x3c02],
      [2 ** -26, 0x0000],
    ];
    for (const [value, bits] of cases) expect(floatToHalf(value), String(value)).toBe(bits);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  it('round-trips every finite half value', () => {
    for (let bits = 0; bits < 0x7c00; bits++) expect(floatToHalf(halfToFloat(bits))).toBe(bits);
  });
});

describe('fromNumbers', () => {
  it('rounds and clamps integers, maps bool and int64', () => {
    expect([...fromNumbers([1.6, -3, 300], 'uint8')]).toEqual([2, 0, 255]);
    expect([...fromNumbers([2, 0, -1], 'bool')]).toEqual([1, 0, 1]);
    expect([...fromNumbers([5, -6], 'int64')]).toEqual([5n, -6n]);
  });
});

describe('checkDims', () => {
  const input = { name: 'x', dtype: 'FLOAT', shape: ['N', 3, 32, 32] as (number | string)[] };
  it('names the input and the mismatching dim', () => {
    expect(() => checkDims(input, [1, 3, 32, 32], 'here')).not.toThrow();
    expect(() => checkDims(input, [1, 3, 28, 32], 'here')).toThrow(
      "here: input 'x' dim 2 is 32 in the model [N, 3, 32, 32] but 28 in the data [1, 3, 28, 32].",
    );
    expect(() => checkDims(input, [3, 32, 32], 'here')).toThrow(/expects rank 4/);
  });
});
