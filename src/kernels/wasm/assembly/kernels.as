// AssemblyScript source of the WASM SIMD kernels (compiled by scripts/build-wasm.mjs).
// The extension is .as, not .ts, so the project's TypeScript check does not try to read it; the build
// hands it to the AssemblyScript compiler as an in-memory .ts file.
//
// Memory is owned by the JS side (src/kernels/wasm/backend.ts): every pointer passed in was allocated
// there, 64-byte aligned. The kernels themselves never allocate.
//
// Exactness rules (see src/kernels/types.ts):
//  - counts, min/max and histogram bins are exact;
//  - sums use float32x4 partial sums over short blocks (≤ 64 values per lane) folded into float64.
//    A block whose float32 partial sums are not finite (a NaN/±Inf value, or float32 overflow) is
//    recomputed element by element in float64, so specials and huge values are handled exactly.

const INF: f32 = Infinity;
/** 2^112: turns fp16 bits shifted into float32 position into the right value (normals and subnormals). */
const F16_MAGIC: f32 = 5.192296858534828e33;

/** Bytes per fast block of the moment / run reducers: 256 floats = 64 per lane. */
const BLOCK: usize = 1024;

export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------------
// Shared scalar state of the reducers (module globals so the helpers need no out-parameters).

let gNan: i32 = 0;
let gPosInf: i32 = 0;
let gNegInf: i32 = 0;
let gZero: i32 = 0;
let gMin: f32 = INF;
let gMax: f32 = -INF;
let gSum: f64 = 0;
let gSumSq: f64 = 0;

function resetState(): void {
  gNan = 0;
  gPosInf = 0;
  gNegInf = 0;
  gZero = 0;
  gMin = INF;
  gMax = -INF;
  gSum = 0;
  gSumSq = 0;
}

/** Exact element-by-element moments of [p, end), like the TS reference. */
function slowMoments(p: usize, end: usize): void {
  let nan = gNan, pinf = gPosInf, ninf = gNegInf, zero = gZero;
  let mn = gMin, mx = gMax;
  let s = gSum, s2 = gSumSq;
  for (; p < end; p += 4) {
    const x = load<f32>(p);
    if (x != x) nan++;
    else if (x == INF) pinf++;
    else if (x == -INF) ninf++;
    else {
      if (x == 0) zero++;
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      const d = <f64>x;
      s += d;
      s2 += d * d;
    }
  }
  gNan = nan;
  gPosInf = pinf;
  gNegInf = ninf;
  gZero = zero;
  gMin = mn;
  gMax = mx;
  gSum = s;
  gSumSq = s2;
}

/** Sum of the four float32 lanes, in float64. */
function hsum64(v: v128): f64 {
  const a = f64x2.promote_low_f32x4(v);
  const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

function hmin(v: v128): f32 {
  const m = f32x4.pmin(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const n = f32x4.pmin(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(n, 0);
}

function hmax(v: v128): f32 {
  const m = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const n = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(n, 0);
}

/** True when every lane of v is finite. */
function allFinite(v: v128): bool {
  return i32x4.all_true(f32x4.eq(f32x4.sub(v, v), f32x4.splat(0)));
}

// ---------------------------------------------------------------------------------------------------
// Moments. Writes 8 float64 to out: nan, +inf, -inf, zeros, min, max, sum, sumSq
// (min = +Inf / max = -Inf when there is no finite value).

export function moments(ptr: usize, n: i32, out: usize): void {
  resetState();
  const end = ptr + (<usize>n << 2);
  const blockEnd = ptr + ((end - ptr) & ~(BLOCK - 1));
  const Z = f32x4.splat(0);
  let vmin = f32x4.splat(INF);
  let vmax = f32x4.splat(-INF);
  let vzero = i32x4.splat(0);
  let vsum = f64x2.splat(0);
  let vsumSq = f64x2.splat(0);
  let p = ptr;
  while (p < blockEnd) {
    const be = p + BLOCK;
    let bmin = f32x4.splat(INF);
    let bmax = f32x4.splat(-INF);
    let s = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let bz = i32x4.splat(0);
    let q = p;
    do {
      const x0 = v128.load(q);
      const x1 = v128.load(q, 16);
      const x2 = v128.load(q, 32);
      const x3 = v128.load(q, 48);
      bmin = f32x4.pmin(bmin, f32x4.pmin(f32x4.pmin(x0, x1), f32x4.pmin(x2, x3)));
      bmax = f32x4.pmax(bmax, f32x4.pmax(f32x4.pmax(x0, x1), f32x4.pmax(x2, x3)));
      s = f32x4.add(s, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
      s2 = f32x4.add(s2, f32x4.add(f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1)), f32x4.add(f32x4.mul(x2, x2), f32x4.mul(x3, x3))));
      bz = i32x4.add(bz, i32x4.add(i32x4.add(f32x4.eq(x0, Z), f32x4.eq(x1, Z)), i32x4.add(f32x4.eq(x2, Z), f32x4.eq(x3, Z))));
      q += 64;
    } while (q < be);
    // Non-finite partial sums ⇔ a NaN/±Inf in the block (or float32 overflow): redo it exactly.
    if (allFinite(f32x4.add(s, s2))) {
      vmin = f32x4.pmin(vmin, bmin);
      vmax = f32x4.pmax(vmax, bmax);
      vzero = i32x4.sub(vzero, bz);
      const sLo = f64x2.promote_low_f32x4(s);
      const sHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3));
      const qLo = f64x2.promote_low_f32x4(s2);
      const qHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(s2, s2, 2, 3, 2, 3));
      vsum = f64x2.add(vsum, f64x2.add(sLo, sHi));
      vsumSq = f64x2.add(vsumSq, f64x2.add(qLo, qHi));
    } else {
      slowMoments(p, be);
    }
    p = be;
  }
  slowMoments(p, end);

  const mn = hmin(vmin);
  const mx = hmax(vmax);
  store<f64>(out, <f64>gNan);
  store<f64>(out, <f64>gPosInf, 8);
  store<f64>(out, <f64>gNegInf, 16);
  store<f64>(
    out,
    <f64>(gZero + i32x4.extract_lane(vzero, 0) + i32x4.extract_lane(vzero, 1) + i32x4.extract_lane(vzero, 2) + i32x4.extract_lane(vzero, 3)),
    24,
  );
  store<f64>(out, <f64>(mn < gMin ? mn : gMin), 32);
  store<f64>(out, <f64>(mx > gMax ? mx : gMax), 40);
  store<f64>(out, gSum + (f64x2.extract_lane(vsum, 0) + f64x2.extract_lane(vsum, 1)), 48);
  store<f64>(out, gSumSq + (f64x2.extract_lane(vsumSq, 0) + f64x2.extract_lane(vsumSq, 1)), 56);
}

// ---------------------------------------------------------------------------------------------------
// Run reducer for channelStats: min/max/sum/sumSq over finite values of [p, p + len*4), into gMin..gSumSq.

function slowRun(p: usize, end: usize): void {
  let mn = gMin, mx = gMax;
  let s = gSum, s2 = gSumSq;
  for (; p < end; p += 4) {
    const x = load<f32>(p);
    if (x - x != 0) continue; // NaN or ±Inf
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    const d = <f64>x;
    s += d;
    s2 += d * d;
  }
  gMin = mn;
  gMax = mx;
  gSum = s;
  gSumSq = s2;
}

function reduceRun(ptr: usize, len: i32): void {
  gMin = INF;
  gMax = -INF;
  gSum = 0;
  gSumSq = 0;
  const end = ptr + (<usize>len << 2);
  const vecEnd = ptr + ((end - ptr) & ~(<usize>15));
  let vmin = f32x4.splat(INF);
  let vmax = f32x4.splat(-INF);
  let vsum = f64x2.splat(0);
  let vsumSq = f64x2.splat(0);
  let p = ptr;
  while (p < vecEnd) {
    const be = min(p + BLOCK, vecEnd);
    const be4 = p + ((be - p) & ~(<usize>63));
    let bmin = f32x4.splat(INF);
    let bmax = f32x4.splat(-INF);
    let s = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let q = p;
    while (q < be4) {
      const x0 = v128.load(q);
      const x1 = v128.load(q, 16);
      const x2 = v128.load(q, 32);
      const x3 = v128.load(q, 48);
      bmin = f32x4.pmin(bmin, f32x4.pmin(f32x4.pmin(x0, x1), f32x4.pmin(x2, x3)));
      bmax = f32x4.pmax(bmax, f32x4.pmax(f32x4.pmax(x0, x1), f32x4.pmax(x2, x3)));
      s = f32x4.add(s, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
      s2 = f32x4.add(s2, f32x4.add(f32x4.add(f32x4.mul(x0, x0), f32x4.mul(x1, x1)), f32x4.add(f32x4.mul(x2, x2), f32x4.mul(x3, x3))));
      q += 64;
    }
    while (q < be) {
      const x = v128.load(q);
      bmin = f32x4.pmin(bmin, x);
      bmax = f32x4.pmax(bmax, x);
      s = f32x4.add(s, x);
      s2 = f32x4.add(s2, f32x4.mul(x, x));
      q += 16;
    }
    if (allFinite(f32x4.add(s, s2))) {
      vmin = f32x4.pmin(vmin, bmin);
      vmax = f32x4.pmax(vmax, bmax);
      const sLo = f64x2.promote_low_f32x4(s);
      const sHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3));
      const qLo = f64x2.promote_low_f32x4(s2);
      const qHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(s2, s2, 2, 3, 2, 3));
      vsum = f64x2.add(vsum, f64x2.add(sLo, sHi));
      vsumSq = f64x2.add(vsumSq, f64x2.add(qLo, qHi));
    } else {
      slowRun(p, be);
    }
    p = be;
  }
  slowRun(p, end);
  const mn = hmin(vmin);
  const mx = hmax(vmax);
  if (mn < gMin) gMin = mn;
  if (mx > gMax) gMax = mx;
  gSum += f64x2.extract_lane(vsum, 0) + f64x2.extract_lane(vsum, 1);
  gSumSq += f64x2.extract_lane(vsumSq, 0) + f64x2.extract_lane(vsumSq, 1);
}

