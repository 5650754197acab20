/**
 * Kernel throughput on one fp32 tensor of `elements` gaussian values, against a plain memory pass
 * (Float32Array.prototype.set copy of the same buffer) measured in the same run.
 * Each row: median of RUNS timed runs after one warm-up; gbPerS = tensor bytes / time (so rows compare
 * directly: the memory pass moves the same bytes in and out once).
 */
import type { NMView } from '../../src/kernels/prune';
import type { GroupView, Grouping } from '../../src/kernels/quant';
import { channelNormsOf, maskBelowOf, nmMaskOf } from '../../src/kernels/ts/prune-reference';
import type { DeviceTensor } from '../../src/kernels/types';
import { groupMinMaxOf, quantizeGroupsOf } from '../../src/kernels/ts/quant-reference';
import { channelStatsOf, histogramOf, momentsOf } from '../../src/kernels/ts/reference';
import { createWasmBackend } from '../../src/kernels/wasm/backend';
import { pruneTuning } from '../../src/kernels/wasm/prune-kernels';
import { timeIt } from '../timing';

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

/** Median of `runs` calls after a warm-up (which also lets the engine tier up the wasm). */
const time = (fn: () => unknown, runs = RUNS): Promise<number> => timeIt(runs, fn);

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

// ---------------------------------------------------------------------------------------------------- quantization

/** ~totalParams parameters as [2048, 2048] fp32 Gaussian weights (σ = 0.02·(1 + k/tensors) for tensor k). */
/**
 * The rows of a kernel bench, the first a memory pass over `weights` (copying every tensor): `add` records a row with
 * its throughput and its ratio to that pass.
 */
async function memoryBaseline(weights: Float32Array[], K: number, N: number, runs: number) {
  const total = weights.reduce((n, w) => n + w.length, 0);
  const rows: QuantBenchRow[] = [];
  const copies = weights.map((w) => new Float32Array(w.length));
  const memMs = await time(() => weights.forEach((w, k) => copies[k]!.set(w)), runs);
  const add = (name: string, params: number, ms: number) => {
    const mParamsPerS = params / 1e3 / ms;
    rows.push({ name, params, ms, mParamsPerS, vsMemory: memMs > 0 ? mParamsPerS / (total / 1e3 / memMs) : 1 });
  };
  add(`memory pass (Float32Array.set of ${weights.length} × [${K}, ${N}] fp32, baseline)`, total, memMs);
  return { rows, add };
}

function benchWeights(totalParams: number) {
  const K = 2048;
  const N = 2048;
  const per = K * N;
  const tensors = Math.max(1, Math.round(totalParams / per));
  const base = gaussianData(per);
  const weights = Array.from({ length: tensors }, (_, k) => {
    const w = new Float32Array(per);
    const s = 0.02 * (1 + k / tensors);
    for (let i = 0; i < per; i++) w[i] = base[(i + k * 7919) % per]! * s;
    return w;
  });
  return { K, N, per, tensors, total: tensors * per, weights };
}

export interface QuantBenchRow {
  name: string;
  /** Parameters the row processed (the TS reference runs on fewer). */
  params: number;
  ms: number;
  mParamsPerS: number;
  /** Throughput relative to the memory pass (1 = as fast as copying the floats once). */
  vsMemory: number;
}

interface QuantLayout {
  label: string;
  view: GroupView;
  grouping: Grouping;
}

/** Symmetric int8 (or `bits`) parameters from per-group min/max, as the host computes them in quantizeOn. */
function symmetricParams(min: Float32Array, max: Float32Array, bits = 8) {
  const qmax = 2 ** (bits - 1) - 1;
  const scales = new Float32Array(min.length);
  for (let g = 0; g < min.length; g++) {
    const a = Math.max(Math.abs(min[g]!), Math.abs(max[g]!));
    scales[g] = Number.isFinite(a) && a > 0 ? Math.fround(a / qmax) : 1;
  }
  const invScales = scales.map((s) => Math.fround(1 / s));
  return { scales, invScales, zeroPoints: new Int32Array(min.length), qmin: -qmax, qmax };
}

/**
 * Quantization kernels over `totalParams` parameters held as [2048, 2048] fp32 weights (≈ 4.2M each, so
 * 100M is 24 tensors: the WASM heap holds them all at once). Rows: memory pass (copy of every tensor), the
 * cost of allocating and filling quantizeGroups' output arrays alone (6 bytes per parameter), WASM upload, then per layout groupMinMax, quantizeGroups and the full int8 quantization (min/max → scales on
 * the host → quantizeGroups, the tensors already uploaded; and once more including upload and dispose),
 * and the TS reference on `referenceParams` parameters for comparison. Median of `runs` after one warm-up.
 */
