import { describe, expect, it } from 'vitest';
import {
  bf16BitsToFloat,
  float4E2M1ToFloat,
  float8E4M3FNToFloat,
  float8E4M3FNUZToFloat,
  float8E5M2FNUZToFloat,
  float8E5M2ToFloat,
  float8E8M0ToFloat,
  floatToBf16Bits,
  floatToFp16Bits,
  fp16BitsToFloat,
} from './codecs';

describe('fp16', () => {
  it('decodes hand-picked bit patterns', () => {
    expect(fp16BitsToFloat(0x3c00)).toBe(1);
    expect(fp16BitsToFloat(0xc000)).toBe(-2);
    expect(fp16BitsToFloat(0x7bff)).toBe(65504); // largest normal
    expect(fp16BitsToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(fp16BitsToFloat(0x0400)).toBe(2 ** -14); // smallest normal
    expect(fp16BitsToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(fp16BitsToFloat(0x7c00)).toBe(Infinity);
    expect(fp16BitsToFloat(0xfc00)).toBe(-Infinity);
    expect(fp16BitsToFloat(0x7e00)).toBeNaN();
    expect(Object.is(fp16BitsToFloat(0x8000), -0)).toBe(true);
  });

  it('encodes with round-half-to-even and saturates to infinity', () => {
    expect(floatToFp16Bits(1)).toBe(0x3c00);
    expect(floatToFp16Bits(65504)).toBe(0x7bff);
    expect(floatToFp16Bits(65520)).toBe(0x7c00); // halfway to the next binade rounds to inf
    expect(floatToFp16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(floatToFp16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToFp16Bits(2 ** -24)).toBe(0x0001);
    expect(floatToFp16Bits(2 ** -26)).toBe(0x0000);
    expect(floatToFp16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('round-trips every finite half exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exp = (bits >> 10) & 0x1f;
      if (exp === 0x1f) continue;
      expect(floatToFp16Bits(fp16BitsToFloat(bits))).toBe(bits);
    }
  });
});

describe('bf16', () => {
  it('decodes and encodes with round-half-to-even', () => {
    expect(bf16BitsToFloat(0x3f80)).toBe(1);
    expect(bf16BitsToFloat(0xc040)).toBe(-3);
    expect(floatToBf16Bits(1)).toBe(0x3f80);
    expect(floatToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(floatToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBf16Bits(3.140625)).toBe(0x4049);
  });
});

describe('float8 / float4 formats', () => {
  it('E4M3FN: max 448, NaN at 0x7f, no infinity', () => {
    expect(float8E4M3FNToFloat(0x7e)).toBe(448);
    expect(float8E4M3FNToFloat(0x7f)).toBeNaN();
    expect(float8E4M3FNToFloat(0x38)).toBe(1);
    expect(float8E4M3FNToFloat(0x01)).toBe(2 ** -9);
    expect(float8E4M3FNToFloat(0xb8)).toBe(-1);
  });
  it('E4M3FNUZ: bias 8, 0x80 is NaN', () => {
    expect(float8E4M3FNUZToFloat(0x40)).toBe(1);
    expect(float8E4M3FNUZToFloat(0x80)).toBeNaN();
    expect(float8E4M3FNUZToFloat(0x7f)).toBe(240);
  });
  it('E5M2: IEEE-like with infinity', () => {
    expect(float8E5M2ToFloat(0x3c)).toBe(1);
    expect(float8E5M2ToFloat(0x7b)).toBe(57344);
    expect(float8E5M2ToFloat(0x7c)).toBe(Infinity);
    expect(float8E5M2ToFloat(0x7d)).toBeNaN();
  });
  it('E5M2FNUZ: bias 16', () => {
    expect(float8E5M2FNUZToFloat(0x40)).toBe(1);
    expect(float8E5M2FNUZToFloat(0x80)).toBeNaN();
  });
  it('E2M1 (fp4) values', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(float4E2M1ToFloat)).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6]);
    expect(float4E2M1ToFloat(0xf)).toBe(-6);
  });
  it('E8M0: powers of two', () => {
    expect(float8E8M0ToFloat(127)).toBe(1);
    expect(float8E8M0ToFloat(130)).toBe(8);
    expect(float8E8M0ToFloat(0xff)).toBeNaN();
  });
});
