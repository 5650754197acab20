// ---------------------------------------------------------------------------------------------------
// Pruning (src/kernels/prune.ts; the host side is prune-kernels.ts).
//
// Masks are exact. Magnitudes are compared as the integer bits of |x|: for non-NaN floats that order is
// the order of |x| (±0 tie, ±Inf the largest). N:M keeps element j of a group when fewer than `keep` of
// the others beat it, where i beats j when |x_i| > |x_j|, or |x_i| = |x_j| and i < j: the reference's
// repeated first-maximum selection, as long as no value is NaN. A group holding a NaN runs that selection
// as written (nmGreedy). Masked values are written as +0; zero counts include kept ±0.

const ABS_BITS: i32 = 0x7fffffff;
const INF_BITS: i32 = 0x7f800000;

/** Sum of the four i32 lanes. */
function hsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * y = |x| < t ? +0 : x for n elements; returns how many y are ±0. t is the smallest float32 ≥ the host's
 * float64 threshold, so the float32 comparison equals the reference's (a NaN t masks nothing).
 */
export function maskBelow(x: usize, y: usize, n: i32, t: f32): i32 {
  const T = f32x4.splat(t);
  const Z = f32x4.splat(0);
  const end = <usize>n << 2;
  const end64 = end & ~(<usize>63);
  let z0 = i32x4.splat(0);
  let z1 = i32x4.splat(0);
  let i: usize = 0;
  for (; i < end64; i += 64) {
    const a = v128.load(x + i);
    const b = v128.load(x + i, 16);
    const c = v128.load(x + i, 32);
    const d = v128.load(x + i, 48);
    const ya = v128.andnot(a, f32x4.lt(f32x4.abs(a), T));
    const yb = v128.andnot(b, f32x4.lt(f32x4.abs(b), T));
    const yc = v128.andnot(c, f32x4.lt(f32x4.abs(c), T));
    const yd = v128.andnot(d, f32x4.lt(f32x4.abs(d), T));
    v128.store(y + i, ya);
    v128.store(y + i, yb, 16);
    v128.store(y + i, yc, 32);
    v128.store(y + i, yd, 48);
    z0 = i32x4.add(z0, i32x4.add(f32x4.eq(ya, Z), f32x4.eq(yb, Z)));
    z1 = i32x4.add(z1, i32x4.add(f32x4.eq(yc, Z), f32x4.eq(yd, Z)));
  }
  let zeros = -hsumI(i32x4.add(z0, z1));
  for (; i < end; i += 4) {
    const v = load<f32>(x + i);
    const r: f32 = abs(v) < t ? 0 : v;
    store<f32>(y + i, r);
    if (r == 0) zeros++;
  }
  return zeros;
}

/**
 * The reference's selection, as written: `keep` rounds, each taking the first not-yet-kept element of
 * largest |x| (a NaN taken first stays the choice of its round), then the rest zeroed. Elements at
 * x + j·stride (j < size ≤ 64) are written to y + j·stride; returns how many written values are ±0.
 */
function nmGreedy(x: usize, y: usize, stride: usize, size: i32, keep: i32): i32 {
  let kept: u64 = 0;
  for (let r = 0; r < keep; r++) {
    let best = -1;
    let bv: f32 = 0;
    for (let j = 0; j < size; j++) {
      if ((kept >> <u64>j) & 1) continue;
      const a = abs(load<f32>(x + <usize>j * stride));
      if (best < 0 || a > bv) {
        best = j;
        bv = a;
      }
    }
    if (best >= 0) kept |= (<u64>1) << <u64>best;
  }
  let zeros = 0;
  for (let j = 0; j < size; j++) {
    const v: f32 = (kept >> <u64>j) & 1 ? load<f32>(x + <usize>j * stride) : 0;
    store<f32>(y + <usize>j * stride, v);
    if (v == 0) zeros++;
  }
  return zeros;
}

/** 2:4-style masks of `groups` contiguous groups of 4 from x to y (`keep` of each 4); returns the zero count. */
function nm4Run(x: usize, y: usize, groups: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  // Rotation k puts element (j + k) % 4 in lane j; it precedes lane j (so beats it on a tie) in lanes j ≥ 4 − k.
  const D1 = i32x4(0, 0, 0, 1);
  const D2 = i32x4(0, 0, 1, 1);
  const D3 = i32x4(0, 1, 1, 1);
  const NK = i32x4.splat(-keep);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>groups << 4;
  let p: usize = 0;
  for (; p < end; p += 16) {
    const v = v128.load(x + p);
    const a = v128.and(v, AM);
    if (v128.any_true(i32x4.gt_s(a, IB))) {
      zeros += nmGreedy(x + p, y + p, 4, 4, keep);
      continue;
    }
    const b1 = i32x4.gt_s(v128.shuffle<i32>(a, a, 1, 2, 3, 0), i32x4.sub(a, D1));
    const b2 = i32x4.gt_s(v128.shuffle<i32>(a, a, 2, 3, 0, 1), i32x4.sub(a, D2));
    const b3 = i32x4.gt_s(v128.shuffle<i32>(a, a, 3, 0, 1, 2), i32x4.sub(a, D3));
    const r = v128.and(v, i32x4.gt_s(i32x4.add(i32x4.add(b1, b2), b3), NK));
    v128.store(y + p, r);
    zc = i32x4.add(zc, f32x4.eq(r, Z));
  }
  return zeros - hsumI(zc);
}

