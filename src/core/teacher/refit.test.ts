/** Least-squares refit after channel pruning: closed forms on hand-built cases, and a random case against a direct solve. */
import { describe, expect, it } from 'vitest';
import { Hessian } from './gptq';
import { refitRows, sqnrDb } from './refit';

function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Gaussian elimination with partial pivoting on a dense system (the direct solve). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

describe('least-squares refit', () => {
  it('recovers the teacher output exactly when the pruned input is a linear combination of kept ones', () => {
    // Inputs x0, x1 free; x2 = 2·x0 − 0.5·x1 (the pruned channel). Two output rows.
    const g = gaussian(3);
    const n = 50;
    const x: number[] = [];
    for (let r = 0; r < n; r++) {
      const a = g();
      const b = g();
      x.push(a, b, 2 * a - 0.5 * b);
    }
    const h = new Hessian(3);
    h.addRows(x, n);
    const w = [0.3, -0.7, 1.1, 0.9, 0.2, -0.4]; // rows [w0 w1 w2]
    const fit = refitRows(w, 2, 3, h.finish(), [0, 1], 1e-12);
    // Closed form: w' = (w0 + 2·w2, w1 − 0.5·w2).
    expect(fit.weights[0]).toBeCloseTo(0.3 + 2 * 1.1, 8);
    expect(fit.weights[1]).toBeCloseTo(-0.7 - 0.5 * 1.1, 8);
    expect(fit.weights[2]).toBeCloseTo(0.9 + 2 * -0.4, 8);
    expect(fit.weights[3]).toBeCloseTo(0.2 - 0.5 * -0.4, 8);
    expect(fit.noiseAfter / fit.signal).toBeLessThan(1e-12);
    expect(fit.noiseBefore).toBeGreaterThan(0);
    // Teacher outputs reproduced on the inputs themselves.
    for (let r = 0; r < n; r++)
      for (let o = 0; o < 2; o++) {
        const t = x[r * 3]! * w[o * 3]! + x[r * 3 + 1]! * w[o * 3 + 1]! + x[r * 3 + 2]! * w[o * 3 + 2]!;
        const s = x[r * 3]! * fit.weights[o * 2]! + x[r * 3 + 1]! * fit.weights[o * 2 + 1]!;
        expect(s).toBeCloseTo(t, 8);
      }
  });

  it('random case: the ridge-damped normal equations by Cholesky match a direct solve, and the output error only falls', () => {
    const g = gaussian(11);
    const k = 12;
    const rows = 5;
    const n = 200;
    const x = Array.from({ length: n * k }, () => g());
    // Correlated inputs (a pruned channel partly predictable from the kept ones).
    for (let r = 0; r < n; r++) x[r * k + 3] = 0.6 * x[r * k]! + 0.4 * x[r * k + 3]!;
    const h = new Hessian(k);
    h.addRows(x, n);
    const H = h.finish();
    const w = Array.from({ length: rows * k }, () => g());
    const keep = [0, 1, 2, 4, 6, 7, 9, 11];
    const damp = 1e-3;
    const fit = refitRows(w, rows, k, H, keep, damp);
    const m = keep.length;
    const lambda = (damp * keep.reduce((s, i) => s + H[i * k + i]!, 0)) / m;
    for (let r = 0; r < rows; r++) {
      const a = keep.map((i) => keep.map((j) => H[i * k + j]! + (i === j ? lambda : 0)));
      const b = keep.map((i) => w.slice(r * k, r * k + k).reduce((s, wj, j) => s + H[i * k + j]! * wj, 0));
      const direct = solve(a, b);
      for (let i = 0; i < m; i++) expect(fit.weights[r * m + i]).toBeCloseTo(direct[i]!, 9);
    }
    // The output error measured directly on the inputs agrees with the Hessian's quadratic form (H = 2XᵀX/n).
    let noise = 0;
    let signal = 0;
    for (let r = 0; r < n; r++)
      for (let o = 0; o < rows; o++) {
        let t = 0;
        let s = 0;
        for (let j = 0; j < k; j++) t += x[r * k + j]! * w[o * k + j]!;
        keep.forEach((j, i) => (s += x[r * k + j]! * fit.weights[o * m + i]!));
        noise += (t - s) ** 2;
        signal += t * t;
      }
    expect(sqnrDb(signal, noise)).toBeCloseTo(sqnrDb(fit.signal, fit.noiseAfter), 6);
    expect(fit.noiseAfter).toBeLessThan(fit.noiseBefore);
  });
});
