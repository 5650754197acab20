/**
 * Pruning kernels of the WASM SIMD backend (the host side; the loops are in assembly/prune.as).
 *
 * Masks (maskBelow, nmMask) are exact and stream the tensor through the heap in chunks of
 * pruneTuning.chunkElements: the kernel writes a chunk's masked values to a scratch block small enough to
 * stay in cache, the host copies them into the result, and the zero counts come back as return values.
 *  - maskBelow compares in float32 against the smallest float32 ≥ the threshold, which decides |x| < t
 *    exactly as the reference's float64 comparison does.
 *  - nmMask has two vectorised layouts, the ones pruning uses (core/compress/prune/apply.ts reductionView):
 *    rows (kStride = 1, lineStride = length: Conv [Cout, Cin·k·k], Gemm transB [N, K]), SIMD over each group of 4
 *    or 8 contiguous values; and columns (lineStride = 1, kStride = lines: MatMul [K, N]), SIMD across 4 adjacent
 *    columns, a group being m consecutive rows (the 6 or 28 pairs of a group of 4 or 8 compared once; 8 contiguous
 *    values are transposed in fours to the same form). Other M ≤ 64 run per group in wasm (rows: the reference's
 *    selection; columns: a generic SIMD rank). Groups holding a NaN run the reference's selection as written.
 *    Other views (not tiling the tensor this way), M > 64 or N > M run the TypeScript reference (pruneFallbacks).
 * channelNorms accumulates in float64 (runs per (outer, channel) for inner ≥ 16; otherwise vectorised across the
 * positions of a row, in column slabs, folded to channels on the host).
 */
import type { MaskedValues, NMView, PruneKernels } from '../prune';
import { nmMaskOf } from '../ts/prune-reference';
import type { ChannelLayout, DeviceTensor } from '../types';

export interface PruneExports {
  maskBelow(x: number, y: number, n: number, t: number): number;
  nmRows(x: number, y: number, len: number, rowLen: number, pos0: number, n: number, m: number): number;
  nmCols(x: number, y: number, rows: number, cols: number, n: number, m: number): number;
  normRuns(x: number, outer: number, channels: number, inner: number, out: number, l2: number): void;
  normRows(x: number, rows: number, w: number, j0: number, j1: number, tailLen: number, acc: number, l2: number): void;
}

/** What the pruning kernels need from the backend. */
export interface PruneHost {
  readonly k: PruneExports;
  readonly buffer: ArrayBuffer;
  alloc(bytes: number): number;
  release(at: number, bytes: number): void;
  tensor(t: DeviceTensor): { ptr: number; length: number };
}

/**
 * Tuning knobs (tests shrink them to exercise chunking and slabs; the bench compares chunk sizes).
 *  chunkElements: masked values the kernels write to the heap per call before the host copies them out;
 *  normSlab: positions (float64 accumulators) per channelNorms row-layout call.
 */
export const pruneTuning = { chunkElements: 1 << 16, normSlab: 1 << 14 };
/** Calls answered by the TypeScript reference because their view or N:M is outside the kernels' range (tests read it). */
export const pruneFallbacks = { count: 0 };
/** Largest M of the wasm kernels (the selection keeps its state in a 64-bit mask). */
const MAX_M = 64;
/** Runs from this length on are reduced one by one; shorter ones are vectorised across rows. */
const RUN_MIN = 16;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The smallest float32 ≥ t (t > 0): for a float32 a, a < t ⇔ a < this. */
function float32AtLeast(t: number): number {
  f32[0] = t;
  if (f32[0]! >= t) return f32[0]!;
  u32[0]!++; // t lies between this float32 and the next one up (+Inf above the largest)
  return f32[0]!;
}

function isCount(v: number): boolean {
  return Number.isInteger(v) && v >= 0;
}

