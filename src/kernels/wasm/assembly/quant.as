import { INF, gMax, gMin, hmax, hmin, hsum64 } from './common';

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
