/**
 * The WASM SIMD kernel backend. The kernels are AssemblyScript (assembly/index.as and its family files) compiled by
 * scripts/build-wasm.mjs into kernels.generated.ts (base64), so the same code loads in Node and in
 * Web Workers without fetch paths.
 *
 * Memory: each backend owns one wasm instance and its linear memory. `upload` copies the tensor into
 * that heap once; a first-fit free list (coalescing, 64-byte aligned) reuses space after `dispose`,
 * and memory grows on demand up to HEAP_LIMIT_BYTES (1 GiB), beyond which allocation fails clearly.
 *
 * Quantization and pruning kernels live in quant-kernels.ts and prune-kernels.ts, on the same instance and heap.
 */
import { histogramParams, type ChannelLayout, type ChannelStats, type DeviceTensor, type KernelBackend, type MomentStats } from '../types';
import type { PruneKernels } from '../prune';
import type { QuantKernels } from '../quant';
import { asyncLinalg, type HostLinalgKernels, type LinalgKernels } from '../linalg';
import { KERNELS_WASM_BASE64 } from './kernels.generated';
import { wasmLinalgKernels, type LinalgExports } from './linalg-kernels';
import { wasmPruneKernels, type PruneExports } from './prune-kernels';
import { wasmQuantKernels, type QuantExports } from './quant-kernels';

const PAGE = 65536;
/** Total wasm memory the backend may use (tensors and scratch together); matches the module's maximum. */
export const HEAP_LIMIT_BYTES = 16384 * PAGE;
const ALIGN = 64;
/** Elements decoded per call of decodeHalf's kernel (bounds its scratch). */
const DECODE_CHUNK = 1 << 20;
/** Sub-histograms (one per SIMD lane) used when the bins fit comfortably in cache. */
const HIST_COPIES = 4;
/** Largest bin count for the SIMD histogram path (its float-to-int trick needs bins - 1 < 2^23). */
const SIMD_MAX_BINS = 1 << 22;
/** Run length from which channelStats reduces each (outer, channel) run on its own. */
const RUN_MIN_INNER = 16;
/** Largest super-row (positions) for the vectorised-across-channels channelStats path. */
const MAX_ROW_POSITIONS = 1 << 16;

