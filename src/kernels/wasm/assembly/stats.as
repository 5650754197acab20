// Analysis kernels: moments, channel statistics, histogram, gather (src/kernels/types.ts, wasm/backend.ts).

import { BLOCK, INF, allFinite, gMax, gMin, gNan, gNegInf, gPosInf, gSum, gSumSq, gZero, hmax, hmin, resetState, slowMoments } from './common';

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