/** Fills per-channel outputs: min/max f32[channels], sum/sumSq f64[channels]. */
function initChannels(channels: i32, oMin: usize, oMax: usize, oSum: usize, oSumSq: usize): void {
  for (let c = 0; c < channels; c++) {
    const o = <usize>c;
    store<f32>(oMin + (o << 2), INF);
    store<f32>(oMax + (o << 2), -INF);
    store<f64>(oSum + (o << 3), 0);
    store<f64>(oSumSq + (o << 3), 0);
  }
}

/** channelStats for long runs (inner large): each (o, c) run is reduced with SIMD. */
export function channelRuns(ptr: usize, outer: i32, channels: i32, inner: i32, oMin: usize, oMax: usize, oSum: usize, oSumSq: usize): void {
  initChannels(channels, oMin, oMax, oSum, oSumSq);
  const runBytes = <usize>inner << 2;
  let p = ptr;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      reduceRun(p, inner);
      const a4 = <usize>c << 2;
      const a8 = <usize>c << 3;
      if (gMin < load<f32>(oMin + a4)) store<f32>(oMin + a4, gMin);
      if (gMax > load<f32>(oMax + a4)) store<f32>(oMax + a4, gMax);
      store<f64>(oSum + a8, load<f64>(oSum + a8) + gSum);
      store<f64>(oSumSq + a8, load<f64>(oSumSq + a8) + gSumSq);
      p += runBytes;
    }
  }
}

/** Rows folded from float32 into float64 partial sums at a time. */
const FOLD_ROWS: i32 = 32;
/** Super-rows per register-resident pass of channelRows (divides FOLD_ROWS). */
const GROUP_ROWS: i32 = 8;

/**
 * channelStats for short runs (inner small, e.g. inner = 1): vectorised across positions of a
 * "super-row" of `w4` floats (a multiple of rowLen = channels * inner and of 4). Position j belongs to
 * channel (j % rowLen) / inner. Scratch holds per position: f32 min, max, sum, sumSq; f64 sum, sumSq
 * (32 bytes per position, 16-byte aligned sections).
 */
export function channelRows(
  ptr: usize,
  n: i32,
  rowLen: i32,
  w4: i32,
  channels: i32,
  inner: i32,
  scratch: usize,
  oMin: usize,
  oMax: usize,
  oSum: usize,
  oSumSq: usize,
): void {
  const W = <usize>w4;
  const pMin = scratch;
  const pMax = pMin + (W << 2);
  const pS = pMax + (W << 2);
  const pS2 = pS + (W << 2);
  const pD = pS2 + (W << 2);
  const pD2 = pD + (W << 3);
  const INFV = f32x4.splat(INF);
  const NINFV = f32x4.splat(-INF);
  const Z = f32x4.splat(0);
  for (let j: usize = 0; j < W; j += 4) {
    v128.store(pMin + (j << 2), INFV);
    v128.store(pMax + (j << 2), NINFV);
    v128.store(pS + (j << 2), Z);
    v128.store(pS2 + (j << 2), Z);
    v128.store(pD + (j << 3), Z);
    v128.store(pD + (j << 3), Z, 16);
    v128.store(pD2 + (j << 3), Z);
    v128.store(pD2 + (j << 3), Z, 16);
  }
  const superRows = <usize>n / W;
  const rowBytes = W << 2;
  const groupBytes = rowBytes * <usize>GROUP_ROWS;
  const groups = superRows / <usize>GROUP_ROWS;
  let row = ptr;
  let pending = 0;
  // Groups of GROUP_ROWS super-rows: for each 4 positions the group's column streams through register
  // accumulators (assuming finite values), merged into the stored ones once per group. A column whose
  // float32 sums come out non-finite (a NaN/±Inf, or float32 overflow) is redone element by element.
  for (let g: usize = 0; g < groups; g++) {
    for (let j: usize = 0; j < rowBytes; j += 16) {
      let mn = INFV;
      let mx = NINFV;
      let s = Z;
      let s2 = Z;
      const col = row + j;
      const colEnd = col + groupBytes;
      for (let q = col; q < colEnd; q += rowBytes) {
        const x = v128.load(q);
        mn = f32x4.pmin(mn, x);
        mx = f32x4.pmax(mx, x);
        s = f32x4.add(s, x);
        s2 = f32x4.add(s2, f32x4.mul(x, x));
      }
      if (allFinite(f32x4.add(s, s2))) {
        v128.store(pMin + j, f32x4.pmin(v128.load(pMin + j), mn));
        v128.store(pMax + j, f32x4.pmax(v128.load(pMax + j), mx));
        v128.store(pS + j, f32x4.add(v128.load(pS + j), s));
        v128.store(pS2 + j, f32x4.add(v128.load(pS2 + j), s2));
      } else {
        const pos = j >> 2;
        for (let q = col; q < colEnd; q += rowBytes) {
          exactAt(load<f32>(q), pos, pMin, pMax, pD, pD2);
          exactAt(load<f32>(q, 4), pos + 1, pMin, pMax, pD, pD2);
          exactAt(load<f32>(q, 8), pos + 2, pMin, pMax, pD, pD2);
          exactAt(load<f32>(q, 12), pos + 3, pMin, pMax, pD, pD2);
        }
      }
    }
    row += groupBytes;
    pending += GROUP_ROWS;
    if (pending >= FOLD_ROWS) {
      foldRows(W, pS, pS2, pD, pD2);
      pending = 0;
    }
  }
  foldRows(W, pS, pS2, pD, pD2);
  // The rest (fewer than GROUP_ROWS super-rows, then leftover rows), element by element in float64.
  const end = ptr + (<usize>n << 2);
  for (let j: usize = 0; row < end; row += 4) {
    exactAt(load<f32>(row), j, pMin, pMax, pD, pD2);
    if (++j == W) j = 0;
  }
  // Positions → channels.
  initChannels(channels, oMin, oMax, oSum, oSumSq);
  const rl = <usize>rowLen;
  const inn = <usize>inner;
  for (let j: usize = 0; j < W; j++) {
    const c = (j % rl) / inn;
    const mn = load<f32>(pMin + (j << 2));
    const mx = load<f32>(pMax + (j << 2));
    if (mn < load<f32>(oMin + (c << 2))) store<f32>(oMin + (c << 2), mn);
    if (mx > load<f32>(oMax + (c << 2))) store<f32>(oMax + (c << 2), mx);
    store<f64>(oSum + (c << 3), load<f64>(oSum + (c << 3)) + load<f64>(pD + (j << 3)));
    store<f64>(oSumSq + (c << 3), load<f64>(oSumSq + (c << 3)) + load<f64>(pD2 + (j << 3)));
  }
}

/** Exact update of position j with x (skipped unless finite): float32 min/max, float64 sums. */
function exactAt(x: f32, j: usize, pMin: usize, pMax: usize, pD: usize, pD2: usize): void {
  if (x - x != 0) return;
  if (x < load<f32>(pMin + (j << 2))) store<f32>(pMin + (j << 2), x);
  if (x > load<f32>(pMax + (j << 2))) store<f32>(pMax + (j << 2), x);
  const d = <f64>x;
  store<f64>(pD + (j << 3), load<f64>(pD + (j << 3)) + d);
  store<f64>(pD2 + (j << 3), load<f64>(pD2 + (j << 3)) + d * d);
}

function foldRows(W: usize, pS: usize, pS2: usize, pD: usize, pD2: usize): void {
  const Z = f32x4.splat(0);
  for (let j: usize = 0; j < W; j += 4) {
    const s = v128.load(pS + (j << 2));
    const s2 = v128.load(pS2 + (j << 2));
    const d = pD + (j << 3);
    const d2 = pD2 + (j << 3);
    v128.store(d, f64x2.add(v128.load(d), f64x2.promote_low_f32x4(s)));
    v128.store(d, f64x2.add(v128.load(d, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3))), 16);
    v128.store(d2, f64x2.add(v128.load(d2), f64x2.promote_low_f32x4(s2)));
    v128.store(d2, f64x2.add(v128.load(d2, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(s2, s2, 2, 3, 2, 3))), 16);
    v128.store(pS + (j << 2), Z);
    v128.store(pS2 + (j << 2), Z);
  }
}