/** 4:8-style masks of `groups` contiguous groups of 8 (two vectors each); returns the zero count. */
function nm8Run(x: usize, y: usize, groups: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  const ONE = i32x4.splat(1);
  const D1 = i32x4(0, 0, 0, 1);
  const D2 = i32x4(0, 0, 1, 1);
  const D3 = i32x4(0, 1, 1, 1);
  const NK = i32x4.splat(-keep);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>groups << 5;
  for (let p: usize = 0; p < end; p += 32) {
    const vl = v128.load(x + p);
    const vh = v128.load(x + p, 16);
    const al = v128.and(vl, AM);
    const ah = v128.and(vh, AM);
    if (v128.any_true(v128.or(i32x4.gt_s(al, IB), i32x4.gt_s(ah, IB)))) {
      zeros += nmGreedy(x + p, y + p, 4, 8, keep);
      continue;
    }
    const l1 = v128.shuffle<i32>(al, al, 1, 2, 3, 0);
    const l2 = v128.shuffle<i32>(al, al, 2, 3, 0, 1);
    const l3 = v128.shuffle<i32>(al, al, 3, 0, 1, 2);
    const h1 = v128.shuffle<i32>(ah, ah, 1, 2, 3, 0);
    const h2 = v128.shuffle<i32>(ah, ah, 2, 3, 0, 1);
    const h3 = v128.shuffle<i32>(ah, ah, 3, 0, 1, 2);
    // Low lanes: the other low elements (ties to the earlier), every high element strictly.
    const nl = i32x4.add(
      i32x4.add(i32x4.add(i32x4.gt_s(l1, i32x4.sub(al, D1)), i32x4.gt_s(l2, i32x4.sub(al, D2))), i32x4.add(i32x4.gt_s(l3, i32x4.sub(al, D3)), i32x4.gt_s(ah, al))),
      i32x4.add(i32x4.add(i32x4.gt_s(h1, al), i32x4.gt_s(h2, al)), i32x4.gt_s(h3, al)),
    );
    // High lanes: the other high elements, every low element on ties too (it comes first).
    const ahm = i32x4.sub(ah, ONE);
    const nh = i32x4.add(
      i32x4.add(i32x4.add(i32x4.gt_s(h1, i32x4.sub(ah, D1)), i32x4.gt_s(h2, i32x4.sub(ah, D2))), i32x4.add(i32x4.gt_s(h3, i32x4.sub(ah, D3)), i32x4.gt_s(al, ahm))),
      i32x4.add(i32x4.add(i32x4.gt_s(l1, ahm), i32x4.gt_s(l2, ahm)), i32x4.gt_s(l3, ahm)),
    );
    const rl = v128.and(vl, i32x4.gt_s(nl, NK));
    const rh = v128.and(vh, i32x4.gt_s(nh, NK));
    v128.store(y + p, rl);
    v128.store(y + p, rh, 16);
    zc = i32x4.add(zc, i32x4.add(f32x4.eq(rl, Z), f32x4.eq(rh, Z)));
  }
  return zeros - hsumI(zc);
}

// The N:M rank body shared by the row (nmQuads4) and column (nmCols4) kernels for groups of 4, as keep8 below for
// groups of 8: lanes are groups, a0…a3 the |x| bits of their slots; the 6 pairs are compared once; masks in nk0…nk3.
// @ts-ignore: decorator
@inline
function keep4(a0: v128, a1: v128, a2: v128, a3: v128, keep: i32): void {
  // cij (i < j): −1 where slot j beats slot i (strictly larger); else slot i beats slot j.
  const c01 = i32x4.gt_s(a1, a0);
  const c02 = i32x4.gt_s(a2, a0);
  const c03 = i32x4.gt_s(a3, a0);
  const c12 = i32x4.gt_s(a2, a1);
  const c13 = i32x4.gt_s(a3, a1);
  const c23 = i32x4.gt_s(a3, a2);
  // Slot j is kept ⇔ (Σ_{k>j} cjk − Σ_{i<j} cij) > j − keep.
  nk0 = i32x4.gt_s(i32x4.add(i32x4.add(c01, c02), c03), i32x4.splat(-keep));
  nk1 = i32x4.gt_s(i32x4.sub(i32x4.add(c12, c13), c01), i32x4.splat(1 - keep));
  nk2 = i32x4.gt_s(i32x4.sub(c23, i32x4.add(c02, c12)), i32x4.splat(2 - keep));
  nk3 = i32x4.gt_s(i32x4.sub(i32x4.splat(0), i32x4.add(i32x4.add(c03, c13), c23)), i32x4.splat(3 - keep));
}

