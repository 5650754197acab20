// ---------------------------------------------------------------------------------------------------
// Linear algebra (src/kernels/linalg.ts; the host side is wasm/linalg-kernels.ts): GPTQ's Gram accumulation and
// lazy block update, in float64 SIMD (f64x2) and in the reference's rounding order, so the results are the
// reference's bit for bit:
//  - gramUpper: per chunk of GRAM_ROW_CHUNK rows and element (i, j ≥ i), s = Σ x[r,i]·x[r,j] in row order from +0
//    (float32 products are exact in float64), then h += scale·s. Products with x[r,i] = 0 are masked to +0 rather
//    than skipped (adding +0 changes no bit; the reference skips them).
//  - blockUpdate: per element, w ← w − e·u for t ascending; terms with e = 0 masked to +0 (w − (+0) = w, −0 included).
// Register tiles: 4 × 4 of H (8 f64x2 accumulators) over a chunk's rows; 2 rows × 8 columns of W (8 accumulators)
// over the block's errors.

const GRAM_ROW_CHUNK: i32 = 64;

@inline
function nonzero(v: v128): v128 {
  return f64x2.ne(v, f64x2.splat(0));
}

/** One element of the Gram update, scalar (tails). */
function gramOne(h: usize, x: usize, r0: i32, r1: i32, k: i32, i: i32, j: i32, scale: f64): void {
  let s: f64 = 0;
  const rowBytes = <usize>k << 2;
  let p = x + <usize>r0 * rowBytes;
  for (let r = r0; r < r1; r++, p += rowBytes) {
    const xi = <f64>load<f32>(p + (<usize>i << 2));
    if (xi != 0) s += xi * <f64>load<f32>(p + (<usize>j << 2));
  }
  const at = h + ((<usize>i * <usize>k + <usize>j) << 3);
  store<f64>(at, load<f64>(at) + scale * s);
}