// ---------------------------------------------------------------------------------------------------
// Histogram. Bin arithmetic exactly as histogramBin() in types.ts, all float32:
//   counted iff lo <= x <= hi; bin = floor(f32(f32(x - lo) * scale)), clamped to bins - 1.
// The SIMD path needs finite lo, hi and scale and bins <= 2^22 (the JS side checks); then for a counted x
// the product q is >= 0 and never NaN, so min(q, bins - 1) then floor gives the exact clamped bin b, and
// adding 2^23 (exact for an integer < 2^23) leaves 0x4B000000 + b in the float's bits: shifted left by 2
// and offset by a per-lane base, that is the counter's address. Lanes not counted are masked to address 0,
// a dummy counter (the JS heap never hands out the first 64 bytes).
// Each lane of a vector counts into its own sub-histogram (4 copies, `stride` bytes apart) so that
// repeated bins do not serialise on store-to-load forwarding; `mergeHistograms` sums them.

/** Exact scalar bin with full reference semantics (any lo/hi/scale); -1 when not counted. */
function binExact(x: f32, lo: f32, hi: f32, scale: f32, bins: i32): i32 {
  if (!(x >= lo && x <= hi)) return -1;
  const pr: f32 = (x - lo) * scale;
  if (pr != pr) return -1; // NaN bin: the reference counts nothing
  const fb = Mathf.floor(pr);
  if (<f64>fb >= <f64>bins) return bins - 1;
  return <i32>fb;
}

/** Bin for the finite-parameter path; `bins` (a dummy) when not counted. */
function binFast(x: f32, lo: f32, hi: f32, scale: f32, bins: i32): i32 {
  if (!(x >= lo && x <= hi)) return bins;
  const pr: f32 = (x - lo) * scale;
  if (pr >= <f32>bins) return bins - 1;
  return <i32>pr;
}

const MAGIC: f32 = 8388608.0; // 2^23

/** Per-lane counter base for lanes 0..3 in copies 0..3: the address of bin b is base + ((0x4B000000 + b) << 2). */
function laneBases(sub: usize, stride: usize): v128 {
  const s = <i32>sub - (0x4b000000 << 2);
  const st = <i32>stride;
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(s), 1, s + st), 2, s + 2 * st), 3, s + 3 * st);
}

// @ts-ignore: decorator
@inline
function counterAddrs(x: v128, LO: v128, HI: v128, SC: v128, LASTF: v128, MAG: v128, BASE: v128): v128 {
  const q = f32x4.pmin(f32x4.mul(f32x4.sub(x, LO), SC), LASTF);
  const a = i32x4.add(i32x4.shl(f32x4.add(f32x4.floor(q), MAG), 2), BASE);
  return v128.and(a, v128.and(f32x4.ge(x, LO), f32x4.le(x, HI)));
}

// @ts-ignore: decorator
@inline
function bump(a: usize): void {
  store<u32>(a, load<u32>(a) + 1);
}

export function histogram(ptr: usize, n: i32, lo: f32, hi: f32, scale: f32, bins: i32, sub: usize, stride: usize, exact: bool): void {
  const end = ptr + (<usize>n << 2);
  if (exact) {
    for (let p = ptr; p < end; p += 4) {
      const b = binExact(load<f32>(p), lo, hi, scale, bins);
      if (b >= 0) bump(sub + (<usize>b << 2));
    }
    return;
  }
  const LO = f32x4.splat(lo);
  const HI = f32x4.splat(hi);
  const SC = f32x4.splat(scale);
  const LASTF = f32x4.splat(<f32>(bins - 1));
  const MAG = f32x4.splat(MAGIC);
  const BASE = laneBases(sub, stride);
  const end16 = ptr + ((<usize>n & ~(<usize>15)) << 2);
  let p = ptr;
  for (; p < end16; p += 64) {
    const a0 = counterAddrs(v128.load(p), LO, HI, SC, LASTF, MAG, BASE);
    const a1 = counterAddrs(v128.load(p, 16), LO, HI, SC, LASTF, MAG, BASE);
    const a2 = counterAddrs(v128.load(p, 32), LO, HI, SC, LASTF, MAG, BASE);
    const a3 = counterAddrs(v128.load(p, 48), LO, HI, SC, LASTF, MAG, BASE);
    bump(<usize>i32x4.extract_lane(a0, 0));
    bump(<usize>i32x4.extract_lane(a0, 1));
    bump(<usize>i32x4.extract_lane(a0, 2));
    bump(<usize>i32x4.extract_lane(a0, 3));
    bump(<usize>i32x4.extract_lane(a1, 0));
    bump(<usize>i32x4.extract_lane(a1, 1));
    bump(<usize>i32x4.extract_lane(a1, 2));
    bump(<usize>i32x4.extract_lane(a1, 3));
    bump(<usize>i32x4.extract_lane(a2, 0));
    bump(<usize>i32x4.extract_lane(a2, 1));
    bump(<usize>i32x4.extract_lane(a2, 2));
    bump(<usize>i32x4.extract_lane(a2, 3));
    bump(<usize>i32x4.extract_lane(a3, 0));
    bump(<usize>i32x4.extract_lane(a3, 1));
    bump(<usize>i32x4.extract_lane(a3, 2));
    bump(<usize>i32x4.extract_lane(a3, 3));
  }
  for (; p < end; p += 4) {
    const b = binFast(load<f32>(p), lo, hi, scale, bins);
    if (b < bins) bump(sub + (<usize>b << 2));
  }
}

/** Adds sub-histograms 1..copies-1 into copy 0 (first `bins` entries). */
export function mergeHistograms(sub: usize, stride: usize, copies: i32, bins: i32): void {
  const bytes = <usize>bins << 2;
  const vecBytes = bytes & ~(<usize>15);
  for (let k = 1; k < copies; k++) {
    const src = sub + <usize>k * stride;
    let j: usize = 0;
    for (; j < vecBytes; j += 16) v128.store(sub + j, i32x4.add(v128.load(sub + j), v128.load(src + j)));
    for (; j < bytes; j += 4) store<u32>(sub + j, load<u32>(sub + j) + load<u32>(src + j));
  }
}

// ---------------------------------------------------------------------------------------------------
// gatherBins: slots = i32[bins + 1] (slot index of each bin, -1 when not wanted; entry `bins` = -1),
// cursors = u32[slots] (next write address of each slot). Same bin arithmetic as `histogram`.

export function gather(ptr: usize, n: i32, lo: f32, hi: f32, scale: f32, bins: i32, exact: bool, slots: usize, cursors: usize): void {
  const end = ptr + (<usize>n << 2);
  let p = ptr;
  if (!exact) {
    const LO = f32x4.splat(lo);
    const HI = f32x4.splat(hi);
    const SC = f32x4.splat(scale);
    const LAST = i32x4.splat(bins - 1);
    const DUMMY = i32x4.splat(bins);
    const SL = i32x4.splat(<i32>slots);
    const end4 = ptr + ((<usize>n & ~(<usize>3)) << 2);
    for (; p < end4; p += 16) {
      const x = v128.load(p);
      const b = i32x4.min_s(i32x4.trunc_sat_f32x4_s(f32x4.mul(f32x4.sub(x, LO), SC)), LAST);
      const k = v128.and(f32x4.ge(x, LO), f32x4.le(x, HI));
      const a = i32x4.add(i32x4.shl(v128.bitselect(b, DUMMY, k), 2), SL);
      put(load<i32>(<usize>i32x4.extract_lane(a, 0)), f32x4.extract_lane(x, 0), cursors);
      put(load<i32>(<usize>i32x4.extract_lane(a, 1)), f32x4.extract_lane(x, 1), cursors);
      put(load<i32>(<usize>i32x4.extract_lane(a, 2)), f32x4.extract_lane(x, 2), cursors);
      put(load<i32>(<usize>i32x4.extract_lane(a, 3)), f32x4.extract_lane(x, 3), cursors);
    }
  }
  for (; p < end; p += 4) {
    const x = load<f32>(p);
    const b = exact ? binExact(x, lo, hi, scale, bins) : binFast(x, lo, hi, scale, bins);
    if (b >= 0) put(load<i32>(slots + (<usize>b << 2)), x, cursors);
  }
}

function put(slot: i32, x: f32, cursors: usize): void {
  if (slot < 0) return;
  const c = cursors + (<usize>slot << 2);
  const at = load<u32>(c);
  store<f32>(<usize>at, x);
  store<u32>(c, at + 4);
}

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