export function wasmPruneKernels(host: PruneHost): PruneKernels {
  const { k } = host;

  /** Runs `fn` with a scratch block of `bytes`, released afterwards. */
  function withScratch<T>(bytes: number, fn: (at: number) => T): T {
    const size = Math.max(64, bytes);
    const at = host.alloc(size);
    try {
      return fn(at);
    } finally {
      host.release(at, size);
    }
  }

  async function maskBelow(t: DeviceTensor, threshold: number): Promise<MaskedValues> {
    const w = host.tensor(t);
    const n = w.length;
    const values = new Float32Array(n);
    let zeros = 0;
    if (n === 0) return { values, zeros };
    // |x| < t never holds for t ≤ 0 or NaN: 0 as the float32 threshold masks nothing either.
    const t32 = threshold > 0 ? float32AtLeast(threshold) : 0;
    const chunk = Math.min(n, Math.max(16, pruneTuning.chunkElements));
    withScratch(chunk * 4, (y) => {
      const out = new Float32Array(host.buffer, y, chunk);
      for (let e0 = 0; e0 < n; e0 += chunk) {
        const len = Math.min(chunk, n - e0);
        zeros += k.maskBelow(w.ptr + e0 * 4, y, len, t32);
        values.set(len === chunk ? out : out.subarray(0, len), e0);
      }
    });
    return { values, zeros };
  }

  async function nmMask(t: DeviceTensor, view: NMView, n: number, m: number): Promise<MaskedValues> {
    const w = host.tensor(t);
    const N = w.length;
    for (const [key, v] of Object.entries(view)) {
      if (!isCount(v)) throw new RangeError(`nmMask: view.${key} must be a non-negative integer, got ${v}`);
    }
    if (!isCount(n) || !isCount(m) || m === 0) throw new RangeError(`nmMask: N:M must be integers with N ≥ 0 and M ≥ 1, got ${n}:${m}`);
    const { lines, length, lineStride, kStride } = view;
    if (lines > 0 && length > 0 && (lines - 1) * lineStride + (length - 1) * kStride >= N) {
      throw new RangeError(`nmMask: view ${lines}×${length} (strides ${lineStride}, ${kStride}) reaches beyond the tensor's ${N} elements`);
    }
    const tiles = lines * length === N && N > 0;
    const rows = tiles && kStride === 1 && (lines === 1 || lineStride === length);
    const cols = tiles && !rows && lineStride === 1 && (length === 1 || kStride === lines);
    if ((!rows && !cols) || m > MAX_M || n > m) {
      if (N > 0) pruneFallbacks.count++;
      return nmMaskOf(new Float32Array(host.buffer, w.ptr, N), view, n, m);
    }
    const values = new Float32Array(N);
    let zeros = 0;
    const chunkTarget = Math.max(pruneTuning.chunkElements, 2 * m);
    if (rows) {
      // Chunks end on a group start or a row end.
      const L = length;
      const chunk = Math.min(N, chunkTarget);
      withScratch(chunk * 4, (y) => {
        const out = new Float32Array(host.buffer, y, chunk);
        for (let e0 = 0; e0 < N;) {
          let e1 = e0 + chunk;
          if (e1 >= N) e1 = N;
          else {
            const pos = e1 % L;
            e1 -= pos % m;
          }
          const len = e1 - e0;
          zeros += k.nmRows(w.ptr + e0 * 4, y, len, L, e0 % L, n, m);
          values.set(len === chunk ? out : out.subarray(0, len), e0);
          e0 = e1;
        }
      });
    } else {
      // Columns: [K = length, W = lines] row-major; chunks of whole groups of m rows.
      const W = lines;
      const K = length;
      const rowsPer = Math.min(K, Math.max(m, Math.floor(chunkTarget / W / m) * m));
      const chunk = rowsPer * W;
      withScratch(chunk * 4, (y) => {
        const out = new Float32Array(host.buffer, y, chunk);
        for (let r0 = 0; r0 < K; r0 += rowsPer) {
          const nr = Math.min(rowsPer, K - r0);
          zeros += k.nmCols(w.ptr + r0 * W * 4, y, nr, W, n, m);
          values.set(nr === rowsPer ? out : out.subarray(0, nr * W), r0 * W);
        }
      });
    }
    return { values, zeros };
  }

  async function channelNorms(t: DeviceTensor, layout: ChannelLayout, norm: 'l1' | 'l2'): Promise<Float64Array> {
    const w = host.tensor(t);
    const { outer, channels: C, inner } = layout;
    for (const [key, v] of Object.entries({ outer, channels: C, inner })) {
      if (!isCount(v)) throw new RangeError(`channelNorms: ${key} must be a non-negative integer, got ${v}`);
    }
    if (outer * C * inner !== w.length) throw new RangeError(`channelNorms: layout ${outer}×${C}×${inner} does not match the tensor's ${w.length} elements`);
    if (norm !== 'l1' && norm !== 'l2') throw new RangeError(`channelNorms: norm must be 'l1' or 'l2', got ${String(norm)}`);
    const l2 = norm === 'l2' ? 1 : 0;
    const out = new Float64Array(C);
    if (C > 0 && w.length > 0) {
      if (inner >= RUN_MIN) {
        withScratch(C * 8, (o) => {
          new Float64Array(host.buffer, o, C).fill(0);
          k.normRuns(w.ptr, outer, C, inner, o, l2);
          out.set(new Float64Array(host.buffer, o, C));
        });
      } else {
        // Rows of rowLen = C·inner positions, short ones widened to a multiple of 4 and at least 64 positions.
        const rowLen = C * inner;
        let rw = rowLen;
        if (rowLen < 64) {
          rw = rowLen * (4 / gcd(rowLen, 4));
          rw *= Math.ceil(64 / rw);
        }
        const fullRows = Math.floor(w.length / rw);
        const tailLen = w.length - fullRows * rw;
        const slab = Math.max(4, pruneTuning.normSlab & ~3);
        const width = Math.min(rw, slab);
        withScratch(width * 8, (acc) => {
          const sums = new Float64Array(host.buffer, acc, width);
          for (let j0 = 0; j0 < rw; j0 += width) {
            const j1 = Math.min(rw, j0 + width);
            if (fullRows === 0 && j0 >= tailLen) break;
            sums.fill(0);
            k.normRows(w.ptr, fullRows, rw, j0, j1, tailLen, acc, l2);
            for (let j = j0; j < j1; j++) out[Math.floor((j % rowLen) / inner)]! += sums[j - j0]!;
          }
        });
      }
    }
    if (l2) for (let c = 0; c < C; c++) out[c] = Math.sqrt(out[c]!);
    return out;
  }

  return { channelNorms, maskBelow, nmMask };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