/**
 * 2:4-style masks of the first `groups & ~3` contiguous groups of 4, four groups at a time: transposed so each lane
 * holds one group (a 4×4 transpose is 8 shuffles), ranked by keep4, the masks transposed back. The caller does the
 * rest (nm4Run).
 */
function nmQuads4(x: usize, y: usize, groups: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>(groups >> 2) * 64;
  for (let p: usize = 0; p < end; p += 64) {
    const xp = x + p;
    const yp = y + p;
    const v0 = v128.load(xp);
    const v1 = v128.load(xp, 16);
    const v2 = v128.load(xp, 32);
    const v3 = v128.load(xp, 48);
    const b0 = v128.and(v0, AM);
    const b1 = v128.and(v1, AM);
    const b2 = v128.and(v2, AM);
    const b3 = v128.and(v3, AM);
    if (v128.any_true(v128.or(v128.or(i32x4.gt_s(b0, IB), i32x4.gt_s(b1, IB)), v128.or(i32x4.gt_s(b2, IB), i32x4.gt_s(b3, IB))))) {
      for (let g: usize = 0; g < 64; g += 16) zeros += nmGreedy(xp + g, yp + g, 4, 4, keep);
      continue;
    }
    const t0 = v128.shuffle<i32>(b0, b1, 0, 4, 1, 5);
    const t1 = v128.shuffle<i32>(b0, b1, 2, 6, 3, 7);
    const t2 = v128.shuffle<i32>(b2, b3, 0, 4, 1, 5);
    const t3 = v128.shuffle<i32>(b2, b3, 2, 6, 3, 7);
    keep4(
      v128.shuffle<i32>(t0, t2, 0, 1, 4, 5),
      v128.shuffle<i32>(t0, t2, 2, 3, 6, 7),
      v128.shuffle<i32>(t1, t3, 0, 1, 4, 5),
      v128.shuffle<i32>(t1, t3, 2, 3, 6, 7),
      keep,
    );
    const u0 = v128.shuffle<i32>(nk0, nk1, 0, 4, 1, 5);
    const u1 = v128.shuffle<i32>(nk0, nk1, 2, 6, 3, 7);
    const u2 = v128.shuffle<i32>(nk2, nk3, 0, 4, 1, 5);
    const u3 = v128.shuffle<i32>(nk2, nk3, 2, 6, 3, 7);
    const r0 = v128.and(v0, v128.shuffle<i32>(u0, u2, 0, 1, 4, 5));
    const r1 = v128.and(v1, v128.shuffle<i32>(u0, u2, 2, 3, 6, 7));
    const r2 = v128.and(v2, v128.shuffle<i32>(u1, u3, 0, 1, 4, 5));
    const r3 = v128.and(v3, v128.shuffle<i32>(u1, u3, 2, 3, 6, 7));
    v128.store(yp, r0);
    v128.store(yp, r1, 16);
    v128.store(yp, r2, 32);
    v128.store(yp, r3, 48);
    zc = i32x4.add(zc, i32x4.add(i32x4.add(f32x4.eq(r0, Z), f32x4.eq(r1, Z)), i32x4.add(f32x4.eq(r2, Z), f32x4.eq(r3, Z))));
  }
  return zeros - hsumI(zc);
}

// The N:M rank body shared by the row (nmQuads8: four contiguous groups transposed to lanes) and column (nmCols8)
// kernels for groups of 8: each lane is one group, a0…a7 the |x| bits of its slots in order. Slot j is kept ⇔ fewer
// than `keep` slots beat it (larger, or equal and earlier): with cij = −1 where slot j is larger than slot i (i < j),
// sj = Σ_{k>j} cjk − Σ_{i<j} cij and slot j is kept ⇔ sj > j − keep. The 28 pairs are compared once. The masks are
// left in nk0…nk7 (module globals: a function returns one value).
let nk0: v128 = i32x4.splat(0);
let nk1: v128 = i32x4.splat(0);
let nk2: v128 = i32x4.splat(0);
let nk3: v128 = i32x4.splat(0);
let nk4: v128 = i32x4.splat(0);
let nk5: v128 = i32x4.splat(0);
let nk6: v128 = i32x4.splat(0);
let nk7: v128 = i32x4.splat(0);