// ===================================================================================================
// Quantization (see src/kernels/quant.ts). Per element, all float32, exactly the reference's
//   q = clamp(roundHalfEven(f32(x · invScale)) + zp, qmin, qmax),  y = f32((q − zp) · scale):
//   t = clamp(f32(x · invScale), lo, hi)      lo = qmin − zp, hi = qmax − zp (integers, |·| < 2^22)
//   b = f32(t + 1.5·2^23)                      the float's ulp there is 1, so this rounds t to an integer,
//                                              ties to even; clamping first gives the same result because
//                                              rounding is monotone and lo, hi are integers
//   code = bits(b) − (bits(1.5·2^23) − zp)     (the host passes k = bits(1.5·2^23) − zp per group)
//   y = f32((b − 1.5·2^23) · scale)            b − 1.5·2^23 = q − zp exactly (+0, never −0, for q = zp)
// Non-finite x quantize as 0 and are left out of the sums and of max |x − y|.
//
// Parameters are float32/int32 arrays indexed by a parameter index (the group, or for short channel rows
// the position in the row): inv, scale, lo, hi (f32) and k (i32).
//
// The fast loops do not mask non-finite x. Each chunk (≤ 64 float32 terms per lane) accumulates Σx², Σe²
// in float32 and max |e| (e = f32(x − y)); when the chunk's sums are not finite (a NaN/±Inf x, or float32
// overflow) the whole chunk is recomputed element by element (codes, y and float64 sums). max |x − y| must
// equal the reference's float64 value exactly: rounding to float32 is monotone, so the chunk holding the
// maximum has the largest float32 max; a chunk whose float32 max reaches the running one is rescanned in
// float64 from x and the stored y.

const QM: f32 = 12582912.0; // 1.5 · 2^23

let qInv: usize = 0;
let qScale: usize = 0;
let qLo: usize = 0;
let qHi: usize = 0;
let qK: usize = 0;
let qX: usize = 0;
let qY: usize = 0;
let qC: usize = 0;
let qE0: i32 = 0;
let qSig: f64 = 0;
let qNoise: f64 = 0;
let qMaxExact: f64 = 0;
let qMaxF: f32 = 0;
// Run layout (for the element → group map of the exact recomputation).
let qRunLen: i32 = 1;
let qOuterLen: i32 = 1;
let qGStride: i32 = 0;
let qRStride: i32 = 0;
let qGBase: i32 = 0;

function quantBegin(x: usize, y: usize, codes: usize, e0: i32, pInv: usize, pScale: usize, pLo: usize, pHi: usize, pK: usize): void {
  qX = x;
  qY = y;
  qC = codes;
  qE0 = e0;
  qInv = pInv;
  qScale = pScale;
  qLo = pLo;
  qHi = pHi;
  qK = pK;
  qSig = 0;
  qNoise = 0;
  qMaxExact = 0;
  qMaxF = 0;
}

/** Sums below this may have lost float32 terms to underflow (≤ 2^-149 each): recomputed exactly then. */
const TINY_SUM: f64 = 8.077935669463161e-28; // 2^-90

/**
 * Exact Σx² / Σ(x − y)² over elements [a, b) when the call's total is tiny: float32 squares of values
 * below ~2^-63 underflow, so such totals are recomputed in float64 from x and the stored y.
 */
function fixTinySums(a: i32, b: i32): void {
  const fixSig = qSig < TINY_SUM;
  const fixNoise = qNoise < TINY_SUM && qMaxExact > 0;
  if (!fixSig && !fixNoise) return;
  let s: f64 = 0;
  let s2: f64 = 0;
  for (let i = a; i < b; i++) {
    const x = load<f32>(qX + (<usize>i << 2));
    if (x - x != 0) continue;
    const d = <f64>x;
    const e = d - <f64>load<f32>(qY + (<usize>(i - qE0) << 2));
    s += d * d;
    s2 += e * e;
  }
  if (fixSig) qSig = s;
  if (fixNoise) qNoise = s2;
}

function quantEnd(out: usize): void {
  store<f64>(out, qSig);
  store<f64>(out, qNoise, 8);
  store<f64>(out, qMaxExact, 16);
}

/** Element i (global index) with parameter index p: code, y and float64 sums, exactly. */
function quantExact(i: i32, p: usize): void {
  const x = load<f32>(qX + (<usize>i << 2));
  const fin = x - x == 0;
  let t: f32 = (fin ? x : <f32>0) * load<f32>(qInv + (p << 2));
  const lo = load<f32>(qLo + (p << 2));
  const hi = load<f32>(qHi + (p << 2));
  if (t < lo) t = lo;
  if (hi < t) t = hi;
  const b = t + QM;
  const y = (b - QM) * load<f32>(qScale + (p << 2));
  const at = <usize>(i - qE0);
  store<f32>(qY + (at << 2), y);
  store<i16>(qC + (at << 1), <i16>(reinterpret<i32>(b) - load<i32>(qK + (p << 2))));
  if (fin) {
    const d = <f64>x;
    const e = d - <f64>y;
    qSig += d * d;
    qNoise += e * e;
    const a = Math.abs(e);
    if (a > qMaxExact) qMaxExact = a;
  }
}

/** Exact max |x − y| (float64) over elements [i, i + n) whose x is finite. */
function rescanMax(i: i32, n: i32): void {
  let xp = qX + (<usize>i << 2);
  let yp = qY + (<usize>(i - qE0) << 2);
  const end = xp + (<usize>n << 2);
  let m = qMaxExact;
  for (; xp < end; xp += 4, yp += 4) {
    const x = load<f32>(xp);
    if (x - x != 0) continue;
    const a = Math.abs(<f64>x - <f64>load<f32>(yp));
    if (a > m) m = a;
  }
  qMaxExact = m;
}

function groupOfRunElement(i: i32): usize {
  const o = i / qOuterLen;
  const r = (i - o * qOuterLen) / qRunLen;
  return <usize>(o * qGStride + r * qRStride - qGBase);
}

/** Folds the run-layout chunk of elements [a, b). */
function foldRunChunk(a: i32, b: i32, s: v128, s2: v128, em: v128, sT: f32, s2T: f32, eT: f32): void {
  const a64 = hsum64(s) + <f64>sT;
  const b64 = hsum64(s2) + <f64>s2T;
  if (isFinite<f64>(a64 + b64)) {
    qSig += a64;
    qNoise += b64;
    let m = hmax(em);
    if (eT > m) m = eT;
    if (m >= qMaxF && m > 0) {
      qMaxF = m;
      rescanMax(a, b - a);
    }
  } else {
    for (let i = a; i < b; i++) quantExact(i, groupOfRunElement(i));
  }
}

/**
 * Quantizes runs [k0, k1) of a run layout: run k = (o, r), o = k / runs, r = k % runs, starts at element
 * o·outerLen + r·runLen, has runLen elements (lastLen for r = runs − 1) and uses parameter index
 * o·gStride + r·rStride − gBase. Codes (i16) and y (f32) are written for elements from e0 on.
 * Writes Σx², Σ(x−y)², max|x−y| (f64) to out.
 */
export function quantRuns(
  x: usize,
  y: usize,
  codes: usize,
  e0: i32,
  k0: i32,
  k1: i32,
  runs: i32,
  runLen: i32,
  lastLen: i32,
  outerLen: i32,
  gStride: i32,
  rStride: i32,
  gBase: i32,
  pInv: usize,
  pScale: usize,
  pLo: usize,
  pHi: usize,
  pK: usize,
  out: usize,
): void {
  quantBegin(x, y, codes, e0, pInv, pScale, pLo, pHi, pK);
  qRunLen = runLen;
  qOuterLen = outerLen;
  qGStride = gStride;
  qRStride = rStride;
  qGBase = gBase;
  const Z = f32x4.splat(0);
  const QMV = f32x4.splat(QM);
  let o = k0 / runs;
  let r = k0 - o * runs;
  let chunkStart = o * outerLen + r * runLen;
  const first = chunkStart;
  let s = Z;
  let s2 = Z;
  let em = Z;
  let sT: f32 = 0;
  let s2T: f32 = 0;
  let eT: f32 = 0;
  let cnt = 0;
  let e = chunkStart;
  for (let k = k0; k < k1; k++) {
    const g = <usize>(o * gStride + r * rStride - gBase) << 2;
    const len = r == runs - 1 ? lastLen : runLen;
    e = o * outerLen + r * runLen;
    const INV = v128.load32_splat(pInv + g);
    const SC = v128.load32_splat(pScale + g);
    const LO = v128.load32_splat(pLo + g);
    const HI = v128.load32_splat(pHi + g);
    const K = v128.load32_splat(pK + g);
    let xp = x + (<usize>e << 2);
    let yp = y + (<usize>(e - e0) << 2);
    let cp = codes + (<usize>(e - e0) << 1);
    let nv = len >> 2;
    while (nv > 0) {
      let step = 64 - cnt;
      if (step > nv) step = nv;
      const xe = xp + (<usize>step << 4);
      do {
        const v = v128.load(xp);
        const b = f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(v, INV), LO), HI), QMV);
        const q = f32x4.mul(f32x4.sub(b, QMV), SC);
        v128.store(yp, q);
        const c = i32x4.sub(b, K);
        v128.store64_lane(cp, i16x8.narrow_i32x4_s(c, c), 0);
        const d = f32x4.sub(v, q);
        s = f32x4.add(s, f32x4.mul(v, v));
        s2 = f32x4.add(s2, f32x4.mul(d, d));
        em = f32x4.pmax(em, f32x4.abs(d));
        xp += 16;
        yp += 16;
        cp += 8;
      } while (xp < xe);
      nv -= step;
      cnt += step;
      if (cnt >= 64) {
        const here = <i32>((xp - x) >> 2);
        foldRunChunk(chunkStart, here, s, s2, em, sT, s2T, eT);
        chunkStart = here;
        s = Z;
        s2 = Z;
        em = Z;
        sT = 0;
        s2T = 0;
        eT = 0;
        cnt = 0;
      }
    }
    const rem = len & 3;
    if (rem) {
      const inv = f32x4.extract_lane(INV, 0);
      const sc = f32x4.extract_lane(SC, 0);
      const lo = f32x4.extract_lane(LO, 0);
      const hi = f32x4.extract_lane(HI, 0);
      const kk = i32x4.extract_lane(K, 0);
      for (let j = 0; j < rem; j++) {
        const v = load<f32>(xp);
        let t = v * inv;
        if (t < lo) t = lo;
        if (hi < t) t = hi;
        const b = t + QM;
        const q = (b - QM) * sc;
        store<f32>(yp, q);
        store<i16>(cp, <i16>(reinterpret<i32>(b) - kk));
        const d = v - q;
        sT += v * v;
        s2T += d * d;
        const ad = Mathf.abs(d);
        if (ad > eT) eT = ad;
        xp += 4;
        yp += 4;
        cp += 2;
      }
      // Count the tail as one vector; fold here too so the next run's vector loop starts below 64.
      if (++cnt >= 64) {
        foldRunChunk(chunkStart, e + len, s, s2, em, sT, s2T, eT);
        chunkStart = e + len;
        s = Z;
        s2 = Z;
        em = Z;
        sT = 0;
        s2T = 0;
        eT = 0;
        cnt = 0;
      }
    }
    e += len;
    if (++r == runs) {
      r = 0;
      o++;
    }
  }
  if (e > chunkStart) foldRunChunk(chunkStart, e, s, s2, em, sT, s2T, eT);
  fixTinySums(first, e);
  quantEnd(out);
}