export async function benchQuantKernels(
  totalParams = 100_000_000,
  options: { runs?: number; referenceParams?: number; layouts?: 'all' | 'channel' } = {},
): Promise<{ rows: QuantBenchRow[]; heapBytes: number }> {
  const runs = options.runs ?? 5;
  const { K, N, per, tensors, total, weights } = benchWeights(totalParams);
  const { rows, add } = await memoryBaseline(weights, K, N, runs);
  {
    // What quantizeGroups' interface costs by itself: fresh codes (Int16Array) and dequantized (Float32Array) arrays, filled once.
    const codes = new Int16Array(per);
    add(
      'output arrays alone (new Int16Array + Float32Array per tensor, filled by copy)',
      total,
      await time(() => {
        for (const w of weights) {
          new Float32Array(per).set(w);
          new Int16Array(per).set(codes);
        }
      }, runs),
    );
  }
  const wasm = await createWasmBackend();
  const quant = wasm.quant!;
  add(
    'WASM upload (+ dispose)',
    total,
    await time(async () => {
      for (const w of weights) (await wasm.upload(w)).dispose();
    }, runs),
  );
  const layouts: QuantLayout[] = [
    {
      label: 'per-channel, MatMul [K, N] columns (inner = 1)',
      view: { outer: K, axisLength: N, inner: 1 },
      grouping: { granularity: 'channel', blockSize: 0 },
    },
    { label: 'per-channel, Conv/Gemm rows [Cout, Cin·k·k]', view: { outer: 1, axisLength: K, inner: N }, grouping: { granularity: 'channel', blockSize: 0 } },
  ];
  if (options.layouts !== 'channel') {
    layouts.push(
      { label: 'per-block 32, Gemm transB [N, K] along K', view: { outer: N, axisLength: K, inner: 1 }, grouping: { granularity: 'block', blockSize: 32 } },
      {
        label: 'per-block 32, MatMul [K, N] along K (inner = N)',
        view: { outer: 1, axisLength: K, inner: N },
        grouping: { granularity: 'block', blockSize: 32 },
      },
      { label: 'per-tensor', view: { outer: 1, axisLength: per, inner: 1 }, grouping: { granularity: 'tensor', blockSize: 0 } },
    );
  }
  const uploaded: DeviceTensor[] = [];
  for (const w of weights) uploaded.push(await wasm.upload(w));
  try {
    for (const { label, view, grouping } of layouts) {
      const params: ReturnType<typeof symmetricParams>[] = [];
      for (const t of uploaded) {
        const { min, max } = await quant.groupMinMax(t, view, grouping);
        params.push(symmetricParams(min, max));
      }
      add(
        `WASM groupMinMax — ${label}`,
        total,
        await time(async () => {
          for (const t of uploaded) await quant.groupMinMax(t, view, grouping);
        }, runs),
      );
      add(
        `WASM quantizeGroups int8 — ${label}`,
        total,
        await time(async () => {
          for (let k = 0; k < tensors; k++) await quant.quantizeGroups(uploaded[k]!, view, grouping, params[k]!);
        }, runs),
      );
      add(
        `WASM full int8 (min/max + host params + quantizeGroups) — ${label}`,
        total,
        await time(async () => {
          for (const t of uploaded) {
            const { min, max } = await quant.groupMinMax(t, view, grouping);
            await quant.quantizeGroups(t, view, grouping, symmetricParams(min, max));
          }
        }, runs),
      );
    }
  } finally {
    uploaded.forEach((t) => t.dispose());
  }
  const channel = layouts[0]!;
  add(
    `WASM full int8 incl. upload + dispose — ${channel.label}`,
    total,
    await time(async () => {
      for (const w of weights) {
        const t = await wasm.upload(w);
        const { min, max } = await quant.groupMinMax(t, channel.view, channel.grouping);
        await quant.quantizeGroups(t, channel.view, channel.grouping, symmetricParams(min, max));
        t.dispose();
      }
    }, runs),
  );
  const refTensors = Math.max(1, Math.min(tensors, Math.round((options.referenceParams ?? 8_000_000) / per)));
  add(
    `TS reference full int8 — ${channel.label} (${refTensors} tensor${refTensors > 1 ? 's' : ''})`,
    refTensors * per,
    await time(() => {
      for (let k = 0; k < refTensors; k++) {
        const { min, max } = groupMinMaxOf(weights[k]!, channel.view, channel.grouping);
        quantizeGroupsOf(weights[k]!, channel.view, channel.grouping, symmetricParams(min, max));
      }
    }, 1),
  );
  return { rows, heapBytes: wasm.memoryBytes };
}

// ---------------------------------------------------------------------------------------------------- pruning

/**
 * Pruning kernels over `totalParams` parameters held as [2048, 2048] fp32 weights (≈ 4.2M each, so 100M is 24
 * tensors, all uploaded at once). Rows (QuantBenchRow: params, ms, M params/s, speed vs the memory pass): memory
 * pass (copy of every tensor), the result arrays alone (a fresh Float32Array per tensor, filled by copy: what
 * the interface costs by itself), WASM upload, then on the uploaded tensors maskBelow (threshold at the median
 * magnitude), nmMask 2:4 and 4:8 in the rows layout (Conv / Gemm transB, kStride 1) and the columns layout
 * (MatMul [K, N], lineStride 1), channelNorms l1/l2 per row and per column, the masks once more including
 * upload + dispose (as pruning's onDevice does per layer), and the TS reference on `referenceParams`.
 * `chunks` adds maskBelow / 2:4 rows at other pruneTuning.chunkElements. Median of `runs` after one warm-up.
 */
