/**
 * GPTQ (Frantar et al., 2022) for weights, TypeScript reference.
 *
 * A layer y = W·x (W: [rows = output channels, cols = input features]) is quantized column by column; each
 * column's rounding error is spread over the columns not yet quantized through the upper Cholesky factor of
 * H⁻¹, H = 2·E[x·xᵀ] over the calibration inputs (im2col patches for Conv). Updates to later blocks of columns
 * are applied lazily (one rank-B update per block). The quantization grid is the studio's own (scales and zero
 * points from math.ts, computed on the original weights), so the codes are written by the usual emitters: the
 * result is the dequantized GPTQ weights, whose round-to-nearest under those same scales gives GPTQ's codes.
 */
import { hostLinalg } from '../../kernels/host';
import { groupOf, roundHalfEven, type GroupView, type Grouping } from '../../kernels/quant';
import { accumulateGramOf } from '../../kernels/ts/linalg-reference';

export interface GptqOptions {
  /** λ = dampening · mean(diag H) added to the diagonal. Default 0.01. */
  dampening?: number;
  /** Columns per lazy block. Default 128. */
  blockSize?: number;
  /** Quantize columns in order of decreasing diag(H). */
  actOrder?: boolean;
  /** Weights that are exactly zero stay zero (a pruning mask survives; their error is still fed back). */
  keepZeros?: boolean;
}

/** Per-element quantization grid of W ([rows, cols], row-major): scale, inverse scale and zero point; range [qmin, qmax]. */
export interface Grid {
  scale: Float32Array;
  invScale: Float32Array;
  zeroPoint: Int32Array;
  qmin: number;
  qmax: number;
}

/** Streamed H accumulator: Σ xxᵀ over rows of length k, and how many rows. */
export class Hessian {
  readonly h: Float64Array;
  rows = 0;
  /** `h` and `rows`: an accumulator sent between workers (structured clone drops the class). */
  constructor(
    readonly k: number,
    h?: Float64Array,
    rows = 0,
  ) {
    this.h = h ?? new Float64Array(k * k);
    this.rows = rows;
  }
  /**
   * Adds `n` rows of length k (row-major). Only the upper triangle is accumulated; `finish` mirrors it. float32 rows
   * go to the host kernels (WASM SIMD when loaded), other arrays to the float64 reference (no rounding of the inputs).
   */
  addRows(x: ArrayLike<number>, n: number): void {
    if (x instanceof Float32Array) hostLinalg().accumulateGram(this.h, x, n, this.k, 1);
    else accumulateGramOf(this.h, x, n, this.k, 1);
    this.rows += n;
  }
  /** H = 2·Σxxᵀ / rows (full symmetric matrix). */
  finish(): Float64Array {
    const { k } = this;
    const out = new Float64Array(k * k);
    const s = this.rows ? 2 / this.rows : 0;
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) out[i * k + j] = out[j * k + i] = this.h[i * k + j]! * s;
    return out;
  }
}

export interface ConvGeometry {
  /** Kernel spatial shape (1 or 2 dims). */
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin…, end…] as ONNX orders them. */
  pads: number[];
  group: number;
}

/**
 * Accumulates im2col patches of one Conv input [N, C, …spatial] into one Hessian per conv group (patch order
 * c, ky, kx — the order of a weight row [C/g, kh, kw]). Padding contributes zeros.
 */
export function accumulateConv(hs: Hessian[], x: ArrayLike<number>, dims: readonly number[], g: ConvGeometry): void {
  const [N, C] = dims as [number, number];
  const spatial = dims.slice(2);
  const nd = spatial.length;
  const ks = nd === 1 ? [1, g.kernel[0]!] : g.kernel;
  const sp = nd === 1 ? [1, spatial[0]!] : spatial;
  const st = nd === 1 ? [1, g.strides[0]!] : g.strides;
  const dl = nd === 1 ? [1, g.dilations[0]!] : g.dilations;
  const pb = nd === 1 ? [0, g.pads[0]!] : [g.pads[0]!, g.pads[1]!];
  const pe = nd === 1 ? [0, g.pads[1]!] : [g.pads[2]!, g.pads[3]!];
  const [H, W] = sp as [number, number];
  const [kh, kw] = ks as [number, number];
  const oh = Math.floor((H + pb[0]! + pe[0]! - dl[0]! * (kh - 1) - 1) / st[0]!) + 1;
  const ow = Math.floor((W + pb[1]! + pe[1]! - dl[1]! * (kw - 1) - 1) / st[1]!) + 1;
  const cg = C / g.group;
  const k = cg * kh * kw;
  const chunk = 256;
  const rows = new Float32Array(chunk * k);
  for (let gi = 0; gi < g.group; gi++) {
    let filled = 0;
    for (let n = 0; n < N; n++) {
      for (let y = 0; y < oh; y++) {
        for (let xo = 0; xo < ow; xo++) {
          const base = filled * k;
          let p = 0;
          for (let c = 0; c < cg; c++) {
            const plane = (n * C + gi * cg + c) * H * W;
            for (let a = 0; a < kh; a++) {
              const iy = y * st[0]! - pb[0]! + a * dl[0]!;
              for (let b = 0; b < kw; b++, p++) {
                const ix = xo * st[1]! - pb[1]! + b * dl[1]!;
                rows[base + p] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[plane + iy * W + ix]! : 0;
              }
            }
          }
          if (++filled === chunk) {
            hs[gi]!.addRows(rows, filled);
            filled = 0;
          }
        }
      }
    }
    if (filled) hs[gi]!.addRows(rows, filled);
  }
}

