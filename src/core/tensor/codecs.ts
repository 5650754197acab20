/** Scalar codecs for the narrow float formats ONNX stores. All return float32-representable numbers. */

export { bf16BitsToFloat, floatToBf16Bits, floatToFp16Bits, fp16BitsToFloat } from '../../kernels/codecs/half';

/**
 * Generic minifloat decode. `fnuz` formats have no negative zero (the sign-only pattern is NaN);
 * `fn` formats (E4M3FN) use the all-ones pattern as NaN and have no infinity; `finite` ones have neither.
 */
function decodeMinifloat(bits: number, expBits: number, mantBits: number, bias: number, kind: 'ieee' | 'fn' | 'fnuz' | 'finite'): number {
  const total = 1 + expBits + mantBits;
  const signMask = 1 << (total - 1);
  if (kind === 'fnuz' && bits === signMask) return NaN;
  const sign = bits & signMask ? -1 : 1;
  const exp = (bits >> mantBits) & ((1 << expBits) - 1);
  const mant = bits & ((1 << mantBits) - 1);
  const expMax = (1 << expBits) - 1;
  if (kind === 'ieee' && exp === expMax) return mant ? NaN : sign * Infinity;
  if (kind === 'fn' && exp === expMax && mant === (1 << mantBits) - 1) return NaN;
  if (exp === 0) return sign * (mant / (1 << mantBits)) * 2 ** (1 - bias);
  return sign * (1 + mant / (1 << mantBits)) * 2 ** (exp - bias);
}

export const float8E4M3FNToFloat = (b: number) => decodeMinifloat(b, 4, 3, 7, 'fn');
export const float8E4M3FNUZToFloat = (b: number) => decodeMinifloat(b, 4, 3, 8, 'fnuz');
export const float8E5M2ToFloat = (b: number) => decodeMinifloat(b, 5, 2, 15, 'ieee');
export const float8E5M2FNUZToFloat = (b: number) => decodeMinifloat(b, 5, 2, 16, 'fnuz');
/** FLOAT4E2M1: no inf/nan; values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}. */
export const float4E2M1ToFloat = (b: number) => decodeMinifloat(b & 0xf, 2, 1, 1, 'finite');
/** FLOAT8E8M0: a pure power of two, 0xff is NaN. */
export function float8E8M0ToFloat(b: number): number {
  return b === 0xff ? NaN : 2 ** (b - 127);
}
