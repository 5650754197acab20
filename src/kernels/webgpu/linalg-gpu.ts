/**
 * Linear-algebra kernels (../linalg.ts) on WebGPU, in float32 (WGSL has no float64): operands are rounded to
 * float32 on upload, the sums run in float32 (shaders/linalg.wgsl.ts) and the results go back into the caller's
 * float64 arrays. Held to float32 error bounds, not to the host kernels' bits (test/kernels/linalg-parity.ts).
 *
 * - accumulateGram: X in pieces of whole rows that fit one storage binding; each piece's XᵀX (upper tiles) is read
 *   back and added to H on the host as h += scale·g in float64. H itself never goes to the GPU.
 * - blockUpdate: W's updated columns, E and U packed contiguous; rows in pieces that fit one binding.
 * Matrices whose Gram (cols² floats) or U (k·n floats) exceed one binding run the TypeScript reference.
 */
import { checkBlockUpdateArgs, checkGramArgs, type BlockUpdateArgs, type LinalgKernels } from '../linalg';
import { referenceLinalg } from '../ts/linalg-reference';
import type { QuantGpuContext } from './quant-gpu';
import { BLOCK_UPDATE_WGSL, GRAM_WGSL } from './shaders/linalg.wgsl';

const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const STORAGE = 0x0080;

export type LinalgGpuContext = Pick<QuantGpuContext, 'device' | 'pipelineFor' | 'buffer' | 'uniform' | 'bind' | 'dispatch' | 'scoped' | 'readMany'>;

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

function bindingFloats(ctx: LinalgGpuContext): number {
  return Math.floor(Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize) / 4);
}

export function gpuLinalgKernels(ctx: LinalgGpuContext): LinalgKernels {
  return {
    accumulateGram: (h, x, rows, cols, scale) => {
      checkGramArgs(h, x, rows, cols);
      const limit = bindingFloats(ctx);
      if (rows === 0 || cols === 0) return Promise.resolve();
      if (cols * cols > limit || cols > limit) return Promise.resolve(referenceLinalg.accumulateGram(h, x, rows, cols, scale));
      return ctx.scoped(async () => {
        const pipeline = await ctx.pipelineFor(GRAM_WGSL);
        const pieceRows = Math.max(1, Math.min(rows, Math.floor(limit / cols)));
        const tiles = ceilDiv(cols, 16);
        const xb = ctx.buffer(pieceRows * cols * 4, STORAGE | COPY_DST, 'gram x');
        const gb = ctx.buffer(cols * cols * 4, STORAGE | COPY_SRC, 'gram');
        try {
          for (let r0 = 0; r0 < rows; r0 += pieceRows) {
            const n = Math.min(pieceRows, rows - r0);
            ctx.device.queue.writeBuffer(xb, 0, x as Float32Array<ArrayBuffer>, r0 * cols, n * cols);
            const u = ctx.uniform([n, cols, tiles, 0]);
            const encoder = ctx.device.createCommandEncoder();
            ctx.dispatch(encoder, pipeline, ctx.bind(pipeline, [xb, gb, u]), tiles * tiles);
            const [data] = await ctx.readMany(encoder, [{ buffer: gb, bytes: cols * cols * 4 }]);
            u.destroy();
            const g = new Float32Array(data!);
            for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) h[i * cols + j]! += scale * g[i * cols + j]!;
          }
        } finally {
          xb.destroy();
          gb.destroy();
        }
      });
    },
    blockUpdate: (args: BlockUpdateArgs) => {
      checkBlockUpdateArgs(args);
      const { w, ldw, offset, err, lde, u, rows, k, n } = args;
      const limit = bindingFloats(ctx);
      if (rows === 0 || n === 0 || k === 0) return Promise.resolve();
      if (k * n > limit || Math.max(k, n) > limit) return Promise.resolve(referenceLinalg.blockUpdate(args));
      return ctx.scoped(async () => {
        const pipeline = await ctx.pipelineFor(BLOCK_UPDATE_WGSL);
        const pieceRows = Math.max(1, Math.min(rows, Math.floor(limit / Math.max(k, n))));
        const wb = ctx.buffer(pieceRows * n * 4, STORAGE | COPY_DST | COPY_SRC, 'update w');
        const eb = ctx.buffer(pieceRows * k * 4, STORAGE | COPY_DST, 'update e');
        const ub = ctx.buffer(k * n * 4, STORAGE | COPY_DST, 'update u');
        try {
          ctx.device.queue.writeBuffer(ub, 0, Float32Array.from(u.subarray(0, k * n)));
          const tilesN = ceilDiv(n, 16);
          for (let r0 = 0; r0 < rows; r0 += pieceRows) {
            const m = Math.min(pieceRows, rows - r0);
            const W = new Float32Array(m * n);
            const E = new Float32Array(m * k);
            for (let r = 0; r < m; r++) {
              const row = (r0 + r) * ldw + offset;
              for (let j = 0; j < n; j++) W[r * n + j] = w[row + j]!;
              for (let t = 0; t < k; t++) E[r * k + t] = err[(r0 + r) * lde + t]!;
            }
            ctx.device.queue.writeBuffer(wb, 0, W);
            ctx.device.queue.writeBuffer(eb, 0, E);
            const tiles = ceilDiv(m, 16) * tilesN;
            const uni = ctx.uniform([m, k, n, tilesN, tiles, 0, 0, 0]);
            const encoder = ctx.device.createCommandEncoder();
            ctx.dispatch(encoder, pipeline, ctx.bind(pipeline, [wb, eb, ub, uni]), tiles);
            const [data] = await ctx.readMany(encoder, [{ buffer: wb, bytes: m * n * 4 }]);
            uni.destroy();
            const out = new Float32Array(data!);
            for (let r = 0; r < m; r++) {
              const row = (r0 + r) * ldw + offset;
              for (let j = 0; j < n; j++) w[row + j] = out[r * n + j]!;
            }
          }
        } finally {
          wb.destroy();
          eb.destroy();
          ub.destroy();
        }
      });
    },
  };
}