export async function benchPruneKernels(
  totalParams = 100_000_000,
  options: { runs?: number; referenceParams?: number; chunks?: number[] } = {},
): Promise<{ rows: QuantBenchRow[]; heapBytes: number }> {
  const runs = options.runs ?? 5;
  const { K, N, per, tensors, total, weights } = benchWeights(totalParams);
  // Median |x| of a gaussian is 0.6745σ: about half of each tensor is masked.
  const thresholds = weights.map((_, k) => 0.6745 * 0.02 * (1 + k / tensors));
  const rowsNM: NMView = { lines: N, length: K, lineStride: K, kStride: 1 };
  const colsNM: NMView = { lines: N, length: K, lineStride: 1, kStride: N };
  const perRow = { outer: 1, channels: K, inner: N };
  const perColumn = { outer: K, channels: N, inner: 1 };
  const { rows, add } = await memoryBaseline(weights, K, N, runs);
  {
    add(
      'result arrays alone (new Float32Array per tensor, filled by copy)',
      total,
      await time(() => weights.forEach((w) => new Float32Array(per).set(w)), runs),
    );
  }
  const wasm = await createWasmBackend();
  const prune = wasm.prune;
  add(
    'WASM upload (+ dispose)',
    total,
    await time(async () => {
      for (const w of weights) (await wasm.upload(w)).dispose();
    }, runs),
  );
  const uploaded: DeviceTensor[] = [];
  for (const w of weights) uploaded.push(await wasm.upload(w));
  const masks: [string, (t: DeviceTensor, k: number) => Promise<unknown>][] = [
    ['maskBelow (median |x|)', (t, k) => prune.maskBelow(t, thresholds[k]!)],
    ['nmMask 2:4 rows (Conv / Gemm transB, kStride 1)', (t) => prune.nmMask(t, rowsNM, 2, 4)],
    ['nmMask 2:4 columns (MatMul [K, N], lineStride 1)', (t) => prune.nmMask(t, colsNM, 2, 4)],
    ['nmMask 4:8 rows', (t) => prune.nmMask(t, rowsNM, 4, 8)],
    ['nmMask 4:8 columns', (t) => prune.nmMask(t, colsNM, 4, 8)],
  ];
  try {
    for (const [label, run] of masks) {
      add(
        `WASM ${label}`,
        total,
        await time(async () => {
          for (let k = 0; k < tensors; k++) await run(uploaded[k]!, k);
        }, runs),
      );
    }
    for (const [label, layout] of [
      [`per row [${K}, ${N}] (runs)`, perRow],
      [`per column [${K}, ${N}] (rows)`, perColumn],
    ] as const) {
      for (const norm of ['l1', 'l2'] as const) {
        add(
          `WASM channelNorms ${norm} ${label}`,
          total,
          await time(async () => {
            for (const t of uploaded) await prune.channelNorms(t, layout, norm);
          }, runs),
        );
      }
    }
    const defaultChunk = pruneTuning.chunkElements;
    try {
      for (const chunk of options.chunks ?? []) {
        pruneTuning.chunkElements = chunk;
        add(
          `WASM maskBelow, chunks of ${chunk}`,
          total,
          await time(async () => {
            for (let k = 0; k < tensors; k++) await prune.maskBelow(uploaded[k]!, thresholds[k]!);
          }, runs),
        );
        add(
          `WASM nmMask 2:4 rows, chunks of ${chunk}`,
          total,
          await time(async () => {
            for (const t of uploaded) await prune.nmMask(t, rowsNM, 2, 4);
          }, runs),
        );
      }
    } finally {
      pruneTuning.chunkElements = defaultChunk;
    }
  } finally {
    uploaded.forEach((t) => t.dispose());
  }
  for (const [label, run] of masks.slice(0, 3)) {
    add(
      `WASM ${label} incl. upload + dispose`,
      total,
      await time(async () => {
        for (let k = 0; k < tensors; k++) {
          const t = await wasm.upload(weights[k]!);
          await run(t, k);
          t.dispose();
        }
      }, runs),
    );
  }
  const refTensors = Math.max(1, Math.min(tensors, Math.round((options.referenceParams ?? 8_000_000) / per)));
  const refs: [string, (w: Float32Array, k: number) => unknown][] = [
    ['maskBelow', (w, k) => maskBelowOf(w, thresholds[k]!)],
    ['nmMask 2:4 rows', (w) => nmMaskOf(w, rowsNM, 2, 4)],
    ['nmMask 2:4 columns', (w) => nmMaskOf(w, colsNM, 2, 4)],
    ['channelNorms l2 per column', (w) => channelNormsOf(w, perColumn, 'l2')],
  ];
  for (const [label, run] of refs) {
    add(
      `TS reference ${label} (${refTensors} tensor${refTensors > 1 ? 's' : ''})`,
      refTensors * per,
      await time(() => {
        for (let k = 0; k < refTensors; k++) run(weights[k]!, k);
      }, 1),
    );
  }
  return { rows, heapBytes: wasm.memoryBytes };
}