/**
 * Per-index lo = qmin − zp, hi = qmax − zp (f32) and k = bits(1.5·2^23) − zp (i32) from the zero points, for
 * ⌈P/4⌉·4 indices (the host's blocks are 64-byte aligned and padded).
 */
export function quantPrep(zp: usize, P: i32, qmin: i32, qmax: i32, lo: usize, hi: usize, k: usize): void {
  const QMIN = i32x4.splat(qmin);
  const QMAX = i32x4.splat(qmax);
  const KB = i32x4.splat(0x4b400000);
  const end = (<usize>(P + 3) >> 2) << 4;
  for (let a: usize = 0; a < end; a += 16) {
    const z = v128.load(zp + a);
    v128.store(lo + a, f32x4.convert_i32x4_s(i32x4.sub(QMIN, z)));
    v128.store(hi + a, f32x4.convert_i32x4_s(i32x4.sub(QMAX, z)));
    v128.store(k + a, i32x4.sub(KB, z));
  }
}

/** Parameter row of row r in a row layout (see quantRows). */
// @ts-ignore: decorator
@inline
function paramRow(r: i32, rowsPerOuter: i32, B: i32, nb: i32): i32 {
  const o = r / rowsPerOuter;
  return o * nb + (r - o * rowsPerOuter) / B;
}

/** Last row (exclusive) of the band starting at r: same parameter row, at most R rows, before rowEnd. */
function bandEnd(r: i32, rowEnd: i32, R: i32, rowsPerOuter: i32, B: i32): i32 {
  const o = r / rowsPerOuter;
  const d = r - o * rowsPerOuter;
  const blockEnd = <i64>o * rowsPerOuter + min<i64>(rowsPerOuter, (<i64>(d / B) + 1) * B);
  let e = <i64>r + R;
  if (blockEnd < e) e = blockEnd;
  if (<i64>rowEnd < e) e = rowEnd;
  return <i32>e;
}

/** Folds the row-layout chunk rows [ra, rb) × columns [c0, c1) (row stride w, parameter base pOff). */
function foldRowChunk(ra: i32, rb: i32, c0: i32, c1: i32, w: i32, pOff: usize, s: v128, s2: v128, em: v128, sT: f32, s2T: f32, eT: f32): void {
  const a64 = hsum64(s) + <f64>sT;
  const b64 = hsum64(s2) + <f64>s2T;
  if (isFinite<f64>(a64 + b64)) {
    qSig += a64;
    qNoise += b64;
    let m = hmax(em);
    if (eT > m) m = eT;
    if (m >= qMaxF && m > 0) {
      qMaxF = m;
      for (let r = ra; r < rb; r++) rescanMax(r * w + c0, c1 - c0);
    }
  } else {
    for (let r = ra; r < rb; r++) for (let j = c0; j < c1; j++) quantExact(r * w + j, pOff + <usize>j);
  }
}

/**
 * Quantizes rows [rowStart, rowEnd) of a row layout: row r holds elements r·w … r·w + cols − 1 and uses
 * parameter indices (paramRow(r) − prBase)·w + j, paramRow(r) = ⌊r / rowsPerOuter⌋·nb + ⌊(r mod rowsPerOuter) / B⌋
 * (channel rows: rowsPerOuter = B = 2^30, nb = 0, so every row uses the per-position parameters 0 … w − 1).
 * Vectorised across the row; bands of up to R rows sharing a parameter row are walked column by column so each
 * column's parameters are loaded once per band; R = 1 walks row by row (see quantRowMajor). `uniformZp`: every
 * parameter index has the same zero point (lo, hi, k are read from index 0).
 */
export function quantRows(
  x: usize,
  y: usize,
  codes: usize,
  e0: i32,
  rowStart: i32,
  rowEnd: i32,
  w: i32,
  cols: i32,
  R: i32,
  rowsPerOuter: i32,
  B: i32,
  nb: i32,
  prBase: i32,
  uniformZp: bool,
  pInv: usize,
  pScale: usize,
  pLo: usize,
  pHi: usize,
  pK: usize,
  out: usize,
): void {
  quantBegin(x, y, codes, e0, pInv, pScale, pLo, pHi, pK);
  const rowEnd0 = rowEnd;
  const Z = f32x4.splat(0);
  const QMV = f32x4.splat(QM);
  const rowBytes = <usize>w << 2;
  const rowCodeBytes = <usize>w << 1;
  const colsV = cols >> 2;
  if (R <= 1) {
    if (uniformZp) quantRowMajor(rowStart, rowEnd, w, cols, rowsPerOuter, B, nb, prBase, true);
    else quantRowMajor(rowStart, rowEnd, w, cols, rowsPerOuter, B, nb, prBase, false);
    rowEnd = rowStart; // done
  }
  for (let r = rowStart; r < rowEnd; ) {
    const re = bandEnd(r, rowEnd, R, rowsPerOuter, B);
    const nr = re - r;
    const pOff = <usize>(paramRow(r, rowsPerOuter, B, nb) - prBase) * <usize>w;
    const foldCols = nr >= 64 ? 1 : 64 / nr;
    const xRow = x + (<usize>(r * w) << 2);
    const yRow = y + (<usize>(r * w - e0) << 2);
    const cRow = codes + (<usize>(r * w - e0) << 1);
    for (let j0 = 0; j0 < colsV; j0 += foldCols) {
      const j1 = min(j0 + foldCols, colsV);
      let s = Z;
      let s2 = Z;
      let em = Z;
      for (let jv = j0; jv < j1; jv++) {
        const jb = <usize>jv << 4;
        const pa = (pOff << 2) + jb;
        const INV = v128.load(pInv + pa);
        const SC = v128.load(pScale + pa);
        const LO = v128.load(pLo + pa);
        const HI = v128.load(pHi + pa);
        const K = v128.load(pK + pa);
        let xp = xRow + jb;
        let yp = yRow + jb;
        let cp = cRow + (<usize>jv << 3);
        const xe = xp + <usize>nr * rowBytes;
        do {
          const v = v128.load(xp);
          const b = f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(v, INV), LO), HI), QMV);
          const q = f32x4.mul(f32x4.sub(b, QMV), SC);
          v128.store(yp, q);
          const c = i32x4.sub(b, K);
          v128.store64_lane(cp, i16x8.narrow_i32x4_s(c, c), 0);
          const d = f32x4.sub(v, q);
          s = f32x4.add(s, f32x4.mul(v, v));
          s2 = f32x4.add(s2, f32x4.mul(d, d));
          em = f32x4.pmax(em, f32x4.abs(d));
          xp += rowBytes;
          yp += rowBytes;
          cp += rowCodeBytes;
        } while (xp < xe);
      }
      foldRowChunk(r, re, j0 << 2, j1 << 2, w, pOff, s, s2, em, 0, 0, 0);
    }
    const c0 = colsV << 2;
    if (c0 < cols) {
      let sT: f32 = 0;
      let s2T: f32 = 0;
      let eT: f32 = 0;
      for (let rr = r; rr < re; rr++) {
        for (let j = c0; j < cols; j++) {
          const p = (pOff + <usize>j) << 2;
          const i = rr * w + j;
          const v = load<f32>(x + (<usize>i << 2));
          let t = v * load<f32>(pInv + p);
          const lo = load<f32>(pLo + p);
          const hi = load<f32>(pHi + p);
          if (t < lo) t = lo;
          if (hi < t) t = hi;
          const b = t + QM;
          const q = (b - QM) * load<f32>(pScale + p);
          store<f32>(y + (<usize>(i - e0) << 2), q);
          store<i16>(codes + (<usize>(i - e0) << 1), <i16>(reinterpret<i32>(b) - load<i32>(pK + p)));
          const d = v - q;
          sT += v * v;
          s2T += d * d;
          const ad = Mathf.abs(d);
          if (ad > eT) eT = ad;
        }
      }
      // A band's tail holds at most 8 · 3 values per partial sum (R ≤ 8 is the host's choice).
      foldRowChunk(r, re, c0, cols, w, pOff, Z, Z, Z, sT, s2T, eT);
    }
    r = re;
  }
  if (rowEnd0 > rowStart) fixTinySums(rowStart * w, (rowEnd0 - 1) * w + cols);
  quantEnd(out);
}