// @ts-ignore: decorator
@inline
function keep8(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128, a7: v128, keep: i32): void {
  let c = i32x4.gt_s(a1, a0);
  let s0 = c;
  let s1 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a2, a0);
  s0 = i32x4.add(s0, c);
  let s2 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a3, a0);
  s0 = i32x4.add(s0, c);
  let s3 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a4, a0);
  s0 = i32x4.add(s0, c);
  let s4 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a5, a0);
  s0 = i32x4.add(s0, c);
  let s5 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a6, a0);
  s0 = i32x4.add(s0, c);
  let s6 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a7, a0);
  s0 = i32x4.add(s0, c);
  let s7 = i32x4.sub(i32x4.splat(0), c);
  c = i32x4.gt_s(a2, a1);
  s1 = i32x4.add(s1, c);
  s2 = i32x4.sub(s2, c);
  c = i32x4.gt_s(a3, a1);
  s1 = i32x4.add(s1, c);
  s3 = i32x4.sub(s3, c);
  c = i32x4.gt_s(a4, a1);
  s1 = i32x4.add(s1, c);
  s4 = i32x4.sub(s4, c);
  c = i32x4.gt_s(a5, a1);
  s1 = i32x4.add(s1, c);
  s5 = i32x4.sub(s5, c);
  c = i32x4.gt_s(a6, a1);
  s1 = i32x4.add(s1, c);
  s6 = i32x4.sub(s6, c);
  c = i32x4.gt_s(a7, a1);
  s1 = i32x4.add(s1, c);
  s7 = i32x4.sub(s7, c);
  c = i32x4.gt_s(a3, a2);
  s2 = i32x4.add(s2, c);
  s3 = i32x4.sub(s3, c);
  c = i32x4.gt_s(a4, a2);
  s2 = i32x4.add(s2, c);
  s4 = i32x4.sub(s4, c);
  c = i32x4.gt_s(a5, a2);
  s2 = i32x4.add(s2, c);
  s5 = i32x4.sub(s5, c);
  c = i32x4.gt_s(a6, a2);
  s2 = i32x4.add(s2, c);
  s6 = i32x4.sub(s6, c);
  c = i32x4.gt_s(a7, a2);
  s2 = i32x4.add(s2, c);
  s7 = i32x4.sub(s7, c);
  c = i32x4.gt_s(a4, a3);
  s3 = i32x4.add(s3, c);
  s4 = i32x4.sub(s4, c);
  c = i32x4.gt_s(a5, a3);
  s3 = i32x4.add(s3, c);
  s5 = i32x4.sub(s5, c);
  c = i32x4.gt_s(a6, a3);
  s3 = i32x4.add(s3, c);
  s6 = i32x4.sub(s6, c);
  c = i32x4.gt_s(a7, a3);
  s3 = i32x4.add(s3, c);
  s7 = i32x4.sub(s7, c);
  c = i32x4.gt_s(a5, a4);
  s4 = i32x4.add(s4, c);
  s5 = i32x4.sub(s5, c);
  c = i32x4.gt_s(a6, a4);
  s4 = i32x4.add(s4, c);
  s6 = i32x4.sub(s6, c);
  c = i32x4.gt_s(a7, a4);
  s4 = i32x4.add(s4, c);
  s7 = i32x4.sub(s7, c);
  c = i32x4.gt_s(a6, a5);
  s5 = i32x4.add(s5, c);
  s6 = i32x4.sub(s6, c);
  c = i32x4.gt_s(a7, a5);
  s5 = i32x4.add(s5, c);
  s7 = i32x4.sub(s7, c);
  c = i32x4.gt_s(a7, a6);
  s6 = i32x4.add(s6, c);
  s7 = i32x4.sub(s7, c);
  nk0 = i32x4.gt_s(s0, i32x4.splat(0 - keep));
  nk1 = i32x4.gt_s(s1, i32x4.splat(1 - keep));
  nk2 = i32x4.gt_s(s2, i32x4.splat(2 - keep));
  nk3 = i32x4.gt_s(s3, i32x4.splat(3 - keep));
  nk4 = i32x4.gt_s(s4, i32x4.splat(4 - keep));
  nk5 = i32x4.gt_s(s5, i32x4.splat(5 - keep));
  nk6 = i32x4.gt_s(s6, i32x4.splat(6 - keep));
  nk7 = i32x4.gt_s(s7, i32x4.splat(7 - keep));
}

/**
 * Groups of 8 in fours (32 contiguous floats): transposed so vector j holds element j of the four groups, then
 * masked like nmCols8 (each pair compared once), the masks transposed back. Returns the zero count of the groups
 * [0, groups & ~3); the caller does the rest (nm8Run). Generated code: a 4×4 transpose is 8 shuffles.
 */
