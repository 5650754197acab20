import { describe, expect, it } from 'vitest';
import { checkLinalgParity, gramCases, updateCases } from '../../../test/kernels/linalg-parity';
import { hostLinalg } from '../host';
import { GRAM_ROW_CHUNK } from '../linalg';
import { loadHostLinalg } from '../registry';
import { createWasmBackend } from '../wasm/backend';
import { linalgTuning } from '../wasm/linalg-kernels';
import { accumulateGramOf, blockUpdateOf } from './linalg-reference';

describe('linear-algebra kernels: TypeScript reference', () => {
  it('Gram of a hand-computed 3×2 case (upper triangle only, scaled, onto H)', () => {
    // X = [[1, 2], [3, 4], [5, 6]]: XᵀX = [[1+9+25, 2+12+30], [·, 4+16+36]] = [[35, 44], [·, 56]]
    const h = Float64Array.of(1, 1, -7, 1);
    accumulateGramOf(h, Float32Array.of(1, 2, 3, 4, 5, 6), 3, 2, 0.5);
    expect(Array.from(h)).toEqual([1 + 17.5, 1 + 22, -7, 1 + 28]);
  });

  it('Gram equals the plain triple loop (float64, to rounding) on every case', () => {
    for (const c of gramCases()) {
      const h = Float64Array.from(c.h0);
      accumulateGramOf(h, c.x, c.rows, c.cols, c.scale);
      for (let i = 0; i < c.cols; i++)
        for (let j = 0; j < c.cols; j++) {
          let s = 0;
          let abs = 0;
          for (let r = 0; r < c.rows; r++) {
            s += c.x[r * c.cols + i]! * c.x[r * c.cols + j]!;
            abs += Math.abs(c.x[r * c.cols + i]! * c.x[r * c.cols + j]!);
          }
          const want = j >= i ? c.h0[i * c.cols + j]! + c.scale * s : c.h0[i * c.cols + j]!;
          expect(Math.abs(h[i * c.cols + j]! - want), `${c.name} (${i}, ${j})`).toBeLessThanOrEqual(1e-13 * (abs + Math.abs(want)));
        }
    }
  });

  it('block update equals the naïve triple loop W −= E·U exactly (same order) and touches nothing else', () => {
    for (const c of updateCases()) {
      const { ldw, offset, lde, rows, k, n } = c.args;
      const want = Float64Array.from(c.args.w);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < n; j++) {
          let v = want[r * ldw + offset + j]!;
          for (let t = 0; t < k; t++) if (c.args.err[r * lde + t] !== 0) v -= c.args.err[r * lde + t]! * c.args.u[t * n + j]!;
          want[r * ldw + offset + j] = v;
        }
      const w = Float64Array.from(c.args.w);
      blockUpdateOf({ ...c.args, w });
      expect(w, c.name).toEqual(want);
    }
  });

  it('refuses shapes its arrays cannot hold', () => {
    expect(() => accumulateGramOf(new Float64Array(3), new Float32Array(4), 2, 2, 1)).toThrow(RangeError);
    expect(() =>
      blockUpdateOf({ w: new Float64Array(4), ldw: 2, offset: 1, err: new Float64Array(2), lde: 1, u: new Float64Array(2), rows: 2, k: 1, n: 2 }),
    ).toThrow(RangeError);
  });
});

describe('linear-algebra kernels: WASM SIMD', () => {
  it('equal the reference bit for bit (Gram: 1×1 … 512×256, non-multiples of 4, zeros; block update: strided, zero errors, −0)', async () => {
    const wasm = await createWasmBackend();
    expect(await checkLinalgParity(wasm, 'exact')).toEqual([]);
  });

  it('split X into heap pieces (whole row chunks) without changing a bit', async () => {
    const wasm = await createWasmBackend();
    const saved = linalgTuning.gramPieceBytes;
    linalgTuning.gramPieceBytes = 1; // one chunk of GRAM_ROW_CHUNK rows per call
    try {
      for (const c of gramCases().filter((g) => g.rows > GRAM_ROW_CHUNK)) {
        const want = Float64Array.from(c.h0);
        accumulateGramOf(want, c.x, c.rows, c.cols, c.scale);
        const got = Float64Array.from(c.h0);
        wasm.hostLinalg.accumulateGram(got, c.x, c.rows, c.cols, c.scale);
        expect(got, c.name).toEqual(want);
      }
    } finally {
      linalgTuning.gramPieceBytes = saved;
    }
    expect(wasm.heapInUse).toBe(64); // only the backend's own result block
  });

  it('loadHostLinalg installs WASM SIMD as the host kernels', async () => {
    expect((await loadHostLinalg()).name).toBe('wasm');
    expect(hostLinalg().name).toBe('wasm');
  });
});
