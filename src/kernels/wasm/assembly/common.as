// Shared by every kernel family: constants, the heap base, the reducers' scalar state and lane helpers.
// Memory is owned by the JS side (src/kernels/wasm/backend.ts): every pointer passed in was allocated
// there, 64-byte aligned. The kernels themselves never allocate.
//
// Exactness rules (see src/kernels/types.ts):
//  - counts, min/max and histogram bins are exact;
//  - sums use float32x4 partial sums over short blocks (≤ 64 values per lane) folded into float64.
//    A block whose float32 partial sums are not finite (a NaN/±Inf value, or float32 overflow) is
//    recomputed element by element in float64, so specials and huge values are handled exactly.

export const INF: f32 = Infinity;

/** Bytes per fast block of the moment / run reducers: 256 floats = 64 per lane. */
export const BLOCK: usize = 1024;

export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------------
// Shared scalar state of the reducers (module globals so the helpers need no out-parameters).

export let gNan: i32 = 0;
export let gPosInf: i32 = 0;
export let gNegInf: i32 = 0;
export let gZero: i32 = 0;
export let gMin: f32 = INF;
export let gMax: f32 = -INF;
export let gSum: f64 = 0;
export let gSumSq: f64 = 0;

export function resetState(): void {
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
export function slowMoments(p: usize, end: usize): void {
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
export function hsum64(v: v128): f64 {
  const a = f64x2.promote_low_f32x4(v);
  const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

export function hmin(v: v128): f32 {
  const m = f32x4.pmin(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const n = f32x4.pmin(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(n, 0);
}

export function hmax(v: v128): f32 {
  const m = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const n = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(n, 0);
}

/** True when every lane of v is finite. */
export function allFinite(v: v128): bool {
  return i32x4.all_true(f32x4.eq(f32x4.sub(v, v), f32x4.splat(0)));
}