function nmQuads8(x: usize, y: usize, groups: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>(groups >> 2) * 128;
  for (let p: usize = 0; p < end; p += 128) {
    const xp = x + p;
    const yp = y + p;
    const v00 = v128.load(xp);
    const v01 = v128.load(xp, 16);
    const v10 = v128.load(xp, 32);
    const v11 = v128.load(xp, 48);
    const v20 = v128.load(xp, 64);
    const v21 = v128.load(xp, 80);
    const v30 = v128.load(xp, 96);
    const v31 = v128.load(xp, 112);
    const b00 = v128.and(v00, AM);
    const b01 = v128.and(v01, AM);
    const b10 = v128.and(v10, AM);
    const b11 = v128.and(v11, AM);
    const b20 = v128.and(v20, AM);
    const b21 = v128.and(v21, AM);
    const b30 = v128.and(v30, AM);
    const b31 = v128.and(v31, AM);
    if (v128.any_true(v128.or(v128.or(v128.or(i32x4.gt_s(b00, IB), i32x4.gt_s(b01, IB)), v128.or(i32x4.gt_s(b10, IB), i32x4.gt_s(b11, IB))), v128.or(v128.or(i32x4.gt_s(b20, IB), i32x4.gt_s(b21, IB)), v128.or(i32x4.gt_s(b30, IB), i32x4.gt_s(b31, IB)))))) {
      for (let g: usize = 0; g < 128; g += 32) zeros += nmGreedy(xp + g, yp + g, 4, 8, keep);
      continue;
    }
    const t00 = v128.shuffle<i32>(b00, b10, 0, 4, 1, 5);
    const t01 = v128.shuffle<i32>(b00, b10, 2, 6, 3, 7);
    const t02 = v128.shuffle<i32>(b20, b30, 0, 4, 1, 5);
    const t03 = v128.shuffle<i32>(b20, b30, 2, 6, 3, 7);
    const a0 = v128.shuffle<i32>(t00, t02, 0, 1, 4, 5);
    const a1 = v128.shuffle<i32>(t00, t02, 2, 3, 6, 7);
    const a2 = v128.shuffle<i32>(t01, t03, 0, 1, 4, 5);
    const a3 = v128.shuffle<i32>(t01, t03, 2, 3, 6, 7);
    const t10 = v128.shuffle<i32>(b01, b11, 0, 4, 1, 5);
    const t11 = v128.shuffle<i32>(b01, b11, 2, 6, 3, 7);
    const t12 = v128.shuffle<i32>(b21, b31, 0, 4, 1, 5);
    const t13 = v128.shuffle<i32>(b21, b31, 2, 6, 3, 7);
    const a4 = v128.shuffle<i32>(t10, t12, 0, 1, 4, 5);
    const a5 = v128.shuffle<i32>(t10, t12, 2, 3, 6, 7);
    const a6 = v128.shuffle<i32>(t11, t13, 0, 1, 4, 5);
    const a7 = v128.shuffle<i32>(t11, t13, 2, 3, 6, 7);
    keep8(a0, a1, a2, a3, a4, a5, a6, a7, keep);
    const k0 = nk0;
    const k1 = nk1;
    const k2 = nk2;
    const k3 = nk3;
    const k4 = nk4;
    const k5 = nk5;
    const k6 = nk6;
    const k7 = nk7;
    const u00 = v128.shuffle<i32>(k0, k1, 0, 4, 1, 5);
    const u01 = v128.shuffle<i32>(k0, k1, 2, 6, 3, 7);
    const u02 = v128.shuffle<i32>(k2, k3, 0, 4, 1, 5);
    const u03 = v128.shuffle<i32>(k2, k3, 2, 6, 3, 7);
    const m00 = v128.shuffle<i32>(u00, u02, 0, 1, 4, 5);
    const m10 = v128.shuffle<i32>(u00, u02, 2, 3, 6, 7);
    const m20 = v128.shuffle<i32>(u01, u03, 0, 1, 4, 5);
    const m30 = v128.shuffle<i32>(u01, u03, 2, 3, 6, 7);
    const u10 = v128.shuffle<i32>(k4, k5, 0, 4, 1, 5);
    const u11 = v128.shuffle<i32>(k4, k5, 2, 6, 3, 7);
    const u12 = v128.shuffle<i32>(k6, k7, 0, 4, 1, 5);
    const u13 = v128.shuffle<i32>(k6, k7, 2, 6, 3, 7);
    const m01 = v128.shuffle<i32>(u10, u12, 0, 1, 4, 5);
    const m11 = v128.shuffle<i32>(u10, u12, 2, 3, 6, 7);
    const m21 = v128.shuffle<i32>(u11, u13, 0, 1, 4, 5);
    const m31 = v128.shuffle<i32>(u11, u13, 2, 3, 6, 7);
    const r00 = v128.and(v00, m00);
    v128.store(yp, r00);
    const r01 = v128.and(v01, m01);
    v128.store(yp, r01, 16);
    const r10 = v128.and(v10, m10);
    v128.store(yp, r10, 32);
    const r11 = v128.and(v11, m11);
    v128.store(yp, r11, 48);
    const r20 = v128.and(v20, m20);
    v128.store(yp, r20, 64);
    const r21 = v128.and(v21, m21);
    v128.store(yp, r21, 80);
    const r30 = v128.and(v30, m30);
    v128.store(yp, r30, 96);
    const r31 = v128.and(v31, m31);
    v128.store(yp, r31, 112);
    zc = i32x4.add(zc, i32x4.add(i32x4.add(i32x4.add(f32x4.eq(r00, Z), f32x4.eq(r01, Z)), i32x4.add(f32x4.eq(r10, Z), f32x4.eq(r11, Z))), i32x4.add(i32x4.add(f32x4.eq(r20, Z), f32x4.eq(r21, Z)), i32x4.add(f32x4.eq(r30, Z), f32x4.eq(r31, Z)))));
  }
  return zeros - hsumI(zc);
}