/** Accumulates a MatMul/Gemm input [..., K] (rows = every leading index). */
export function accumulateRows(h: Hessian, x: ArrayLike<number>): void {
  h.addRows(x, x.length / h.k);
}

/** Lower Cholesky factor of a symmetric positive definite matrix (n×n, row-major); throws when not positive definite. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= l[j * n + k]! ** 2;
    if (!(s > 0)) throw new Error('GPTQ: the Hessian is not positive definite (raise the dampening)');
    const d = Math.sqrt(s);
    l[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = t / d;
    }
  }
  return l;
}

/** Inverse of an SPD matrix from its lower Cholesky factor. */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  // L⁻¹ (lower), then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    li[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k]! * li[k * n + j]!;
      li[i * n + j] = -s / l[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i]! * li[k * n + j]!;
      inv[i * n + j] = inv[j * n + i] = s;
    }
  }
  return inv;
}

/** The element a grid maps w to (the studio's quantizer, float32 rounding as every kernel does it). */
export function quantizeOne(w: number, scale: number, invScale: number, zp: number, qmin: number, qmax: number): number {
  const q = Math.min(qmax, Math.max(qmin, roundHalfEven(Math.fround(w * invScale)) + zp));
  return Math.fround((q - zp) * scale);
}

/** The damped Hessian with dead inputs (diag 0) set to 1, and which columns are dead. */
export function prepareHessian(h: Float64Array, n: number, dampening: number): { h: Float64Array; dead: Uint8Array } {
  const out = Float64Array.from(h);
  const dead = new Uint8Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (out[i * n + i] === 0) {
      dead[i] = 1;
      out[i * n + i] = 1;
    }
    mean += out[i * n + i]!;
  }
  const lambda = (dampening * mean) / n;
  for (let i = 0; i < n; i++) out[i * n + i]! += lambda;
  return { h: out, dead };
}

/**
 * What GPTQ and SparseGPT (sparsegpt.ts) start from: W [rows, cols] as float64 in the column order `perm` (dead
 * columns — no input ever reaches them — zeroed), and the lower Cholesky factor L of H⁻¹ for the damped, permuted
 * H, so that U = Lᵀ is the upper factor (Uᵀ·U = H⁻¹) whose rows carry the OBS updates.
 */
export function obsSetup(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  hRaw: Float64Array,
  dampening: number,
  perm: Int32Array = Int32Array.from({ length: cols }, (_, i) => i),
): { W: Float64Array; L: Float64Array; dead: Uint8Array } {
  const prepared = prepareHessian(hRaw, cols, dampening);
  const H = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) H[i * cols + j] = prepared.h[perm[i]! * cols + perm[j]!]!;
  const W = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) W[r * cols + j] = prepared.dead[perm[j]!] ? 0 : w[r * cols + perm[j]!]!;
  const L = cholesky(choleskyInverse(cholesky(H, cols), cols), cols);
  return { W, L, dead: prepared.dead };
}

/**
 * The lazy block update: every column after the block [i1, i2) gets the block's scaled errors (err [rows, B], err
 * of column i at i − i1) through the rows of U = Lᵀ: W[:, j] −= Σᵢ err[:, i] · U[i, j] — the host kernels' blockUpdate
 * (kernels/linalg.ts) on the block's rows of U.
 */
