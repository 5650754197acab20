/**
 * Parity suite of the linear-algebra kernels (src/kernels/linalg.ts) against the TypeScript reference.
 * Framework-free, like ./parity.ts: vitest runs it on WASM SIMD, test/kernels/webgpu/parity-node.ts and the e2e
 * page on WebGPU.
 *
 * Tolerances:
 *  - 'exact' (host backends: WASM SIMD): every float64 bit equal, signs of zero included — the kernels reproduce
 *    the reference's rounding order (linalg.ts), so any difference is a bug.
 *  - 'f32' (WebGPU, no float64): the standard forward-error bounds of float32 arithmetic, u = 2⁻²⁴:
 *      Gram       |Δh[i,j]| ≤ (m + 2)·u·|scale|·Σᵣ|x[r,i]·x[r,j]| + 2⁻⁵²·|h|   (m rows summed in one sequence)
 *      update     |Δw|      ≤ (k + 3)·u·(|w| + Σₜ|e[t]·u[t,j]|)                (k terms, operands rounded to f32)
 *    Whatever order the GPU sums in, the error stays inside these bounds; the WebGPU kernels sum in order
 *    within a thread, so the observed error is far below them.
 */
import { referenceLinalg } from '../../src/kernels/ts/linalg-reference';
import type { BlockUpdateArgs } from '../../src/kernels/linalg';
import type { KernelBackend } from '../../src/kernels/types';
import { gaussian } from './parity';

export type LinalgTolerance = 'exact' | 'f32';

const U32 = 2 ** -24;

function relu(x: Float32Array, every = 3): Float32Array {
  return x.map((v, i) => (i % every === 0 ? 0 : Math.max(0, v)));
}

export interface GramCase {
  name: string;
  rows: number;
  cols: number;
  x: Float32Array;
  scale: number;
  /** Starting H (its lower triangle must come back untouched). */
  h0: Float64Array;
}

export function gramCases(large = true): GramCase[] {
  const mk = (name: string, rows: number, cols: number, seed: number, opts: { scale?: number; relu?: boolean; h0?: boolean } = {}): GramCase => {
    const g = gaussian(rows * cols, seed);
    return {
      name,
      rows,
      cols,
      x: opts.relu ? relu(g) : g,
      scale: opts.scale ?? 1,
      h0: opts.h0 ? Float64Array.from(gaussian(cols * cols, seed + 1000)) : new Float64Array(cols * cols),
    };
  };
  return [
    { name: 'hand 3×2', rows: 3, cols: 2, x: Float32Array.of(1, 2, 3, 4, 5, 6), scale: 1, h0: new Float64Array(4) },
    mk('1×1', 1, 1, 1),
    mk('0 rows', 0, 5, 2),
    mk('2×3 scale 0.5', 2, 3, 3, { scale: 0.5, h0: true }),
    mk('5×7', 5, 7, 4),
    mk('13×4 onto H', 13, 4, 5, { h0: true }),
    mk('65×33 (a row chunk and one row; 33 columns)', 65, 33, 6, { scale: 2 / 65 }),
    mk('130×18 ReLU (zeros)', 130, 18, 7, { relu: true, h0: true }),
    mk('9×64', 9, 64, 8),
    ...(large ? [mk('300×131 ReLU', 300, 131, 9, { relu: true, scale: 2 / 300 }), mk('512×256', 512, 256, 10, { h0: true })] : []),
  ];
}

export interface UpdateCase {
  name: string;
  args: BlockUpdateArgs;
}

export function updateCases(large = true): UpdateCase[] {
  const mk = (name: string, rows: number, k: number, n: number, seed: number, opts: { pad?: number; zeros?: boolean } = {}): UpdateCase => {
    const pad = opts.pad ?? 0;
    const ldw = n + 2 * pad;
    const lde = k + pad;
    const w = Float64Array.from(gaussian(rows * ldw, seed));
    const err = Float64Array.from(gaussian(rows * lde, seed + 1), (v) => v * 0.1);
    if (opts.zeros) {
      for (let i = 0; i < err.length; i += 5) err[i] = 0;
      for (let i = 0; i < w.length; i += 7) w[i] = -0;
    }
    const u = Float64Array.from(gaussian(k * n, seed + 2), (v) => v * 0.3);
    return { name, args: { w, ldw, offset: pad, err, lde, u, rows, k, n } };
  };
  return [
    mk('1×1×1', 1, 1, 1, 11),
    mk('0 rows', 0, 3, 4, 12),
    mk('3 rows, k 5, n 7', 3, 5, 7, 13),
    mk('2×4×8', 2, 4, 8, 14),
    mk('7×13×17 strided (offset 3)', 7, 13, 17, 15, { pad: 3 }),
    mk('5×6×9 zero errors, −0 weights', 5, 6, 9, 16, { zeros: true }),
    mk('4×1×10', 4, 1, 10, 17),
    ...(large ? [mk('33×128×200 strided', 33, 128, 200, 18, { pad: 5, zeros: true }), mk('64×128×384', 64, 128, 384, 19)] : []),
  ];
}