/** Scalar part of a row (columns [c0, cols)) with float32 partials, folded as one chunk. */
function quantRowTail(r: i32, w: i32, c0: i32, cols: i32, pOff: usize): void {
  let sT: f32 = 0;
  let s2T: f32 = 0;
  let eT: f32 = 0;
  for (let j = c0; j < cols; j++) {
    const p = (pOff + <usize>j) << 2;
    const i = r * w + j;
    const v = load<f32>(qX + (<usize>i << 2));
    let t = v * load<f32>(qInv + p);
    const lo = load<f32>(qLo + p);
    const hi = load<f32>(qHi + p);
    if (t < lo) t = lo;
    if (hi < t) t = hi;
    const b = t + QM;
    const q = (b - QM) * load<f32>(qScale + p);
    store<f32>(qY + (<usize>(i - qE0) << 2), q);
    store<i16>(qC + (<usize>(i - qE0) << 1), <i16>(reinterpret<i32>(b) - load<i32>(qK + p)));
    const d = v - q;
    sT += v * v;
    s2T += d * d;
    const ad = Mathf.abs(d);
    if (ad > eT) eT = ad;
  }
  const Z = f32x4.splat(0);
  foldRowChunk(r, r + 1, c0, cols, w, pOff, Z, Z, Z, sT, s2T, eT);
}

/**
 * quantRows one row at a time (R = 1): each vector loads its column's inv and scale, and lo, hi, k too
 * unless every parameter index shares one zero point (`uniform`, a compile-time constant after inlining).
 */
// @ts-ignore: decorator
@inline
function quantRowMajor(rowStart: i32, rowEnd: i32, w: i32, cols: i32, rowsPerOuter: i32, B: i32, nb: i32, prBase: i32, uniform: bool): void {
  const Z = f32x4.splat(0);
  const QMV = f32x4.splat(QM);
  const colsV = cols >> 2;
  const pInv = qInv;
  const pScale = qScale;
  const pLo = qLo;
  const pHi = qHi;
  const pK = qK;
  const LOu = v128.load32_splat(pLo);
  const HIu = v128.load32_splat(pHi);
  const Ku = v128.load32_splat(pK);
  for (let r = rowStart; r < rowEnd; r++) {
    const pOff = <usize>(paramRow(r, rowsPerOuter, B, nb) - prBase) * <usize>w;
    let xp = qX + (<usize>(r * w) << 2);
    let yp = qY + (<usize>(r * w - qE0) << 2);
    let cp = qC + (<usize>(r * w - qE0) << 1);
    let pp = pOff << 2;
    for (let j0 = 0; j0 < colsV; j0 += 64) {
      const j1 = min(j0 + 64, colsV);
      let s = Z;
      let s2 = Z;
      let em = Z;
      const xe = xp + (<usize>(j1 - j0) << 4);
      do {
        const INV = v128.load(pInv + pp);
        const SC = v128.load(pScale + pp);
        let LO = LOu;
        let HI = HIu;
        let K = Ku;
        if (!uniform) {
          LO = v128.load(pLo + pp);
          HI = v128.load(pHi + pp);
          K = v128.load(pK + pp);
        }
        const v = v128.load(xp);
        const b = f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(v, INV), LO), HI), QMV);
        const q = f32x4.mul(f32x4.sub(b, QMV), SC);
        v128.store(yp, q);
        const c = i32x4.sub(b, K);
        v128.store64_lane(cp, i16x8.narrow_i32x4_s(c, c), 0);
        const d = f32x4.sub(v, q);
        s = f32x4.add(s, f32x4.mul(v, v));
        s2 = f32x4.add(s2, f32x4.mul(d, d));
        em = f32x4.pmax(em, f32x4.abs(d));
        xp += 16;
        yp += 16;
        cp += 8;
        pp += 16;
      } while (xp < xe);
      foldRowChunk(r, r + 1, j0 << 2, j1 << 2, w, pOff, s, s2, em, 0, 0, 0);
    }
    if (cols & 3) quantRowTail(r, w, colsV << 2, cols, pOff);
  }
}

// ---------------------------------------------------------------------------------------------------
// Per-group min/max over finite values. pmin(acc, x) / pmax(acc, x) with the accumulator first ignore NaN;
// −Inf in a min or +Inf in a max accumulator means an infinity was seen: that part is redone exactly.

