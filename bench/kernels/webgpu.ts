/**
 * GPU-side timings of the WebGPU kernels against a plain buffer copy (the memory-bandwidth baseline).
 *
 * Kernel rows time GPU work only: the job's commands (prepared once: buffers, bind groups) are encoded
 * `reps` times into one command buffer, submitted, and timed to `queue.onSubmittedWorkDone()`; `reps` is
 * chosen so one sample takes ≥ ~20 ms (a 64 MB pass on a big GPU takes ~20 µs, far below submit latency),
 * and ms is per repetition. Median of `samples` (≥ 5) after warm-up. "end-to-end" rows time the public
 * API call, readback included. GB/s counts bytes moved in memory: a kernel reads the tensor once (its
 * small outputs are ignored), moments+histogram reads it twice, a copy reads and writes it, quantizeGroups
 * reads it and writes the dequantized values and one byte of code per element (9 bytes per element); maskBelow
 * reads and writes each element (8 bytes); nmMask copies the tensor into its window buffer, reads it in the group
 * kernel and again to count zeros (16 bytes per element; the zeroing writes are not counted); channelNorms reads
 * the tensor once.
 */
import type { NMView } from '../../src/kernels/prune';
import type { GroupView } from '../../src/kernels/quant';
import type { ChannelLayout } from '../../src/kernels/types';
import { createWebGpuBackend, planChannelStats, type Job, type WebGpuBackend } from '../../src/kernels/webgpu/backend';

export interface BenchRow {
  name: string;
  /** Milliseconds per operation (median). */
  ms: number;
  gbPerS: number;
}