function cloneArgs(a: BlockUpdateArgs): BlockUpdateArgs {
  return { ...a, w: Float64Array.from(a.w), err: Float64Array.from(a.err), u: Float64Array.from(a.u) };
}

function differs(a: number, b: number, bound: number | undefined): boolean {
  if (bound === undefined) return !Object.is(a, b);
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) !== Number.isNaN(b);
  return !(Math.abs(a - b) <= bound);
}

/** Runs every case on `backend.linalg` and on the reference; returns the differences (empty when they agree). */
export async function checkLinalgParity(backend: KernelBackend, tolerance: LinalgTolerance, large = true): Promise<string[]> {
  const linalg = backend.linalg;
  if (!linalg) return [`${backend.name}: no linalg kernels`];
  const problems: string[] = [];
  const report = (what: string) => {
    if (problems.length < 40) problems.push(`${backend.name} ${what}`);
  };
  for (const c of gramCases(large)) {
    const want = Float64Array.from(c.h0);
    referenceLinalg.accumulateGram(want, c.x, c.rows, c.cols, c.scale);
    const got = Float64Array.from(c.h0);
    await linalg.accumulateGram(got, c.x, c.rows, c.cols, c.scale);
    let bad = 0;
    for (let i = 0; i < c.cols; i++)
      for (let j = 0; j < c.cols; j++) {
        const e = i * c.cols + j;
        let bound: number | undefined;
        if (tolerance === 'f32' && j >= i) {
          let abs = 0;
          for (let r = 0; r < c.rows; r++) abs += Math.abs(c.x[r * c.cols + i]! * c.x[r * c.cols + j]!);
          bound = (c.rows + 2) * U32 * Math.abs(c.scale) * abs + 2 ** -52 * Math.abs(want[e]!);
        }
        if (j < i ? !Object.is(got[e], c.h0[e]) : differs(got[e]!, want[e]!, bound)) {
          if (bad++ < 3) report(`gram ${c.name}: h[${i},${j}] = ${got[e]} want ${want[e]}${bound !== undefined ? ` (±${bound.toExponential(2)})` : ''}`);
        }
      }
    if (bad > 3) report(`gram ${c.name}: ${bad} elements differ`);
  }
  for (const c of updateCases(large)) {
    const want = cloneArgs(c.args);
    referenceLinalg.blockUpdate(want);
    const got = cloneArgs(c.args);
    await linalg.blockUpdate(got);
    const { rows, ldw, offset, n, k, lde } = c.args;
    let bad = 0;
    for (let e = 0; e < c.args.w.length; e++) {
      const r = Math.floor(e / ldw);
      const j = (e % ldw) - offset;
      const inside = r < rows && j >= 0 && j < n;
      let bound: number | undefined;
      if (tolerance === 'f32' && inside) {
        let abs = Math.abs(c.args.w[e]!);
        for (let t = 0; t < k; t++) abs += Math.abs(c.args.err[r * lde + t]! * c.args.u[t * n + j]!);
        bound = (k + 3) * U32 * abs;
      }
      if (inside ? differs(got.w[e]!, want.w[e]!, bound) : !Object.is(got.w[e], c.args.w[e])) {
        if (bad++ < 3) report(`blockUpdate ${c.name}: w[${e}] = ${got.w[e]} want ${want.w[e]}${bound !== undefined ? ` (±${bound.toExponential(2)})` : ''}`);
      }
    }
    if (bad > 3) report(`blockUpdate ${c.name}: ${bad} elements differ`);
    if (!got.err.every((v, i) => Object.is(v, c.args.err[i])) || !got.u.every((v, i) => Object.is(v, c.args.u[i])))
      report(`blockUpdate ${c.name}: E or U changed`);
  }
  return problems;
}