export function lazyUpdate(W: Float64Array, err: Float64Array, L: Float64Array, rows: number, cols: number, i1: number, i2: number, B: number): void {
  if (i2 >= cols) return;
  const k = i2 - i1;
  const n = cols - i2;
  const u = new Float64Array(k * n);
  for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) u[t * n + j] = L[(i2 + j) * cols + i1 + t]!;
  hostLinalg().blockUpdate({ w: W, ldw: cols, offset: i2, err, lde: B, u, rows, k, n });
}

/**
 * GPTQ on W [rows, cols] (row-major, float32 values) with H [cols, cols]. Returns the quantized (dequantized)
 * weights in W's layout. Dead columns (no input ever reaches them) are quantized as zero.
 */
export function gptq(w: Float32Array, rows: number, cols: number, hRaw: Float64Array, grid: Grid, options: GptqOptions = {}): Float32Array {
  const damp = options.dampening ?? 0.01;
  const B = Math.max(1, options.blockSize ?? 128);
  // Column order (activation order: largest diag(H) first).
  const perm = Int32Array.from({ length: cols }, (_, i) => i);
  if (options.actOrder) perm.sort((a, b) => hRaw[b * cols + b]! - hRaw[a * cols + a]! || a - b);
  const { W, L } = obsSetup(w, rows, cols, hRaw, damp, perm);
  const U = (i: number, j: number) => L[j * cols + i]!;
  const out = new Float32Array(rows * cols);
  const err = new Float64Array(rows * B);
  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols);
    for (let i = i1; i < i2; i++) {
      const d = U(i, i);
      const src = perm[i]!;
      for (let r = 0; r < rows; r++) {
        const e = r * cols + src;
        const wv = W[r * cols + i]!;
        const q = options.keepZeros && w[e] === 0 ? 0 : quantizeOne(wv, grid.scale[e]!, grid.invScale[e]!, grid.zeroPoint[e]!, grid.qmin, grid.qmax);
        out[e] = q;
        const e1 = (wv - q) / d;
        err[r * B + (i - i1)] = e1;
        // Within the block: immediate update of the columns after i.
        const row = r * cols;
        for (let j = i + 1; j < i2; j++) W[row + j]! -= e1 * U(i, j);
      }
    }
    // Lazy update of every later column with the block's errors.
    lazyUpdate(W, err, L, rows, cols, i1, i2, B);
  }
  return out;
}

/** tr(A·H·Aᵀ) for A [rows, cols]: the summed squared layer output of A over the calibration inputs (×2). */
export function quadraticForm(a: ArrayLike<number>, rows: number, cols: number, h: Float64Array): number {
  let total = 0;
  const v = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    v.fill(0);
    for (let i = 0; i < cols; i++) {
      const ai = a[o + i]!;
      if (ai === 0) continue;
      for (let j = 0; j < cols; j++) v[j]! += ai * h[i * cols + j]!;
    }
    for (let j = 0; j < cols; j++) total += v[j]! * a[o + j]!;
  }
  return total;
}

/** quadraticForm of the error w − approx (each row's Δ·H·Δᵀ, summed). */
export function errorForm(w: Float32Array, approx: ArrayLike<number>, rows: number, cols: number, h: Float64Array): number {
  return quadraticForm(
    Float64Array.from(w, (x, i) => x - approx[i]!),
    rows,
    cols,
    h,
  );
}

/** Layer-output SQNR of an approximation of W on the inputs H came from: 10·log10(tr(WHWᵀ) / tr(ΔW·H·ΔWᵀ)). */
export function layerSqnrDb(w: Float32Array, approx: Float32Array, rows: number, cols: number, h: Float64Array): number {
  const noise = errorForm(w, approx, rows, cols, h);
  return noise <= 0 ? Infinity : 10 * Math.log10(quadraticForm(w, rows, cols, h) / noise);
}

/** The per-element grid of a tensor quantized with `scales`/`zeroPoints` over `view`/`grouping` (math.ts's group layout). */
export function gridOf(view: GroupView, grouping: Grouping, scales: Float32Array, zeroPoints: Int32Array, qmin: number, qmax: number): Grid {
  const n = view.outer * view.axisLength * view.inner;
  const scale = new Float32Array(n);
  const zeroPoint = new Int32Array(n);
  let e = 0;
  for (let o = 0; o < view.outer; o++)
    for (let d = 0; d < view.axisLength; d++)
      for (let i = 0; i < view.inner; i++, e++) {
        const g = groupOf(view, grouping, o, d, i);
        scale[e] = scales[g]!;
        zeroPoint[e] = zeroPoints[g]!;
      }
  return { scale, invScale: scale.map((s) => Math.fround(1 / s)), zeroPoint, qmin, qmax };
}