export interface BenchOptions {
  samples?: number;
  warmup?: number;
  /** Target milliseconds per timed sample (repetitions are batched up to this). */
  targetMs?: number;
  /** Called after each row (progress output). */
  onRow?: (row: BenchRow) => void;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Uniform-ish test data in [-1, 1) from a fast LCG (Box–Muller is too slow for 10^9 elements). */
function benchData(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

export async function benchWebGpu(gpu: GPU, elements: number, options: BenchOptions = {}): Promise<BenchRow[]> {
  const samples = Math.max(5, options.samples ?? 7);
  const warmup = options.warmup ?? 2;
  const targetMs = options.targetMs ?? 20;
  const backend = await createWebGpuBackend(gpu, { powerPreference: 'high-performance' });
  if (!backend) throw new Error('no WebGPU adapter');
  const n = Math.max(1024, Math.ceil(elements / 1024) * 1024);
  const bytes = n * 4;
  const rows: BenchRow[] = [];
  const add = (name: string, ms: number, moved: number) => {
    const row = { name, ms, gbPerS: moved / (ms / 1000) / 1e9 };
    rows.push(row);
    options.onRow?.(row);
  };
  const { device } = backend;
  const queue = device.queue;

  /** Median ms per repetition of GPU work encoded by `encode`. */
  const timeGpu = async (encode: (encoder: GPUCommandEncoder) => void): Promise<number> => {
    const once = async (reps: number) => {
      const encoder = device.createCommandEncoder();
      for (let r = 0; r < reps; r++) encode(encoder);
      const commands = encoder.finish();
      const t0 = performance.now();
      queue.submit([commands]);
      await queue.onSubmittedWorkDone();
      return (performance.now() - t0) / reps;
    };
    for (let i = 0; i < warmup; i++) await once(1);
    const single = await once(1);
    const reps = Math.max(1, Math.min(200, Math.ceil(targetMs / Math.max(single, 1e-3))));
    const times: number[] = [];
    for (let i = 0; i < samples; i++) times.push(await once(reps));
    return median(times);
  };
  const timeCall = async (call: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < warmup; i++) await call();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await call();
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  const timeJob = async <T>(job: Job<T>) => {
    try {
      return await timeGpu((encoder) => job.encode(encoder));
    } finally {
      job.destroy();
    }
  };

  try {
    const data = benchData(n);
    const t = await backend.upload(data);
    await queue.onSubmittedWorkDone();

    // upload: one writeBuffer of the whole tensor into an existing buffer
    const copyBytes = Math.min(bytes, Math.floor(device.limits.maxBufferSize / 16) * 16);
    const src = device.createBuffer({ size: copyBytes, usage: 0x80 | 0x04 | 0x08 }); // STORAGE | COPY_SRC | COPY_DST
    const dst = device.createBuffer({ size: copyBytes, usage: 0x80 | 0x08 });
    try {
      const ms = await timeCall(async () => {
        queue.writeBuffer(src, 0, data.buffer, 0, copyBytes);
        await queue.onSubmittedWorkDone();
      });
      add('upload (writeBuffer)', ms, copyBytes);
      add('copy (copyBufferToBuffer, baseline)', await timeGpu((e) => e.copyBufferToBuffer(src, 0, dst, 0, copyBytes)), 2 * copyBytes);
    } finally {
      src.destroy();
      dst.destroy();
    }

    add('moments', await timeJob(await backend.jobs.moments(t)), bytes);
    add('histogram (256 bins)', await timeJob(await backend.jobs.histogram(t, 256, -1, 1)), bytes);
    add('histogram (16384 bins, global atomics)', await timeJob(await backend.jobs.histogram(t, 16384, -1, 1)), bytes);
    {
      const m = await backend.jobs.moments(t);
      const h = await backend.jobs.histogram(t, 256, -1, 1);
      try {
        add('moments + histogram', await timeGpu((e) => (m.encode(e), h.encode(e))), 2 * bytes);
      } finally {
        m.destroy();
        h.destroy();
      }
    }
    const layouts: [string, ChannelLayout][] = [
      ['rows', { outer: 1, channels: 1024, inner: n / 1024 }],
      ['columns', { outer: n / 1024, channels: 1024, inner: 1 }],
      ['middle axis', { outer: 16, channels: 64, inner: n / 1024 }],
      ['many channels', { outer: 1, channels: n / 1024, inner: 1024 }],
      ['tiny channels', { outer: 1, channels: n / 16, inner: 16 }],
    ];
    for (const [what, layout] of layouts) {
      const kind = planChannelStats(layout).kind;
      add(
        `channelStats ${what} [${layout.outer}, ${layout.channels}, ${layout.inner}] (${kind})`,
        await timeJob(await backend.jobs.channelStats(t, layout)),
        bytes,
      );
    }
    // int8 symmetric per-channel quantization (scale 1/127: the data lie in [-1, 1))
    const quantViews: [string, GroupView][] = [
      ['rows', { outer: 1, axisLength: 1024, inner: n / 1024 }],
      ['columns', { outer: n / 1024, axisLength: 1024, inner: 1 }],
    ];
    const channel = { granularity: 'channel', blockSize: 1 } as const;
    const scales = new Float32Array(1024).fill(Math.fround(1 / 127));
    const int8 = { scales, invScales: scales.map((v) => Math.fround(1 / v)), zeroPoints: new Int32Array(1024), qmin: -127, qmax: 127 };
    for (const [what, view] of quantViews) {
      add(
        `quantizeGroups int8 per-channel ${what} [${view.outer}, ${view.axisLength}, ${view.inner}]`,
        await timeJob(await backend.jobs.quantizeGroups(t, view, channel, int8)),
        9 * n,
      );
    }
    // pruning: magnitude mask, 2:4 on rows (Gemm transB [N, K]) and columns (MatMul [K, N]), channel norms
    add('maskBelow (threshold 0.5)', await timeJob(await backend.jobs.maskBelow(t, 0.5)), 8 * n);
    const nmViews: [string, NMView][] = [
      ['rows [N=1024, K]', { lines: 1024, length: n / 1024, lineStride: n / 1024, kStride: 1 }],
      ['columns [K, N=1024]', { lines: 1024, length: n / 1024, lineStride: 1, kStride: 1024 }],
    ];
    for (const [what, view] of nmViews) add(`nmMask 2:4 ${what}`, await timeJob(await backend.jobs.nmMask(t, view, 2, 4)), 16 * n);
    for (const [what, layout] of [layouts[0]!, layouts[1]!]) {
      for (const norm of ['l1', 'l2'] as const) {
        add(
          `channelNorms ${norm} ${what} [${layout.outer}, ${layout.channels}, ${layout.inner}] (${planChannelStats(layout).kind})`,
          await timeJob(await backend.jobs.channelNorms(t, layout, norm)),
          bytes,
        );
      }
    }
    add('maskBelow, end-to-end (API incl. readback)', await timeCall(() => backend.prune.maskBelow(t, 0.5)), 8 * n);
    add('nmMask 2:4 columns, end-to-end (API incl. readback)', await timeCall(() => backend.prune.nmMask(t, nmViews[1]![1], 2, 4)), 16 * n);
    add(
      'quantizeGroups int8 per-channel rows, end-to-end (API incl. readback)',
      await timeCall(() => backend.quant.quantizeGroups(t, quantViews[0]![1], channel, int8)),
      9 * n,
    );
    add('moments, end-to-end (API incl. readback)', await timeCall(() => backend.moments(t)), bytes);
    add('histogram, end-to-end (API incl. readback)', await timeCall(() => backend.histogram(t, 256, -1, 1)), bytes);
    add('gatherBins 1 bin, end-to-end', await timeCall(() => backend.gatherBins(t, 4096, -1, 1, Int32Array.of(2048))), 2 * bytes);
    t.dispose();
  } finally {
    (backend as WebGpuBackend).destroy();
  }
  return rows;
}

export function formatBenchTable(rows: BenchRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  const lines = [`${'kernel'.padEnd(w)}  ${'ms'.padStart(10)}  ${'GB/s'.padStart(9)}`, '-'.repeat(w + 23)];
  for (const r of rows) lines.push(`${r.name.padEnd(w)}  ${r.ms.toFixed(3).padStart(10)}  ${r.gbPerS.toFixed(1).padStart(9)}`);
  return lines.join('\n');
}
