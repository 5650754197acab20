import { checkBlockUpdateArgs, checkGramArgs, GRAM_ROW_CHUNK, type BlockUpdateArgs, type HostLinalgKernels } from '../linalg';

/**
 * H += scale·XᵀX on the upper triangle, in the rounding order of linalg.ts (chunks of GRAM_ROW_CHUNK rows). Takes any
 * array: float64 rows (not representable in float32) keep every bit here; the other backends take float32 rows.
 */
export function accumulateGramOf(h: Float64Array, x: ArrayLike<number>, rows: number, cols: number, scale: number): void {
  checkGramArgs(h, x, rows, cols);
  const s = new Float64Array(cols);
  for (let r0 = 0; r0 < rows; r0 += GRAM_ROW_CHUNK) {
    const r1 = Math.min(rows, r0 + GRAM_ROW_CHUNK);
    for (let i = 0; i < cols; i++) {
      s.fill(0, i);
      for (let r = r0; r < r1; r++) {
        const o = r * cols;
        const xi = x[o + i]!;
        if (xi === 0) continue;
        for (let j = i; j < cols; j++) s[j]! += xi * x[o + j]!;
      }
      const hi = i * cols;
      for (let j = i; j < cols; j++) h[hi + j]! += scale * s[j]!;
    }
  }
}

/** W[r, offset + j] −= Σₜ E[r, t]·U[t, j], t ascending, one subtraction at a time (zero errors skipped). */
export function blockUpdateOf(args: BlockUpdateArgs): void {
  checkBlockUpdateArgs(args);
  const { w, ldw, offset, err, lde, u, rows, k, n } = args;
  for (let r = 0; r < rows; r++) {
    const row = r * ldw + offset;
    for (let t = 0; t < k; t++) {
      const e = err[r * lde + t]!;
      if (e === 0) continue;
      const ut = t * n;
      for (let j = 0; j < n; j++) w[row + j]! -= e * u[ut + j]!;
    }
  }
}

export const referenceLinalg: HostLinalgKernels = { name: 'ts', accumulateGram: accumulateGramOf, blockUpdate: blockUpdateOf };