/** ⌈n·size/m⌉: what a ragged group of `size` keeps. */
function raggedKeep(n: i32, size: i32, m: i32): i32 {
  return size == m ? n : (n * size + m - 1) / m;
}

/**
 * N:M along contiguous rows of length L (kStride = 1): `len` elements from x to y, the first at position
 * pos0 of its row (a group start). The host ends a call on a group start or a row end. Returns the zero count.
 */
export function nmRows(x: usize, y: usize, len: i32, L: i32, pos0: i32, n: i32, m: i32): i32 {
  let zeros = 0;
  let e = 0;
  let pos = pos0;
  while (e < len) {
    const span = min(L - pos, len - e);
    const full = span / m;
    const xp = x + (<usize>e << 2);
    const yp = y + (<usize>e << 2);
    if (m == 4) {
      const q = full & ~3;
      const qb = <usize>q << 4;
      zeros += nmQuads4(xp, yp, q, n) + nm4Run(xp + qb, yp + qb, full - q, n);
    }
    else if (m == 8) {
      const q = full & ~3;
      const qb = <usize>q << 5;
      zeros += nmQuads8(xp, yp, q, n) + nm8Run(xp + qb, yp + qb, full - q, n);
    }
    else {
      const gb = <usize>m << 2;
      for (let g = 0; g < full; g++) zeros += nmGreedy(xp + <usize>g * gb, yp + <usize>g * gb, 4, m, n);
    }
    const done = full * m;
    if (done < span) {
      const r = span - done;
      zeros += nmGreedy(xp + (<usize>done << 2), yp + (<usize>done << 2), 4, r, raggedKeep(n, r, m));
    }
    e += span;
    pos = 0;
  }
  return zeros;
}

/**
 * One group of `size` rows (row stride rb bytes) across 4 adjacent columns: lane c of row j is kept when
 * fewer than `keep` rows beat it. Returns the zero count.
 */
function nmColBlock(x: usize, y: usize, rb: usize, size: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  let nan = i32x4.splat(0);
  for (let i = 0; i < size; i++) nan = v128.or(nan, i32x4.gt_s(v128.and(v128.load(x + <usize>i * rb), AM), IB));
  if (v128.any_true(nan)) {
    let zeros = 0;
    for (let c: usize = 0; c < 16; c += 4) zeros += nmGreedy(x + c, y + c, rb, size, keep);
    return zeros;
  }
  const ONE = i32x4.splat(1);
  const NK = i32x4.splat(-keep);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  for (let j = 0; j < size; j++) {
    const v = v128.load(x + <usize>j * rb);
    const a = v128.and(v, AM);
    const am = i32x4.sub(a, ONE);
    let neg = i32x4.splat(0);
    for (let i = 0; i < j; i++) neg = i32x4.add(neg, i32x4.gt_s(v128.and(v128.load(x + <usize>i * rb), AM), am));
    for (let i = j + 1; i < size; i++) neg = i32x4.add(neg, i32x4.gt_s(v128.and(v128.load(x + <usize>i * rb), AM), a));
    const r = v128.and(v, i32x4.gt_s(neg, NK));
    v128.store(y + <usize>j * rb, r);
    zc = i32x4.add(zc, f32x4.eq(r, Z));
  }
  return -hsumI(zc);
}

/** nmColBlock for full groups of 4 rows over columns [0, W4): each of the 6 pairs compared once. */
function nmCols4(x: usize, y: usize, rb: usize, W4: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>W4 << 2;
  for (let c: usize = 0; c < end; c += 16) {
    const p = x + c;
    const q = y + c;
    const v0 = v128.load(p);
    const v1 = v128.load(p + rb);
    const v2 = v128.load(p + 2 * rb);
    const v3 = v128.load(p + 3 * rb);
    const a0 = v128.and(v0, AM);
    const a1 = v128.and(v1, AM);
    const a2 = v128.and(v2, AM);
    const a3 = v128.and(v3, AM);
    if (v128.any_true(v128.or(v128.or(i32x4.gt_s(a0, IB), i32x4.gt_s(a1, IB)), v128.or(i32x4.gt_s(a2, IB), i32x4.gt_s(a3, IB))))) {
      for (let l: usize = 0; l < 16; l += 4) zeros += nmGreedy(p + l, q + l, rb, 4, keep);
      continue;
    }
    keep4(a0, a1, a2, a3, keep);
    const r0 = v128.and(v0, nk0);
    const r1 = v128.and(v1, nk1);
    const r2 = v128.and(v2, nk2);
    const r3 = v128.and(v3, nk3);
    v128.store(q, r0);
    v128.store(q + rb, r1);
    v128.store(q + 2 * rb, r2);
    v128.store(q + 3 * rb, r3);
    zc = i32x4.add(zc, i32x4.add(i32x4.add(f32x4.eq(r0, Z), f32x4.eq(r1, Z)), i32x4.add(f32x4.eq(r2, Z), f32x4.eq(r3, Z))));
  }
  return zeros - hsumI(zc);
}