interface KernelExports extends QuantExports, PruneExports, LinalgExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  moments(ptr: number, n: number, out: number): void;
  channelRuns(ptr: number, outer: number, channels: number, inner: number, oMin: number, oMax: number, oSum: number, oSumSq: number): void;
  channelRows(
    ptr: number,
    n: number,
    rowLen: number,
    w4: number,
    channels: number,
    inner: number,
    scratch: number,
    oMin: number,
    oMax: number,
    oSum: number,
    oSumSq: number,
  ): void;
  histogram(ptr: number, n: number, lo: number, hi: number, scale: number, bins: number, sub: number, stride: number, exact: number): void;
  mergeHistograms(sub: number, stride: number, copies: number, bins: number): void;
  gather(ptr: number, n: number, lo: number, hi: number, scale: number, bins: number, exact: number, slots: number, cursors: number): void;
  decodeFp16(src: number, dst: number, n: number): void;
  decodeBf16(src: number, dst: number, n: number): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function compileKernels(): Promise<WebAssembly.Module> {
  if (typeof WebAssembly === 'undefined') return Promise.reject(new Error('WebAssembly is not available'));
  compiled ??= WebAssembly.compile(wasmBytes()).catch((e: unknown) => {
    compiled = undefined;
    throw new Error(`WASM SIMD kernels failed to compile (this engine may lack WebAssembly SIMD): ${e instanceof Error ? e.message : String(e)}`);
  });
  return compiled;
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** First-fit allocator over the wasm heap: free blocks sorted by address and coalesced; a bump top above them. */
class Heap {
  private readonly free: { at: number; size: number }[] = [];
  private top: number;
  inUse = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = base;
  }

  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < size) continue;
      const at = b.at;
      if (b.size === size) this.free.splice(i, 1);
      else {
        b.at += size;
        b.size -= size;
      }
      this.inUse += size;
      return at;
    }
    const at = this.top;
    const end = at + size;
    if (end > HEAP_LIMIT_BYTES) {
      throw new RangeError(
        `WASM kernel heap limit exceeded: cannot allocate ${MB(bytes)} with ${MB(this.inUse)} in use (limit ${MB(HEAP_LIMIT_BYTES)}, 1 GiB in total). Dispose tensors that are no longer needed.`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch (e) {
        throw new RangeError(`WASM kernel heap could not grow to ${MB(end)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.top = end;
    this.inUse += size;
    return at;
  }

  release(at: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.inUse -= size;
    let i = 0;
    while (i < this.free.length && this.free[i]!.at < at) i++;
    this.free.splice(i, 0, { at, size });
    // Coalesce with the following and the preceding block.
    const next = this.free[i + 1];
    if (next && at + size === next.at) {
      this.free[i]!.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.at + prev.size === at) {
      prev.size += this.free[i]!.size;
      this.free.splice(i, 1);
      i--;
    }
    // A free block that reaches the top goes back to the bump region.
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }
}

class WasmTensor implements DeviceTensor {
  disposed = false;
  constructor(
    readonly owner: WasmBackend,
    readonly ptr: number,
    readonly length: number,
  ) {}
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owner.releaseTensor(this);
  }
}

/** The WASM backend, with a few introspection helpers beyond KernelBackend (used by tests and the bench). */
export interface WasmKernelBackend extends KernelBackend {
  /** Current size of the wasm linear memory. */
  readonly memoryBytes: number;
  /** Bytes currently allocated (tensors and scratch). */
  readonly heapInUse: number;
  /** Pruning kernels (./prune-kernels.ts): always present on this backend. */
  readonly prune: PruneKernels;
  readonly linalg: LinalgKernels;
  /** The linear-algebra kernels, synchronous (./linalg-kernels.ts; ../host.ts installs them). */
  readonly hostLinalg: HostLinalgKernels;
}

class WasmBackend implements WasmKernelBackend {
  readonly name = 'wasm' as const;
  private readonly k: KernelExports;
  private readonly heap: Heap;
  /** 64 bytes of result space for `moments` and the quantization kernels. */
  private readonly out: number;
  readonly quant: QuantKernels;
  readonly prune: PruneKernels;
  readonly linalg: LinalgKernels;
  readonly hostLinalg: HostLinalgKernels;

  constructor(instance: WebAssembly.Instance) {
    this.k = instance.exports as unknown as KernelExports;
    // The first 64 bytes are never handed out: address 0 is the histogram kernel's dummy counter.
    const base = Math.max(ALIGN, Math.ceil(this.k.heapBase() / ALIGN) * ALIGN);
    this.heap = new Heap(this.k.memory, base);
    this.out = this.heap.alloc(64);
    const bufferNow = () => this.buffer;
    const host = {
      k: this.k,
      get buffer() {
        return bufferNow();
      },
      out: this.out,
      alloc: (bytes: number) => this.heap.alloc(bytes),
      release: (at: number, bytes: number) => this.heap.release(at, bytes),
      tensor: (t: DeviceTensor) => {
        const w = this.tensor(t);
        return { ptr: w.ptr, length: w.length };
      },
    };
    this.quant = wasmQuantKernels(host);
    this.prune = wasmPruneKernels(host);
    this.hostLinalg = wasmLinalgKernels(host);
    this.linalg = asyncLinalg(this.hostLinalg);
  }

  get memoryBytes(): number {
    return this.heap.bytes;
  }
  get heapInUse(): number {
    return this.heap.inUse;
  }

  private get buffer(): ArrayBuffer {
    return this.k.memory.buffer;
  }

  private tensor(t: DeviceTensor): WasmTensor {
    if (!(t instanceof WasmTensor) || t.owner !== this) throw new Error('tensor was uploaded to another backend');
    if (t.disposed) throw new Error('tensor was disposed');
    return t;
  }

  releaseTensor(t: WasmTensor): void {
    if (t.length > 0) this.heap.release(t.ptr, t.length * 4);
  }

  /** Runs `fn` with a zero-filled scratch block, released afterwards. */
  private withScratch<T>(bytes: number, fn: (at: number) => T): T {
    const at = this.heap.alloc(bytes);
    try {
      new Uint8Array(this.buffer, at, bytes).fill(0);
      return fn(at);
    } finally {
      this.heap.release(at, bytes);
    }
  }

  async upload(data: Float32Array): Promise<DeviceTensor> {
    if (data.length === 0) return new WasmTensor(this, 0, 0);
    const ptr = this.heap.alloc(data.length * 4);
    new Float32Array(this.buffer, ptr, data.length).set(data);
    return new WasmTensor(this, ptr, data.length);
  }

  async moments(t: DeviceTensor): Promise<MomentStats> {
    const { ptr, length } = this.tensor(t);
    this.k.moments(ptr, length, this.out);
    const r = new Float64Array(this.buffer, this.out, 8);
    const [nanCount, posInfCount, negInfCount, zeroCount, lo, hi, sum, sumSq] = [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!, r[7]!];
    const finite = length - nanCount - posInfCount - negInfCount;
    const min = finite ? lo : NaN;
    const max = finite ? hi : NaN;
    return { count: length, nanCount, posInfCount, negInfCount, zeroCount, min, max, sum, sumSq, absMax: finite ? Math.max(-min, max) : NaN };
  }

  private histogramInto(t: WasmTensor, bins: number, lo: number, hi: number): Uint32Array {
    const p = histogramParams(bins, lo, hi);
    const exact = !(Number.isFinite(p.lo) && Number.isFinite(p.hi) && Number.isFinite(p.scale)) || bins > SIMD_MAX_BINS;
    const copies = exact || bins > 65536 || t.length < 1 << 16 ? 1 : HIST_COPIES;
    let stride = Math.ceil(((bins + 1) * 4) / ALIGN) * ALIGN;
    if (stride % 4096 === 0) stride += ALIGN; // keep the copies' entries off the same cache sets
    return this.withScratch(stride * copies, (sub) => {
      this.k.histogram(t.ptr, t.length, p.lo, p.hi, p.scale, bins, sub, copies === 1 ? 0 : stride, exact ? 1 : 0);
      if (copies > 1) this.k.mergeHistograms(sub, stride, copies, bins);
      return new Uint32Array(this.buffer, sub, bins).slice();
    });
  }

  async histogram(t: DeviceTensor, bins: number, lo: number, hi: number): Promise<Uint32Array> {
    checkBins(bins);
    const w = this.tensor(t);
    if (bins === 0) return new Uint32Array(0);
    return this.histogramInto(w, bins, lo, hi);
  }

  async channelStats(t: DeviceTensor, { outer, channels, inner }: ChannelLayout): Promise<ChannelStats> {
    const w = this.tensor(t);
    for (const [k, v] of Object.entries({ outer, channels, inner })) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`channelStats: ${k} must be a non-negative integer, got ${v}`);
    }
    if (outer * channels * inner !== w.length) {
      throw new RangeError(`channelStats: layout ${outer}×${channels}×${inner} does not match the tensor's ${w.length} elements`);
    }
    const C = channels;
    const minArr = new Float32Array(C).fill(NaN);
    const maxArr = new Float32Array(C).fill(NaN);
    const sum = new Float64Array(C);
    const sumSq = new Float64Array(C);
    if (C > 0 && w.length > 0) {
      const outBytes = 24 * C + 4 * ALIGN;
      this.withScratch(outBytes, (o) => {
        const oMin = o;
        const oMax = align(oMin + 4 * C);
        const oSum = align(oMax + 4 * C);
        const oSumSq = align(oSum + 8 * C);
        const rowLen = C * inner;
        // Smallest multiple of rowLen that is a multiple of 4 and at least 64 positions.
        let w4 = rowLen * (4 / gcd(rowLen, 4));
        w4 *= Math.max(1, Math.ceil(64 / w4));
        if (inner >= RUN_MIN_INNER || w4 > MAX_ROW_POSITIONS) {
          this.k.channelRuns(w.ptr, outer, C, inner, oMin, oMax, oSum, oSumSq);
        } else {
          this.withScratch(32 * w4, (scratch) => this.k.channelRows(w.ptr, w.length, rowLen, w4, C, inner, scratch, oMin, oMax, oSum, oSumSq));
        }
        const buf = this.buffer;
        minArr.set(new Float32Array(buf, oMin, C));
        maxArr.set(new Float32Array(buf, oMax, C));
        sum.set(new Float64Array(buf, oSum, C));
        sumSq.set(new Float64Array(buf, oSumSq, C));
      });
    }
    const absMax = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      if (minArr[c] === Infinity) minArr[c] = maxArr[c] = NaN;
      absMax[c] = Math.max(-minArr[c]!, maxArr[c]!);
    }
    return { min: minArr, max: maxArr, absMax, sum, sumSq };
  }

  async gatherBins(t: DeviceTensor, bins: number, lo: number, hi: number, wanted: Int32Array): Promise<Float32Array[]> {
    checkBins(bins);
    const w = this.tensor(t);
    // Like the reference: a bin listed twice gathers into its last slot; bins out of range gather nothing.
    const slotOf = new Int32Array(bins + 1).fill(-1);
    wanted.forEach((b, k) => {
      if (b >= 0 && b < bins) slotOf[b] = k;
    });
    const out = Array.from({ length: wanted.length }, () => new Float32Array(0));
    if (bins === 0 || w.length === 0 || !wanted.some((b, k) => b >= 0 && b < bins && slotOf[b] === k)) return out;
    const counts = this.histogramInto(w, bins, lo, hi);
    const sizes = Array.from(wanted, (b, k) => (b >= 0 && b < bins && slotOf[b] === k ? counts[b]! : 0));
    const total = sizes.reduce((a, b) => a + b, 0);
    const p = histogramParams(bins, lo, hi);
    const exact = !(Number.isFinite(p.lo) && Number.isFinite(p.hi) && Number.isFinite(p.scale));
    const slotsBytes = (bins + 1) * 4;
    const cursorsBytes = wanted.length * 4;
    const valuesBytes = total * 4;
    const slotsAt = 0;
    const cursorsAt = align(slotsBytes);
    const valuesAt = align(cursorsAt + cursorsBytes);
    this.withScratch(valuesAt + valuesBytes, (s) => {
      const buf = this.buffer;
      new Int32Array(buf, s + slotsAt, bins + 1).set(slotOf);
      const starts: number[] = [];
      let at = s + valuesAt;
      const cursors = new Uint32Array(buf, s + cursorsAt, wanted.length);
      sizes.forEach((n, k) => {
        starts.push(at);
        cursors[k] = at;
        at += n * 4;
      });
      this.k.gather(w.ptr, w.length, p.lo, p.hi, p.scale, bins, exact ? 1 : 0, s + slotsAt, s + cursorsAt);
      const after = this.buffer;
      sizes.forEach((n, k) => {
        if (n > 0) out[k] = new Float32Array(after, starts[k]!, n).slice();
      });
    });
    return out;
  }

  async decodeHalf(bits: Uint16Array, kind: 'fp16' | 'bf16'): Promise<Float32Array> {
    const n = bits.length;
    const out = new Float32Array(n);
    if (n === 0) return out;
    const chunk = Math.min(n, DECODE_CHUNK);
    const srcBytes = align(chunk * 2);
    const decode = kind === 'fp16' ? this.k.decodeFp16 : this.k.decodeBf16;
    this.withScratch(srcBytes + chunk * 4, (s) => {
      const buf = this.buffer;
      const src = new Uint16Array(buf, s, chunk);
      const dst = new Float32Array(buf, s + srcBytes, chunk);
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        src.set(bits.subarray(i, i + m));
        decode(s, s + srcBytes, m);
        out.set(m === chunk ? dst : dst.subarray(0, m), i);
      }
    });
    return out;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 0 || bins > 1 << 26) throw new RangeError(`histogram: bins must be an integer in [0, 2^26], got ${bins}`);
}

/** Compiles (once per realm) and instantiates the kernels; each backend gets its own memory. */
export async function createWasmBackend(): Promise<WasmKernelBackend> {
  const module = await compileKernels();
  const instance = await WebAssembly.instantiate(module, {});
  return new WasmBackend(instance);
}