/** Exact min/max over finite values of [p, end) merged into (gMin, gMax). */
function exactMinMax(p: usize, end: usize, stride: usize): void {
  let mn = gMin;
  let mx = gMax;
  for (; p < end; p += stride) {
    const x = load<f32>(p);
    if (x - x != 0) continue;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  gMin = mn;
  gMax = mx;
}

/** Min/max of runs [k0, k1) (run layout as quantRuns) into oMin/oMax at index o·gStride + r·rStride. */
export function minMaxRuns(
  x: usize,
  k0: i32,
  k1: i32,
  runs: i32,
  runLen: i32,
  lastLen: i32,
  outerLen: i32,
  gStride: i32,
  rStride: i32,
  oMin: usize,
  oMax: usize,
): void {
  const INFV = f32x4.splat(INF);
  const NINFV = f32x4.splat(-INF);
  let o = k0 / runs;
  let r = k0 - o * runs;
  for (let k = k0; k < k1; k++) {
    const g = <usize>(o * gStride + r * rStride) << 2;
    const len = r == runs - 1 ? lastLen : runLen;
    const start = x + (<usize>(o * outerLen + r * runLen) << 2);
    const end = start + (<usize>len << 2);
    const end16 = start + ((<usize>len & ~(<usize>15)) << 2);
    const end4 = start + ((<usize>len & ~(<usize>3)) << 2);
    let mn0 = INFV;
    let mn1 = INFV;
    let mx0 = NINFV;
    let mx1 = NINFV;
    let p = start;
    for (; p < end16; p += 64) {
      const a = v128.load(p);
      const b = v128.load(p, 16);
      const c = v128.load(p, 32);
      const d = v128.load(p, 48);
      mn0 = f32x4.pmin(f32x4.pmin(mn0, a), b);
      mn1 = f32x4.pmin(f32x4.pmin(mn1, c), d);
      mx0 = f32x4.pmax(f32x4.pmax(mx0, a), b);
      mx1 = f32x4.pmax(f32x4.pmax(mx1, c), d);
    }
    for (; p < end4; p += 16) {
      const a = v128.load(p);
      mn0 = f32x4.pmin(mn0, a);
      mx0 = f32x4.pmax(mx0, a);
    }
    gMin = hmin(f32x4.pmin(mn0, mn1));
    gMax = hmax(f32x4.pmax(mx0, mx1));
    if (gMin == -INF || gMax == INF) {
      gMin = INF;
      gMax = -INF;
      exactMinMax(start, end4, 4);
    }
    exactMinMax(p, end, 4);
    if (gMin < load<f32>(oMin + g)) store<f32>(oMin + g, gMin);
    if (gMax > load<f32>(oMax + g)) store<f32>(oMax + g, gMax);
    if (++r == runs) {
      r = 0;
      o++;
    }
  }
}

/**
 * Min/max of rows [rowStart, rowEnd) (row layout as quantRows) into oMin/oMax at the parameter index
 * (paramRow(r) − prBase)·w + j. The arrays hold the running values (the host initialises them to ±Inf).
 */
export function minMaxRows(
  x: usize,
  rowStart: i32,
  rowEnd: i32,
  w: i32,
  cols: i32,
  R: i32,
  rowsPerOuter: i32,
  B: i32,
  nb: i32,
  prBase: i32,
  oMin: usize,
  oMax: usize,
): void {
  const INFV = f32x4.splat(INF);
  const NINFV = f32x4.splat(-INF);
  const rowBytes = <usize>w << 2;
  const colsV = cols >> 2;
  for (let r = rowStart; r < rowEnd; ) {
    const re = bandEnd(r, rowEnd, R, rowsPerOuter, B);
    const nr = re - r;
    const pOff = <usize>(paramRow(r, rowsPerOuter, B, nb) - prBase) * <usize>w;
    const xRow = x + (<usize>(r * w) << 2);
    for (let jv = 0; jv < colsV; jv++) {
      const jb = <usize>jv << 4;
      const pa = (pOff << 2) + jb;
      const mn0 = v128.load(oMin + pa);
      const mx0 = v128.load(oMax + pa);
      let mn = mn0;
      let mx = mx0;
      let xp = xRow + jb;
      const xe = xp + <usize>nr * rowBytes;
      do {
        const v = v128.load(xp);
        mn = f32x4.pmin(mn, v);
        mx = f32x4.pmax(mx, v);
        xp += rowBytes;
      } while (xp < xe);
      if (v128.any_true(v128.or(f32x4.eq(mn, NINFV), f32x4.eq(mx, INFV)))) {
        // An infinity in this column: redo its four positions exactly from the values before the band.
        v128.store(oMin + pa, mn0);
        v128.store(oMax + pa, mx0);
        for (let l: usize = 0; l < 4; l++) {
          gMin = load<f32>(oMin + pa + (l << 2));
          gMax = load<f32>(oMax + pa + (l << 2));
          const p = xRow + jb + (l << 2);
          exactMinMax(p, p + <usize>nr * rowBytes, rowBytes);
          store<f32>(oMin + pa + (l << 2), gMin);
          store<f32>(oMax + pa + (l << 2), gMax);
        }
      } else {
        v128.store(oMin + pa, mn);
        v128.store(oMax + pa, mx);
      }
    }
    for (let j = colsV << 2; j < cols; j++) {
      const pa = (pOff + <usize>j) << 2;
      gMin = load<f32>(oMin + pa);
      gMax = load<f32>(oMax + pa);
      const p = xRow + (<usize>j << 2);
      exactMinMax(p, p + <usize>nr * rowBytes, rowBytes);
      store<f32>(oMin + pa, gMin);
      store<f32>(oMax + pa, gMax);
    }
    r = re;
  }
}

// ---------------------------------------------------------------------------------------------------
// Candidate errors for the MSE clipping search: Σ over finite x of (x − y_c)² per (group, candidate),
// float32 partials over ≤ 64 values per lane folded into float64; a non-finite partial (a NaN/±Inf x, or
// float32 overflow) is recomputed exactly. Candidate parameters: inv, scale, lo, hi (no codes needed).

/** Exact Σ(x − y)² over finite x of [p, end) (stride bytes) with one candidate's parameters. */
function exactErr(p: usize, end: usize, stride: usize, inv: f32, sc: f32, lo: f32, hi: f32): f64 {
  let acc: f64 = 0;
  for (; p < end; p += stride) {
    const x = load<f32>(p);
    if (x - x != 0) continue;
    let t = x * inv;
    if (t < lo) t = lo;
    if (hi < t) t = hi;
    const e = <f64>x - <f64>((t + QM - QM) * sc);
    acc += e * e;
  }
  return acc;
}

/** Max |x − y| lanes of the last errVec call (0 ⇔ every error in the lane is exactly 0). */
let errMax: v128 = f32x4.splat(0);

/**
 * Σ(x − y)² in float32 lanes over `nv` vectors from p (stride bytes between vectors); max |x − y| in errMax.
 * A lane is exact enough when finite and either ≥ 2^-90 (underflowed squares are then negligible) or all its
 * errors are 0; otherwise the caller recomputes it in float64.
 */
// @ts-ignore: decorator
@inline
function errVec(p: usize, nv: i32, stride: usize, INV: v128, SC: v128, LO: v128, HI: v128): v128 {
  const QMV = f32x4.splat(QM);
  let acc = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let mx = f32x4.splat(0);
  let mx1 = f32x4.splat(0);
  const end = p + <usize>nv * stride;
  const end2 = p + <usize>(nv & ~1) * stride;
  for (; p < end2; p += stride << 1) {
    const v = v128.load(p);
    const u = v128.load(p + stride);
    const d = f32x4.sub(v, f32x4.mul(f32x4.sub(f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(v, INV), LO), HI), QMV), QMV), SC));
    const d1 = f32x4.sub(u, f32x4.mul(f32x4.sub(f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(u, INV), LO), HI), QMV), QMV), SC));
    acc = f32x4.add(acc, f32x4.mul(d, d));
    acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
    mx = f32x4.pmax(mx, f32x4.abs(d));
    mx1 = f32x4.pmax(mx1, f32x4.abs(d1));
  }
  if (p < end) {
    const v = v128.load(p);
    const d = f32x4.sub(v, f32x4.mul(f32x4.sub(f32x4.add(f32x4.pmin(f32x4.pmax(f32x4.mul(v, INV), LO), HI), QMV), QMV), SC));
    acc = f32x4.add(acc, f32x4.mul(d, d));
    mx = f32x4.pmax(mx, f32x4.abs(d));
  }
  errMax = f32x4.pmax(mx, mx1);
  return f32x4.add(acc, acc1);
}

const TINY_F32: f32 = 8.077935669463161e-28; // 2^-90

/** True when some lane of an errVec result must be recomputed exactly (see errVec). */
// @ts-ignore: decorator
@inline
function errLanesInexact(s: v128): bool {
  const finite = f32x4.eq(f32x4.sub(s, s), f32x4.splat(0));
  const tiny = v128.and(f32x4.lt(s, f32x4.splat(TINY_F32)), f32x4.gt(errMax, f32x4.splat(0)));
  return v128.any_true(v128.or(v128.not(finite), tiny));
}

/**
 * Candidate errors over runs [k0, k1) (run layout as quantRuns): err[(g − gBase)·C + c] (float64, accumulated),
 * with the candidates' inv, scale (f32) and zero point (i32) at the same index, as the host holds them.
 */
export function candRuns(
  x: usize,
  k0: i32,
  k1: i32,
  runs: i32,
  runLen: i32,
  lastLen: i32,
  outerLen: i32,
  gStride: i32,
  rStride: i32,
  gBase: i32,
  C: i32,
  pInv: usize,
  pScale: usize,
  pZp: usize,
  qmin: i32,
  qmax: i32,
  err: usize,
): void {
  let o = k0 / runs;
  let r = k0 - o * runs;
  for (let k = k0; k < k1; k++) {
    const g = <usize>(o * gStride + r * rStride - gBase) * <usize>C;
    const len = r == runs - 1 ? lastLen : runLen;
    const start = x + (<usize>(o * outerLen + r * runLen) << 2);
    const end = start + (<usize>len << 2);
    const nvAll = len >> 2;
    // Segments of ≤ 64 vectors, each evaluated under every candidate while it sits in L1.
    for (let v0 = 0; v0 < nvAll || (v0 == 0 && len > 0); v0 += 64) {
      const nv = min(64, nvAll - v0);
      const seg = start + (<usize>v0 << 4);
      const segEnd = v0 + 64 >= nvAll ? end : seg + (<usize>nv << 4);
      const vecEnd = seg + (<usize>nv << 4);
      for (let c = 0; c < C; c++) {
        const pa = (g + <usize>c) << 2;
        const inv = load<f32>(pInv + pa);
        const sc = load<f32>(pScale + pa);
        const zp = load<i32>(pZp + pa);
        const lo = <f32>(qmin - zp);
        const hi = <f32>(qmax - zp);
        const v = errVec(seg, nv, 16, f32x4.splat(inv), f32x4.splat(sc), f32x4.splat(lo), f32x4.splat(hi));
        let sum = errLanesInexact(v) ? exactErr(seg, vecEnd, 4, inv, sc, lo, hi) : hsum64(v);
        if (segEnd > vecEnd) sum += exactErr(vecEnd, segEnd, 4, inv, sc, lo, hi);
        const ea = err + ((g + <usize>c) << 3);
        store<f64>(ea, load<f64>(ea) + sum);
      }
      if (nvAll == 0) break;
    }
    if (++r == runs) {
      r = 0;
      o++;
    }
  }
}

/**
 * Candidate parameters [index][candidate] (inv, scale f32; zero point i32, as the host holds them) →
 * [candidate][index] arrays inv, scale, lo = qmin − zp, hi = qmax − zp for candRows. Tiled by 16 indices so
 * each candidate's writes fill whole cache lines (the destination rows are P·4 bytes apart).
 */
export function candPrep(sInv: usize, sScale: usize, sZp: usize, P: i32, C: i32, qmin: i32, qmax: i32, dInv: usize, dScale: usize, dLo: usize, dHi: usize): void {
  const PB = <usize>P << 2;
  const CB = <usize>C << 2;
  for (let p0 = 0; p0 < P; p0 += 16) {
    const p1 = min(p0 + 16, P);
    for (let c = 0; c < C; c++) {
      let a = <usize>p0 * CB + (<usize>c << 2);
      let d = <usize>c * PB + (<usize>p0 << 2);
      for (let p = p0; p < p1; p++) {
        const zp = load<i32>(sZp + a);
        store<f32>(dInv + d, load<f32>(sInv + a));
        store<f32>(dScale + d, load<f32>(sScale + a));
        store<f32>(dLo + d, <f32>(qmin - zp));
        store<f32>(dHi + d, <f32>(qmax - zp));
        a += CB;
        d += 4;
      }
    }
  }
}

