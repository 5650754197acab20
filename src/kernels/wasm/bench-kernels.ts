/**
 * Kernel throughput on one fp32 tensor of `elements` gaussian values, against a plain memory pass
 * (Float32Array.prototype.set copy of the same buffer) measured in the same run.
 * Each row: median of RUNS timed runs after one warm-up; gbPerS = tensor bytes / time (so rows compare
 * directly: the memory pass moves the same bytes in and out once).
 */
import { channelStatsOf, histogramOf, momentsOf } from '../ts/reference';
import { createWasmBackend } from './backend';

const RUNS = 5;
const BINS = 2048;

export interface KernelBenchRow {
  name: string;
  ms: number;
  gbPerS: number;
}

/** Gaussian values (Box–Muller, both outputs), seeded: fast enough for 64M elements. */
function gaussianData(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 0x2545f491;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

async function time(fn: () => unknown, runs = RUNS): Promise<number> {
  await fn(); // warm-up (also lets the engine tier up the wasm)
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1]!;
}

export async function benchKernels(elements: number): Promise<{ rows: KernelBenchRow[] }> {
  const data = gaussianData(elements);
  const bytes = elements * 4;
  const rows: KernelBenchRow[] = [];
  const add = (name: string, ms: number) => rows.push({ name, ms, gbPerS: bytes / 1e6 / ms });
  // channelStats layout: Conv/Gemm-style rows when the size allows, else one channel.
  const channels = elements % 4096 === 0 ? 4096 : 1;
  const layout = { outer: 1, channels, inner: elements / channels };
  const columns = { outer: elements / channels, channels, inner: 1 };

  {
    const copy = new Float32Array(elements);
    add('memory pass (Float32Array.set copy, baseline)', await time(() => copy.set(data)));
  }
  add(
    `TS reference moments + histogram(${BINS})`,
    await time(() => {
      const m = momentsOf(data);
      histogramOf(data, BINS, m.min, m.max);
    }, 3),
  );
  add(`TS reference channelStats(1×${channels}×${layout.inner})`, await time(() => channelStatsOf(data, layout), 3));

  const wasm = await createWasmBackend();
  add(
    'WASM upload',
    await time(async () => {
      const t = await wasm.upload(data);
      queueMicrotask(() => t.dispose()); // dispose outside the timed region
    }),
  );
  const t = await wasm.upload(data);
  try {
    const m = await wasm.moments(t);
    add('WASM moments', await time(() => wasm.moments(t)));
    add(`WASM histogram(${BINS})`, await time(() => wasm.histogram(t, BINS, m.min, m.max)));
    add(
      `WASM moments + histogram(${BINS})`,
      await time(async () => {
        const s = await wasm.moments(t);
        await wasm.histogram(t, BINS, s.min, s.max);
      }),
    );
    add(`WASM channelStats(1×${channels}×${layout.inner})`, await time(() => wasm.channelStats(t, layout)));
    if (channels > 1) add(`WASM channelStats(${columns.outer}×${channels}×1)`, await time(() => wasm.channelStats(t, columns)));
  } finally {
    t.dispose();
  }
  return { rows };
}
