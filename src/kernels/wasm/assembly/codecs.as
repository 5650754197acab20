// Narrow float codecs (src/kernels/codecs/half.ts is the scalar reference).

/** 2^112: turns fp16 bits shifted into float32 position into the right value (normals and subnormals). */
const F16_MAGIC: f32 = 5.192296858534828e33;

// ---------------------------------------------------------------------------------------------------
// fp16 / bf16 → float32, exact for every bit pattern.

function fp16x4(h: v128): v128 {
  const em = v128.and(h, i32x4.splat(0x7fff));
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  // (em << 13) read as float32 is the value × 2^-112 (normals and subnormals alike): scale back exactly.
  const v = f32x4.mul(i32x4.shl(em, 13), f32x4.splat(F16_MAGIC));
  // Exponent 31 (Inf / NaN): all-ones float32 exponent, mantissa kept.
  const special = v128.and(i32x4.gt_s(em, i32x4.splat(0x7bff)), i32x4.splat(0x7f800000));
  return v128.or(v128.or(v, special), sign);
}

function fp16One(h: u32): u32 {
  const em = h & 0x7fff;
  let bits = reinterpret<u32>(reinterpret<f32>(em << 13) * F16_MAGIC);
  if (em > 0x7bff) bits |= 0x7f800000;
  return bits | ((h & 0x8000) << 16);
}

export function decodeFp16(src: usize, dst: usize, n: i32): void {
  const end8 = <usize>n & ~(<usize>7);
  let i: usize = 0;
  for (; i < end8; i += 8) {
    const h = v128.load(src + (i << 1));
    v128.store(dst + (i << 2), fp16x4(i32x4.extend_low_i16x8_u(h)));
    v128.store(dst + (i << 2), fp16x4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  for (; i < <usize>n; i++) store<u32>(dst + (i << 2), fp16One(<u32>load<u16>(src + (i << 1))));
}

export function decodeBf16(src: usize, dst: usize, n: i32): void {
  const end8 = <usize>n & ~(<usize>7);
  let i: usize = 0;
  for (; i < end8; i += 8) {
    const h = v128.load(src + (i << 1));
    v128.store(dst + (i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
    v128.store(dst + (i << 2), i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
  }
  for (; i < <usize>n; i++) store<u32>(dst + (i << 2), (<u32>load<u16>(src + (i << 1))) << 16);
}