/** Accumulators [candidate][index] (f64) → [index][candidate], tiled by 8 indices. */
export function candUnprep(src: usize, P: i32, C: i32, dst: usize): void {
  const PB = <usize>P << 3;
  const CB = <usize>C << 3;
  for (let p0 = 0; p0 < P; p0 += 8) {
    const p1 = min(p0 + 8, P);
    for (let c = 0; c < C; c++) {
      let s = src + <usize>c * PB + (<usize>p0 << 3);
      let d = dst + <usize>p0 * CB + (<usize>c << 3);
      for (let p = p0; p < p1; p++) {
        store<f64>(d, load<f64>(s));
        s += 8;
        d += CB;
      }
    }
  }
}

/**
 * Candidate errors over rows [rowStart, rowEnd) (row layout as quantRows): parameters and float64
 * accumulators laid out [c][P], entry c·P + (paramRow(r) − prBase)·w + j.
 */
export function candRows(
  x: usize,
  rowStart: i32,
  rowEnd: i32,
  w: i32,
  cols: i32,
  R: i32,
  rowsPerOuter: i32,
  B: i32,
  nb: i32,
  prBase: i32,
  C: i32,
  P: i32,
  pInv: usize,
  pScale: usize,
  pLo: usize,
  pHi: usize,
  acc: usize,
): void {
  const rowBytes = <usize>w << 2;
  const colsV = cols >> 2;
  const PB = <usize>P << 2;
  for (let r = rowStart; r < rowEnd; ) {
    const re = bandEnd(r, rowEnd, R, rowsPerOuter, B);
    const nr = re - r;
    const pOff = <usize>(paramRow(r, rowsPerOuter, B, nb) - prBase) * <usize>w;
    const xRow = x + (<usize>(r * w) << 2);
    for (let jv = 0; jv < colsV; jv++) {
      const jb = <usize>jv << 4;
      const xp = xRow + jb;
      for (let c = 0; c < C; c++) {
        const pa = <usize>c * PB + (pOff << 2) + jb;
        const INV = v128.load(pInv + pa);
        const SC = v128.load(pScale + pa);
        const LO = v128.load(pLo + pa);
        const HI = v128.load(pHi + pa);
        const s = errVec(xp, nr, rowBytes, INV, SC, LO, HI);
        const aa = acc + (pa << 1);
        if (!errLanesInexact(s)) {
          v128.store(aa, f64x2.add(v128.load(aa), f64x2.promote_low_f32x4(s)));
          v128.store(aa, f64x2.add(v128.load(aa, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3))), 16);
        } else {
          for (let l: usize = 0; l < 4; l++) {
            const p = xp + (l << 2);
            const q = pa + (l << 2);
            const e = exactErr(p, p + <usize>nr * rowBytes, rowBytes, load<f32>(pInv + q), load<f32>(pScale + q), load<f32>(pLo + q), load<f32>(pHi + q));
            store<f64>(aa + (l << 3), load<f64>(aa + (l << 3)) + e);
          }
        }
      }
    }
    for (let j = colsV << 2; j < cols; j++) {
      const p = xRow + (<usize>j << 2);
      for (let c = 0; c < C; c++) {
        const q = <usize>c * PB + ((pOff + <usize>j) << 2);
        const e = exactErr(p, p + <usize>nr * rowBytes, rowBytes, load<f32>(pInv + q), load<f32>(pScale + q), load<f32>(pLo + q), load<f32>(pHi + q));
        store<f64>(acc + (q << 1), load<f64>(acc + (q << 1)) + e);
      }
    }
    r = re;
  }
}

// ---------------------------------------------------------------------------------------------------
// int4/uint4 packing: byte k = (code[2k] & 15) | (code[2k + 1] & 15) << 4 (ONNX order, low nibble first).

export function packNibbles(src: usize, dst: usize, n: i32): void {
  const LO = i32x4.splat(0x0f);
  const HI = i32x4.splat(0xf0);
  const n32 = <usize>n & ~(<usize>31);
  let i: usize = 0;
  for (; i < n32; i += 32) {
    const p = src + (i << 1);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const c = v128.load(p, 32);
    const d = v128.load(p, 48);
    const pa = v128.or(v128.and(a, LO), v128.and(i32x4.shr_u(a, 12), HI));
    const pb = v128.or(v128.and(b, LO), v128.and(i32x4.shr_u(b, 12), HI));
    const pc = v128.or(v128.and(c, LO), v128.and(i32x4.shr_u(c, 12), HI));
    const pd = v128.or(v128.and(d, LO), v128.and(i32x4.shr_u(d, 12), HI));
    v128.store(dst + (i >> 1), i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(pa, pb), i16x8.narrow_i32x4_u(pc, pd)));
  }
  for (; i < <usize>n; i += 2) {
    const lo = <u32>load<i16>(src + (i << 1)) & 15;
    const hi = i + 1 < <usize>n ? <u32>load<i16>(src + (i << 1), 2) & 15 : 0;
    store<u8>(dst + (i >> 1), <u8>(lo | (hi << 4)));
  }
}

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
    const k0 = i32x4.gt_s(s0, i32x4.splat(0 - keep));
    const k1 = i32x4.gt_s(s1, i32x4.splat(1 - keep));
    const k2 = i32x4.gt_s(s2, i32x4.splat(2 - keep));
    const k3 = i32x4.gt_s(s3, i32x4.splat(3 - keep));
    const k4 = i32x4.gt_s(s4, i32x4.splat(4 - keep));
    const k5 = i32x4.gt_s(s5, i32x4.splat(5 - keep));
    const k6 = i32x4.gt_s(s6, i32x4.splat(6 - keep));
    const k7 = i32x4.gt_s(s7, i32x4.splat(7 - keep));
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
    if (m == 4) zeros += nm4Run(xp, yp, full, n);
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
  const K0 = i32x4.splat(-keep);
  const K1 = i32x4.splat(1 - keep);
  const K2 = i32x4.splat(2 - keep);
  const K3 = i32x4.splat(3 - keep);
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
    // cij (i < j): −1 where row j beats row i (strictly larger); else row i beats row j.
    const c01 = i32x4.gt_s(a1, a0);
    const c02 = i32x4.gt_s(a2, a0);
    const c03 = i32x4.gt_s(a3, a0);
    const c12 = i32x4.gt_s(a2, a1);
    const c13 = i32x4.gt_s(a3, a1);
    const c23 = i32x4.gt_s(a3, a2);
    // Row j is kept ⇔ (Σ_{k>j} cjk − Σ_{i<j} cij) > j − keep.
    const r0 = v128.and(v0, i32x4.gt_s(i32x4.add(i32x4.add(c01, c02), c03), K0));
    const r1 = v128.and(v1, i32x4.gt_s(i32x4.sub(i32x4.add(c12, c13), c01), K1));
    const r2 = v128.and(v2, i32x4.gt_s(i32x4.sub(c23, i32x4.add(c02, c12)), K2));
    const r3 = v128.and(v3, i32x4.gt_s(i32x4.sub(i32x4.splat(0), i32x4.add(i32x4.add(c03, c13), c23)), K3));
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
    const r0 = v128.and(v128.load(p), i32x4.gt_s(s0, i32x4.splat(0 - keep)));
    v128.store(q, r0);
    zc = i32x4.add(zc, f32x4.eq(r0, Z));
    const r1 = v128.and(v128.load(p + 1 * rb), i32x4.gt_s(s1, i32x4.splat(1 - keep)));
    v128.store(q + 1 * rb, r1);
    zc = i32x4.add(zc, f32x4.eq(r1, Z));
    const r2 = v128.and(v128.load(p + 2 * rb), i32x4.gt_s(s2, i32x4.splat(2 - keep)));
    v128.store(q + 2 * rb, r2);
    zc = i32x4.add(zc, f32x4.eq(r2, Z));
    const r3 = v128.and(v128.load(p + 3 * rb), i32x4.gt_s(s3, i32x4.splat(3 - keep)));
    v128.store(q + 3 * rb, r3);
    zc = i32x4.add(zc, f32x4.eq(r3, Z));
    const r4 = v128.and(v128.load(p + 4 * rb), i32x4.gt_s(s4, i32x4.splat(4 - keep)));
    v128.store(q + 4 * rb, r4);
    zc = i32x4.add(zc, f32x4.eq(r4, Z));
    const r5 = v128.and(v128.load(p + 5 * rb), i32x4.gt_s(s5, i32x4.splat(5 - keep)));
    v128.store(q + 5 * rb, r5);
    zc = i32x4.add(zc, f32x4.eq(r5, Z));
    const r6 = v128.and(v128.load(p + 6 * rb), i32x4.gt_s(s6, i32x4.splat(6 - keep)));
    v128.store(q + 6 * rb, r6);
    zc = i32x4.add(zc, f32x4.eq(r6, Z));
    const r7 = v128.and(v128.load(p + 7 * rb), i32x4.gt_s(s7, i32x4.splat(7 - keep)));
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