/**
 * nmColBlock for full groups of 8 rows over columns [0, W4): each of the 28 pairs compared once (as nmCols4),
 * row j's (Σ_{k>j} cjk − Σ_{i<j} cij) accumulated in s_j; the values are loaded again for the stores.
 */
function nmCols8(x: usize, y: usize, rb: usize, W4: i32, keep: i32): i32 {
  const AM = i32x4.splat(ABS_BITS);
  const IB = i32x4.splat(INF_BITS);
  const Z = f32x4.splat(0);
  let zc = i32x4.splat(0);
  let zeros = 0;
  const end = <usize>W4 << 2;
  for (let col: usize = 0; col < end; col += 16) {
    const p = x + col;
    const q = y + col;
    const a0 = v128.and(v128.load(p), AM);
    const a1 = v128.and(v128.load(p + 1 * rb), AM);
    const a2 = v128.and(v128.load(p + 2 * rb), AM);
    const a3 = v128.and(v128.load(p + 3 * rb), AM);
    const a4 = v128.and(v128.load(p + 4 * rb), AM);
    const a5 = v128.and(v128.load(p + 5 * rb), AM);
    const a6 = v128.and(v128.load(p + 6 * rb), AM);
    const a7 = v128.and(v128.load(p + 7 * rb), AM);
    const nan = v128.or(
      v128.or(v128.or(i32x4.gt_s(a0, IB), i32x4.gt_s(a1, IB)), v128.or(i32x4.gt_s(a2, IB), i32x4.gt_s(a3, IB))),
      v128.or(v128.or(i32x4.gt_s(a4, IB), i32x4.gt_s(a5, IB)), v128.or(i32x4.gt_s(a6, IB), i32x4.gt_s(a7, IB))),
    );
    if (v128.any_true(nan)) {
      for (let l: usize = 0; l < 16; l += 4) zeros += nmGreedy(p + l, q + l, rb, 8, keep);
      continue;
    }
    keep8(a0, a1, a2, a3, a4, a5, a6, a7, keep);
    const r0 = v128.and(v128.load(p), nk0);
    v128.store(q, r0);
    zc = i32x4.add(zc, f32x4.eq(r0, Z));
    const r1 = v128.and(v128.load(p + 1 * rb), nk1);
    v128.store(q + 1 * rb, r1);
    zc = i32x4.add(zc, f32x4.eq(r1, Z));
    const r2 = v128.and(v128.load(p + 2 * rb), nk2);
    v128.store(q + 2 * rb, r2);
    zc = i32x4.add(zc, f32x4.eq(r2, Z));
    const r3 = v128.and(v128.load(p + 3 * rb), nk3);
    v128.store(q + 3 * rb, r3);
    zc = i32x4.add(zc, f32x4.eq(r3, Z));
    const r4 = v128.and(v128.load(p + 4 * rb), nk4);
    v128.store(q + 4 * rb, r4);
    zc = i32x4.add(zc, f32x4.eq(r4, Z));
    const r5 = v128.and(v128.load(p + 5 * rb), nk5);
    v128.store(q + 5 * rb, r5);
    zc = i32x4.add(zc, f32x4.eq(r5, Z));
    const r6 = v128.and(v128.load(p + 6 * rb), nk6);
    v128.store(q + 6 * rb, r6);
    zc = i32x4.add(zc, f32x4.eq(r6, Z));
    const r7 = v128.and(v128.load(p + 7 * rb), nk7);
    v128.store(q + 7 * rb, r7);
    zc = i32x4.add(zc, f32x4.eq(r7, Z));
  }
  return zeros - hsumI(zc);
}

/**
 * N:M down the columns of a row-major [rows, W] block (lineStride = 1, kStride = W: MatMul [K, N]), x to y.
 * Groups are rows [g·m, g·m + m) (m ≤ 64); the host starts a call on a group start, so only a call's last
 * group can be ragged. Returns the zero count.
 */
export function nmCols(x: usize, y: usize, rows: i32, W: i32, n: i32, m: i32): i32 {
  const rb = <usize>W << 2;
  const W4 = W & ~3;
  let zeros = 0;
  for (let g0 = 0; g0 < rows; g0 += m) {
    const size = min(m, rows - g0);
    const keep = raggedKeep(n, size, m);
    const xg = x + <usize>g0 * rb;
    const yg = y + <usize>g0 * rb;
    if (size == 4) zeros += nmCols4(xg, yg, rb, W4, keep);
    else if (size == 8) zeros += nmCols8(xg, yg, rb, W4, keep);
    else {
      for (let c = 0; c < W4; c += 4) zeros += nmColBlock(xg + (<usize>c << 2), yg + (<usize>c << 2), rb, size, keep);
    }
    for (let c = W4; c < W; c++) zeros += nmGreedy(xg + (<usize>c << 2), yg + (<usize>c << 2), rb, size, keep);
  }
  return zeros;
}

