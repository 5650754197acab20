/**
 * Linear-algebra kernels: the heavy algebra of GPTQ and SparseGPT (core/teacher/gptq.ts, sparsegpt.ts).
 *
 *   accumulateGram  H += scale · XᵀX   (H [cols, cols] float64, X [rows, cols] float32; upper triangle only,
 *                   j ≥ i — the Hessian mirrors it when it finishes)
 *   blockUpdate     W[r, off + j] −= Σₜ E[r, t] · U[t, j]   (the lazy block update of GPTQ / SparseGPT: E the
 *                   block's scaled errors, U the block's rows of the upper Cholesky factor of H⁻¹ past the block)
 *
 * Both run in float64, as gptq.ts always has, and the order of every rounding is part of the definition, so the
 * host backends (this TypeScript reference and WASM SIMD) agree bit for bit:
 *   - Gram: rows go in chunks of GRAM_ROW_CHUNK; per chunk and element s = Σᵣ x[r, i]·x[r, j] summed in row
 *     order from +0 (products of float32 values are exact in float64), then h[i, j] += scale · s. Rows whose
 *     x[r, i] is 0 add nothing (skipping them changes no bit: s never becomes −0).
 *   - block update: per row, t ascending, w ← w − e·u, with e = 0 skipped (the sign of a zero weight survives).
 * WebGPU has no float64: it computes in float32 (inputs rounded to float32) and is held to the rounding-error
 * bounds of that arithmetic (see test/kernels/linalg-parity.ts).
 *
 * The teacher's code is synchronous and runs on the host, so there are two forms: `HostLinalgKernels` (TS
 * reference, WASM SIMD) called directly — `hostLinalg()` (host.ts) is the best one loaded in this realm
 * (registry.ts installs WASM SIMD when it loads) — and `LinalgKernels` on every KernelBackend (async, incl. WebGPU).
 */

/** Rows summed per partial sum of accumulateGram (part of its rounding definition, shared by every backend). */
export const GRAM_ROW_CHUNK = 64;

export interface BlockUpdateArgs {
  /** W, row stride `ldw`; columns [offset, offset + n) of each of `rows` rows are updated. */
  w: Float64Array;
  ldw: number;
  offset: number;
  /** E [rows, k], row stride `lde` (≥ k). */
  err: Float64Array;
  lde: number;
  /** U [k, n], row-major, contiguous. */
  u: Float64Array;
  rows: number;
  k: number;
  n: number;
}

/** Synchronous kernels on host memory (TS reference, WASM SIMD). */
export interface HostLinalgKernels {
  readonly name: 'ts' | 'wasm';
  /** h[i, j] += scale · Σᵣ x[r, i]·x[r, j] for j ≥ i (h [cols, cols] row-major; the lower triangle is left as it is). */
  accumulateGram(h: Float64Array, x: Float32Array, rows: number, cols: number, scale: number): void;
  blockUpdate(args: BlockUpdateArgs): void;
}

/** The same kernels on a KernelBackend (results land in the host arrays passed in). */
export interface LinalgKernels {
  accumulateGram(h: Float64Array, x: Float32Array, rows: number, cols: number, scale: number): Promise<void>;
  blockUpdate(args: BlockUpdateArgs): Promise<void>;
}

export function asyncLinalg(k: HostLinalgKernels): LinalgKernels {
  return {
    accumulateGram: async (h, x, rows, cols, scale) => k.accumulateGram(h, x, rows, cols, scale),
    blockUpdate: async (args) => k.blockUpdate(args),
  };
}

export function checkGramArgs(h: Float64Array, x: ArrayLike<number>, rows: number, cols: number): void {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0)) throw new RangeError(`accumulateGram: bad shape ${rows}×${cols}`);
  if (h.length < cols * cols || x.length < rows * cols)
    throw new RangeError(`accumulateGram: H holds ${h.length} (needs ${cols * cols}), X holds ${x.length} (needs ${rows * cols})`);
}

export function checkBlockUpdateArgs({ w, ldw, offset, err, lde, u, rows, k, n }: BlockUpdateArgs): void {
  const ints = [ldw, offset, lde, rows, k, n];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0) || offset + n > ldw || k > lde)
    throw new RangeError(`blockUpdate: bad shape (ldw ${ldw}, offset ${offset}, n ${n}, lde ${lde}, k ${k}, rows ${rows})`);
  if (rows && (w.length < (rows - 1) * ldw + offset + n || err.length < (rows - 1) * lde + k || u.length < k * n))
    throw new RangeError('blockUpdate: an array is shorter than its shape');
}