/** Rows i0..i0+3 × columns j0..j0+3 of the Gram update over rows [r0, r1); `diag` stores only j ≥ i. */
function gramTile(h: usize, x: usize, r0: i32, r1: i32, k: i32, i0: i32, j0: i32, SC: v128, diag: bool): void {
  const rowBytes = <usize>k << 2;
  let a0 = f64x2.splat(0), b0 = f64x2.splat(0), a1 = f64x2.splat(0), b1 = f64x2.splat(0);
  let a2 = f64x2.splat(0), b2 = f64x2.splat(0), a3 = f64x2.splat(0), b3 = f64x2.splat(0);
  let p = x + <usize>r0 * rowBytes;
  const pi = <usize>i0 << 2;
  const pj = <usize>j0 << 2;
  for (let r = r0; r < r1; r++, p += rowBytes) {
    const xj = v128.load(p + pj);
    const lo = f64x2.promote_low_f32x4(xj);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(xj, xj, 2, 3, 2, 3));
    const xi = v128.load(p + pi);
    const lo2 = f64x2.promote_low_f32x4(xi);
    const hi2 = f64x2.promote_low_f32x4(v128.shuffle<f32>(xi, xi, 2, 3, 2, 3));
    let v = v128.shuffle<f64>(lo2, lo2, 0, 0);
    let m = nonzero(v);
    a0 = f64x2.add(a0, v128.and(f64x2.mul(v, lo), m));
    b0 = f64x2.add(b0, v128.and(f64x2.mul(v, hi), m));
    v = v128.shuffle<f64>(lo2, lo2, 1, 1);
    m = nonzero(v);
    a1 = f64x2.add(a1, v128.and(f64x2.mul(v, lo), m));
    b1 = f64x2.add(b1, v128.and(f64x2.mul(v, hi), m));
    v = v128.shuffle<f64>(hi2, hi2, 0, 0);
    m = nonzero(v);
    a2 = f64x2.add(a2, v128.and(f64x2.mul(v, lo), m));
    b2 = f64x2.add(b2, v128.and(f64x2.mul(v, hi), m));
    v = v128.shuffle<f64>(hi2, hi2, 1, 1);
    m = nonzero(v);
    a3 = f64x2.add(a3, v128.and(f64x2.mul(v, lo), m));
    b3 = f64x2.add(b3, v128.and(f64x2.mul(v, hi), m));
  }
  const rowH = <usize>k << 3;
  const q = h + ((<usize>i0 * <usize>k + <usize>j0) << 3);
  if (!diag) {
    v128.store(q, f64x2.add(v128.load(q), f64x2.mul(SC, a0)));
    v128.store(q + 16, f64x2.add(v128.load(q + 16), f64x2.mul(SC, b0)));
    v128.store(q + rowH, f64x2.add(v128.load(q + rowH), f64x2.mul(SC, a1)));
    v128.store(q + rowH + 16, f64x2.add(v128.load(q + rowH + 16), f64x2.mul(SC, b1)));
    v128.store(q + 2 * rowH, f64x2.add(v128.load(q + 2 * rowH), f64x2.mul(SC, a2)));
    v128.store(q + 2 * rowH + 16, f64x2.add(v128.load(q + 2 * rowH + 16), f64x2.mul(SC, b2)));
    v128.store(q + 3 * rowH, f64x2.add(v128.load(q + 3 * rowH), f64x2.mul(SC, a3)));
    v128.store(q + 3 * rowH + 16, f64x2.add(v128.load(q + 3 * rowH + 16), f64x2.mul(SC, b3)));
    return;
  }
  // Diagonal tile: only j ≥ i (row 0: 4 values, row 1: 3, row 2: 2, row 3: 1).
  const scale = f64x2.extract_lane(SC, 0);
  v128.store(q, f64x2.add(v128.load(q), f64x2.mul(SC, a0)));
  v128.store(q + 16, f64x2.add(v128.load(q + 16), f64x2.mul(SC, b0)));
  let at = q + rowH + 8;
  store<f64>(at, load<f64>(at) + scale * f64x2.extract_lane(a1, 1));
  v128.store(q + rowH + 16, f64x2.add(v128.load(q + rowH + 16), f64x2.mul(SC, b1)));
  v128.store(q + 2 * rowH + 16, f64x2.add(v128.load(q + 2 * rowH + 16), f64x2.mul(SC, b2)));
  at = q + 3 * rowH + 24;
  store<f64>(at, load<f64>(at) + scale * f64x2.extract_lane(b3, 1));
}

/** h (f64 [k, k]) upper triangle += scale · xᵀx for x (f32 [rows, k]). */
export function gramUpper(h: usize, x: usize, rows: i32, k: i32, scale: f64): void {
  const k4 = k & ~3;
  const SC = f64x2.splat(scale);
  for (let r0 = 0; r0 < rows; r0 += GRAM_ROW_CHUNK) {
    const r1 = min(rows, r0 + GRAM_ROW_CHUNK);
    for (let i0 = 0; i0 < k4; i0 += 4) {
      gramTile(h, x, r0, r1, k, i0, i0, SC, true);
      for (let j0 = i0 + 4; j0 < k4; j0 += 4) gramTile(h, x, r0, r1, k, i0, j0, SC, false);
      for (let i = i0; i < i0 + 4; i++) for (let j = k4; j < k; j++) gramOne(h, x, r0, r1, k, i, j, scale);
    }
    for (let i = k4; i < k; i++) for (let j = i; j < k; j++) gramOne(h, x, r0, r1, k, i, j, scale);
  }
}

/**
 * w[r·ldw + j] −= Σₜ e[r·lde + t] · u[t·n + j] for r < rows, j < n, t < k (all f64; w points at the first updated
 * column). Two rows at a time share the loads of u.
 */