// Channel norms: Σ|x| or Σx² over finite values, in float64 (squares of tiny values stay exact, huge ones finite).

// @ts-ignore: decorator
@inline
function finiteOnly(v: v128): v128 {
  return v128.and(v, f32x4.eq(f32x4.sub(v, v), f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline
function low64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function high64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

function scalarNorm(x: f32, l2: bool): f64 {
  if (x - x != 0) return 0;
  const d = <f64>x;
  return l2 ? d * d : abs(d);
}

/** Σ|x| or Σx² over the finite values of the `len` floats at p. */
function normRun(p: usize, len: i32, l2: bool): f64 {
  const end = p + (<usize>len << 2);
  const end8 = p + ((<usize>len & ~(<usize>7)) << 2);
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let s2 = f64x2.splat(0);
  let s3 = f64x2.splat(0);
  let q = p;
  if (l2) {
    for (; q < end8; q += 32) {
      const a = finiteOnly(v128.load(q));
      const b = finiteOnly(v128.load(q, 16));
      const a0 = low64(a);
      const a1 = high64(a);
      const b0 = low64(b);
      const b1 = high64(b);
      s0 = f64x2.add(s0, f64x2.mul(a0, a0));
      s1 = f64x2.add(s1, f64x2.mul(a1, a1));
      s2 = f64x2.add(s2, f64x2.mul(b0, b0));
      s3 = f64x2.add(s3, f64x2.mul(b1, b1));
    }
  } else {
    for (; q < end8; q += 32) {
      const a = f32x4.abs(finiteOnly(v128.load(q)));
      const b = f32x4.abs(finiteOnly(v128.load(q, 16)));
      s0 = f64x2.add(s0, low64(a));
      s1 = f64x2.add(s1, high64(a));
      s2 = f64x2.add(s2, low64(b));
      s3 = f64x2.add(s3, high64(b));
    }
  }
  const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let t = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; q < end; q += 4) t += scalarNorm(load<f32>(q), l2);
  return t;
}

/** Per (o, c) run of `inner` floats: out[c] (float64, zeroed by the host) += its norm sum. */
export function normRuns(x: usize, outer: i32, channels: i32, inner: i32, out: usize, l2: bool): void {
  const runBytes = <usize>inner << 2;
  let p = x;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const a = out + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + normRun(p, inner, l2));
      p += runBytes;
    }
  }
}

/** Rows summed in registers before their column's float64 accumulators are updated. */
const NORM_BAND: i32 = 8;

/**
 * Norm sums per position of rows of w floats, columns [j0, j1): acc[j − j0] (float64, zeroed by the host) gets
 * the sum over `rows` full rows plus the partial row `rows` up to position tailLen.
 */
export function normRows(x: usize, rows: i32, w: i32, j0: i32, j1: i32, tailLen: i32, acc: usize, l2: bool): void {
  const rb = <usize>w << 2;
  const j4 = j0 + ((j1 - j0) & ~3);
  for (let r0 = 0; r0 < rows; r0 += NORM_BAND) {
    const nr = min(NORM_BAND, rows - r0);
    const base = x + <usize>r0 * rb;
    for (let j = j0; j < j4; j += 4) {
      let p = base + (<usize>j << 2);
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      if (l2) {
        for (let r = 0; r < nr; r++) {
          const v = finiteOnly(v128.load(p));
          const v0 = low64(v);
          const v1 = high64(v);
          s0 = f64x2.add(s0, f64x2.mul(v0, v0));
          s1 = f64x2.add(s1, f64x2.mul(v1, v1));
          p += rb;
        }
      } else {
        for (let r = 0; r < nr; r++) {
          const v = f32x4.abs(finiteOnly(v128.load(p)));
          s0 = f64x2.add(s0, low64(v));
          s1 = f64x2.add(s1, high64(v));
          p += rb;
        }
      }
      const a = acc + (<usize>(j - j0) << 3);
      v128.store(a, f64x2.add(v128.load(a), s0));
      v128.store(a, f64x2.add(v128.load(a, 16), s1), 16);
    }
    for (let j = j4; j < j1; j++) {
      let t: f64 = 0;
      let p = base + (<usize>j << 2);
      for (let r = 0; r < nr; r++) {
        t += scalarNorm(load<f32>(p), l2);
        p += rb;
      }
      const a = acc + (<usize>(j - j0) << 3);
      store<f64>(a, load<f64>(a) + t);
    }
  }
  const tail = x + <usize>rows * rb;
  const te = min(j1, tailLen);
  for (let j = j0; j < te; j++) {
    const a = acc + (<usize>(j - j0) << 3);
    store<f64>(a, load<f64>(a) + scalarNorm(load<f32>(tail + (<usize>j << 2)), l2));
  }
}
