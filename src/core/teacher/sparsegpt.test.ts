import { describe, expect, it } from 'vitest';
import { gptq, layerSqnrDb } from './gptq';
import { rowTargets, sparseGpt, type SparsityPattern } from './sparsegpt';
import { nmMaskOf } from '../../kernels/ts/prune-reference';
import { pruneSmallest } from '../compress/prune/masks';
import { gauss, maxDiff, naiveSparseGpt, rng, rowGrid, setup, zerosOf } from './test-helpers';

describe('SparseGPT reference', () => {
  it('matches direct OBS with the explicit inverse Hessian (unstructured 50 %, per row and per block masks, blocks of 4 over 11 columns and one block)', () => {
    const rows = 6;
    const cols = 11;
    const { w, h } = setup(rows, cols, 7);
    const pattern: SparsityPattern = { kind: 'unstructured', count: Math.floor(0.5 * rows * cols) };
    for (const maskScope of ['row', 'block'] as const)
      for (const B of [4, 128]) {
        const got = sparseGpt(w, rows, cols, h, pattern, { blockSize: B, maskScope });
        const want = naiveSparseGpt(w, rows, cols, h, pattern, B, undefined, maskScope);
        // Same mask, same compensated weights.
        expect(Array.from(got, (x) => x === 0)).toEqual(Array.from(want, (x) => x === 0));
        expect(maxDiff(got, want)).toBeLessThan(1e-5);
      }
  });

  it('matches direct OBS for 2:4 and 4:8 (with a tail group), and jointly quantized at 4 bits', () => {
    const rows = 5;
    const cols = 18;
    const { w, h } = setup(rows, cols, 21);
    const g = rowGrid(w, rows, cols, 4);
    for (const pattern of [
      { kind: 'nm', n: 2, m: 4 },
      { kind: 'nm', n: 4, m: 8 },
      { kind: 'unstructured', count: 40 },
    ] as SparsityPattern[]) {
      for (const B of [8, 128]) {
        const got = sparseGpt(w, rows, cols, h, pattern, { blockSize: B });
        expect(maxDiff(got, naiveSparseGpt(w, rows, cols, h, pattern, B))).toBeLessThan(1e-5);
        const joint = sparseGpt(w, rows, cols, h, pattern, { blockSize: B, grid: g });
        const wantJoint = naiveSparseGpt(w, rows, cols, h, pattern, B, g);
        expect(maxDiff(joint, wantJoint)).toBeLessThan(1e-5);
      }
    }
  });

  it('prunes exactly the requested count (unstructured) and exactly N of every M along the inputs', () => {
    const rows = 7;
    const cols = 40;
    const { w, h } = setup(rows, cols, 3);
    for (const s of [0.1, 0.5, 0.73, 0.9]) {
      const count = Math.floor(s * rows * cols);
      for (const B of [7, 16, 128]) {
        expect(zerosOf(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: B, maskScope: 'block' }))).toBe(count);
        // Per row: the count exactly, each row within one weight of the others.
        const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: B });
        expect(zerosOf(got)).toBe(count);
        const perRow = Array.from({ length: rows }, (_, r) => zerosOf(got.subarray(r * cols, (r + 1) * cols)));
        expect(Math.max(...perRow) - Math.min(...perRow)).toBeLessThanOrEqual(1);
      }
    }
    for (const [n, m] of [
      [2, 4],
      [4, 8],
    ] as const) {
      const got = sparseGpt(w, rows, cols, h, { kind: 'nm', n, m }, { blockSize: 12 });
      for (let r = 0; r < rows; r++)
        for (let g = 0; g < cols; g += m) {
          let kept = 0;
          for (let j = g; j < g + m; j++) if (got[r * cols + j] !== 0) kept++;
          expect(kept).toBe(n);
        }
    }
  });

  it('row targets: an even share, rows already holding more zeros keep them and the others share the rest', () => {
    expect(Array.from(rowTargets(new Int32Array(4), 10, 22))).toEqual([6, 6, 5, 5]);
    expect(Array.from(rowTargets(Int32Array.of(9, 0, 0, 1), 10, 20))).toEqual([9, 4, 4, 3]);
    // More zeros than the count: nothing more is pruned.
    expect(Array.from(rowTargets(Int32Array.of(8, 7, 0, 0), 10, 10))).toEqual([8, 7, 0, 0]);
    expect(Array.from(rowTargets(Int32Array.of(2, 0), 4, 8))).toEqual([4, 4]);
  });

  it('keeps weights that are zero already at zero (filterbank-like rows), unstructured and 2:4', () => {
    const rows = 6;
    const cols = 16;
    const { w, h } = setup(rows, cols, 17);
    for (let c = 0; c < 12; c++) w[c] = 0; // row 0: 12 of 16 zero
    w[cols + 3] = 0;
    for (let c = 10; c < 16; c++) w[2 * cols + c] = 0; // row 2: 6 zeros at the end (the last block)
    for (const pattern of [
      { kind: 'unstructured', count: 48 },
      { kind: 'nm', n: 2, m: 4 },
    ] as SparsityPattern[]) {
      const got = sparseGpt(w, rows, cols, h, pattern);
      for (let e = 0; e < w.length; e++) if (w[e] === 0) expect(got[e], `${pattern.kind} ${e}`).toBe(0);
      if (pattern.kind === 'unstructured') expect(zerosOf(got)).toBe(48);
    }
    // Per row exactly its target, whatever block its zeros fall in (blocks of 4).
    const zeros = Int32Array.from({ length: rows }, (_, r) => zerosOf(w.subarray(r * cols, (r + 1) * cols)));
    const target = rowTargets(zeros, cols, 48);
    const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 48 }, { blockSize: 4 });
    for (let r = 0; r < rows; r++) expect(zerosOf(got.subarray(r * cols, (r + 1) * cols)), `row ${r}`).toBe(target[r]);
  });

  it('with nothing to prune it leaves the weights unchanged, and with a grid it is GPTQ', () => {
    const rows = 6;
    const cols = 20;
    const { w, h } = setup(rows, cols, 5);
    expect(Array.from(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 0 }))).toEqual(Array.from(w));
    const g = rowGrid(w, rows, cols, 4);
    for (const blockSize of [8, 128]) {
      expect(Array.from(sparseGpt(w, rows, cols, h, { kind: 'unstructured', count: 0 }, { grid: g, blockSize }))).toEqual(
        Array.from(gptq(w, rows, cols, h, g, { blockSize })),
      );
    }
  });

  it('with a diagonal Hessian it is magnitude pruning weighted by H_jj (no compensation)', () => {
    const rows = 4;
    const cols = 10;
    const r = rng(9);
    const w = Float32Array.from({ length: rows * cols }, () => gauss(r));
    const h = new Float64Array(cols * cols);
    const diag = Array.from({ length: cols }, () => 0.1 + 3 * r());
    diag.forEach((d, j) => (h[j * cols + j] = d));
    const count = 20;
    const got = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count }, { blockSize: 128, maskScope: 'block' });
    // Expected: the `count` smallest w² · H_jj zeroed (damping shifts every diagonal term alike: nearly the same order), the rest untouched.
    const lambda = (0.01 * diag.reduce((a, b) => a + b, 0)) / cols;
    const weighted = Float32Array.from(w, (x, e) => Math.sqrt(x * x * (diag[e % cols]! + lambda)));
    pruneSmallest(weighted, count);
    const want = w.map((x, e) => (weighted[e] === 0 ? 0 : x));
    expect(Array.from(got)).toEqual(Array.from(want));
    // Per row (the default): the same within each row (5 of 10 each).
    const rowsGot = sparseGpt(w, rows, cols, h, { kind: 'unstructured', count });
    for (let r = 0; r < rows; r++) {
      const wr = Float32Array.from(w.subarray(r * cols, (r + 1) * cols), (x, j) => Math.sqrt(x * x * (diag[j]! + lambda)));
      pruneSmallest(wr, count / rows);
      expect(Array.from(rowsGot.subarray(r * cols, (r + 1) * cols)), `row ${r}`).toEqual(
        Array.from(w.subarray(r * cols, (r + 1) * cols), (x, j) => (wr[j] === 0 ? 0 : x)),
      );
    }
    // 2:4 with H = I is exactly magnitude 2:4 (the studio's kernel).
    const eye = new Float64Array(cols * cols);
    for (let j = 0; j < cols; j++) eye[j * cols + j] = 1;
    const nm = sparseGpt(w, rows, cols, eye, { kind: 'nm', n: 2, m: 4 });
    expect(Array.from(nm)).toEqual(Array.from(nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 2, 4).values));
  });

  it('reconstruction error ‖WX − ŴX‖² is below magnitude pruning’s on correlated inputs (50 %, 2:4, 4:8)', () => {
    const rows = 24;
    const cols = 64;
    const { w, h } = setup(rows, cols, 13);
    const magnitude = Float32Array.from(w);
    pruneSmallest(magnitude, rows * cols * 0.5);
    const cases: [SparsityPattern, Float32Array][] = [
      [{ kind: 'unstructured', count: rows * cols * 0.5 }, magnitude],
      [{ kind: 'nm', n: 2, m: 4 }, nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 2, 4).values],
      [{ kind: 'nm', n: 4, m: 8 }, nmMaskOf(w, { lines: rows, length: cols, lineStride: cols, kStride: 1 }, 4, 8).values],
    ];
    for (const [pattern, mag] of cases) {
      const s = layerSqnrDb(w, sparseGpt(w, rows, cols, h, pattern, { blockSize: 16 }), rows, cols, h);
      const m = layerSqnrDb(w, mag, rows, cols, h);
      expect(s, JSON.stringify(pattern)).toBeGreaterThan(m + 3);
    }
  });
});