export function blockUpdate(w: usize, ldw: i32, e: usize, lde: i32, u: usize, rows: i32, k: i32, n: i32): void {
  const n8 = n & ~7;
  const n2 = n & ~1;
  const rowW = <usize>ldw << 3;
  const rowE = <usize>lde << 3;
  const rowU = <usize>n << 3;
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const w0 = w + <usize>r * rowW;
    const w1 = w0 + rowW;
    const e0 = e + <usize>r * rowE;
    const e1 = e0 + rowE;
    for (let j = 0; j < n8; j += 8) {
      const p0 = w0 + (<usize>j << 3);
      const p1 = w1 + (<usize>j << 3);
      let a0 = v128.load(p0), a1 = v128.load(p0, 16), a2 = v128.load(p0, 32), a3 = v128.load(p0, 48);
      let c0 = v128.load(p1), c1 = v128.load(p1, 16), c2 = v128.load(p1, 32), c3 = v128.load(p1, 48);
      let pu = u + (<usize>j << 3);
      for (let t = 0; t < k; t++, pu += rowU) {
        const E0 = f64x2.splat(load<f64>(e0 + (<usize>t << 3)));
        const E1 = f64x2.splat(load<f64>(e1 + (<usize>t << 3)));
        const m0 = nonzero(E0);
        const m1 = nonzero(E1);
        const u0 = v128.load(pu), u1 = v128.load(pu, 16), u2 = v128.load(pu, 32), u3 = v128.load(pu, 48);
        a0 = f64x2.sub(a0, v128.and(f64x2.mul(E0, u0), m0));
        a1 = f64x2.sub(a1, v128.and(f64x2.mul(E0, u1), m0));
        a2 = f64x2.sub(a2, v128.and(f64x2.mul(E0, u2), m0));
        a3 = f64x2.sub(a3, v128.and(f64x2.mul(E0, u3), m0));
        c0 = f64x2.sub(c0, v128.and(f64x2.mul(E1, u0), m1));
        c1 = f64x2.sub(c1, v128.and(f64x2.mul(E1, u1), m1));
        c2 = f64x2.sub(c2, v128.and(f64x2.mul(E1, u2), m1));
        c3 = f64x2.sub(c3, v128.and(f64x2.mul(E1, u3), m1));
      }
      v128.store(p0, a0);
      v128.store(p0, a1, 16);
      v128.store(p0, a2, 32);
      v128.store(p0, a3, 48);
      v128.store(p1, c0);
      v128.store(p1, c1, 16);
      v128.store(p1, c2, 32);
      v128.store(p1, c3, 48);
    }
    updateRowTail(w0, e0, u, k, n, n8, n2);
    updateRowTail(w1, e1, u, k, n, n8, n2);
  }
  if (r < rows) {
    const w0 = w + <usize>r * rowW;
    const e0 = e + <usize>r * rowE;
    updateRowTail(w0, e0, u, k, n, 0, n2);
  }
}

/** Columns [j0, n) of one row: pairs up to n2, then the last odd column. */
function updateRowTail(w0: usize, e0: usize, u: usize, k: i32, n: i32, j0: i32, n2: i32): void {
  const rowU = <usize>n << 3;
  for (let j = j0; j < n2; j += 2) {
    const p = w0 + (<usize>j << 3);
    let a = v128.load(p);
    let pu = u + (<usize>j << 3);
    for (let t = 0; t < k; t++, pu += rowU) {
      const E = f64x2.splat(load<f64>(e0 + (<usize>t << 3)));
      a = f64x2.sub(a, v128.and(f64x2.mul(E, v128.load(pu)), nonzero(E)));
    }
    v128.store(p, a);
  }
  if (n2 < n) {
    const p = w0 + (<usize>n2 << 3);
    let a = load<f64>(p);
    let pu = u + (<usize>n2 << 3);
    for (let t = 0; t < k; t++, pu += rowU) {
      const ev = load<f64>(e0 + (<usize>t << 3));
      if (ev != 0) a -= ev * load<f64>(pu);
    }
    store<f64>(p, a);
  }
}
