/**
 * Linear-algebra kernels of the WASM SIMD backend (the host side; the loops are in assembly/linalg.as): GPTQ's Gram
 * accumulation and lazy block update in float64, bit-identical to the reference (../linalg.ts). Synchronous, so the
 * teacher's synchronous code can call them (../host.ts).
 *
 * Each call copies its operands into the heap and the result back: H (the whole matrix, one copy each way) with X in
 * pieces of at most GRAM_PIECE_BYTES (whole chunks of GRAM_ROW_CHUNK rows, so the rounding order is unchanged); the
 * updated columns of W, the errors and U packed contiguous. The copies are O(k²) against the kernels' O(rows·k²).
 */
import { checkBlockUpdateArgs, checkGramArgs, GRAM_ROW_CHUNK, type BlockUpdateArgs, type HostLinalgKernels } from '../linalg';

export interface LinalgExports {
  gramUpper(h: number, x: number, rows: number, k: number, scale: number): void;
  blockUpdate(w: number, ldw: number, e: number, lde: number, u: number, rows: number, k: number, n: number): void;
}

export interface LinalgHost {
  readonly k: LinalgExports;
  readonly buffer: ArrayBuffer;
  alloc(bytes: number): number;
  release(at: number, bytes: number): void;
}

/** Largest piece of X copied into the heap per kernel call. */
export const linalgTuning = { gramPieceBytes: 16 << 20 };

export function wasmLinalgKernels(host: LinalgHost): HostLinalgKernels {
  const withBlocks = <T>(sizes: number[], fn: (at: number[]) => T): T => {
    const at: number[] = [];
    try {
      for (const s of sizes) at.push(host.alloc(Math.max(8, s)));
      return fn(at);
    } finally {
      at.forEach((a, i) => host.release(a, Math.max(8, sizes[i]!)));
    }
  };
  return {
    name: 'wasm',
    accumulateGram(h, x, rows, cols, scale) {
      checkGramArgs(h, x, rows, cols);
      if (rows === 0 || cols === 0) return;
      const chunkBytes = GRAM_ROW_CHUNK * cols * 4;
      const pieceRows = Math.min(rows, Math.max(1, Math.floor(linalgTuning.gramPieceBytes / chunkBytes)) * GRAM_ROW_CHUNK);
      const hBytes = cols * cols * 8;
      withBlocks([hBytes, pieceRows * cols * 4], ([hp, xp]) => {
        new Float64Array(host.buffer, hp!, cols * cols).set(h.subarray(0, cols * cols));
        for (let r0 = 0; r0 < rows; r0 += pieceRows) {
          const n = Math.min(pieceRows, rows - r0);
          new Float32Array(host.buffer, xp!, n * cols).set(x.subarray(r0 * cols, (r0 + n) * cols));
          host.k.gramUpper(hp!, xp!, n, cols, scale);
        }
        h.set(new Float64Array(host.buffer, hp!, cols * cols));
      });
    },
    blockUpdate(args: BlockUpdateArgs) {
      checkBlockUpdateArgs(args);
      const { w, ldw, offset, err, lde, u, rows, k, n } = args;
      if (rows === 0 || n === 0 || k === 0) return;
      withBlocks([rows * n * 8, rows * k * 8, k * n * 8], ([wp, ep, up]) => {
        const W = new Float64Array(host.buffer, wp!, rows * n);
        const E = new Float64Array(host.buffer, ep!, rows * k);
        for (let r = 0; r < rows; r++) {
          W.set(w.subarray(r * ldw + offset, r * ldw + offset + n), r * n);
          E.set(err.subarray(r * lde, r * lde + k), r * k);
        }
        new Float64Array(host.buffer, up!, k * n).set(u.subarray(0, k * n));
        host.k.blockUpdate(wp!, n, ep!, k, up!, rows, k, n);
        const out = new Float64Array(host.buffer, wp!, rows * n);
        for (let r = 0; r < rows; r++) w.set(out.subarray(r * n, (r + 1) * n), r * ldw + offset);
      });
    },
  };
}
