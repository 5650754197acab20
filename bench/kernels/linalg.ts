/**
 * GPTQ's linear algebra (src/kernels/linalg.ts) on the TypeScript reference and on WASM SIMD, in one run:
 *   - the kernels on synthetic data: XᵀX of X [4096, 512], the block update [512, 128]·[128, 512];
 *   - on the real openWakeWord embedding model: the Hessians' accumulation from its captured layer inputs, and GPTQ
 *     (4-bit, blocks of 32) end to end through compressModel, with the host kernels set to TS (before) or WASM (after).
 * Both backends give the same bits (test/kernels/linalg-parity.ts), so only time differs.
 */
import { installHostLinalg } from '../../src/kernels/host';
import type { HostLinalgKernels } from '../../src/kernels/linalg';
import { referenceLinalg } from '../../src/kernels/ts/linalg-reference';
import { createWasmBackend } from '../../src/kernels/wasm/backend';
import { compressModel } from '../../src/core/compress/compress';
import { openModel } from '../../src/core/onnx/open';
import { bytesSource } from '../../src/core/onnx/source';
import { DEFAULT_QUANTIZE } from '../../src/core/recipe';
import type { EvalSample } from '../../src/core/eval/types';
import { captureActivations } from '../../src/core/teacher/capture';
import { gptq, gridOf, Hessian } from '../../src/core/teacher/gptq';
import { accumulateLayer, gptqLayers } from '../../src/core/teacher/gptq-layers';
import { createNodeRuntime } from '../../src/runtime/ort-node';
import { readRealModel } from '../../test/helpers/models';
import { melWindows } from '../../test/helpers/wakeword';
import { gaussian } from '../../test/kernels/parity';
import { timeIt } from '../timing';

type Table = (title: string, headers: string[], rows: string[][]) => void;

/** One after the other (timeIt awaits between runs: concurrent timings would include each other). */
async function each<T>(items: T[], f: (item: T) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (const item of items) out.push(await f(item));
  return out;
}

export async function benchLinalg(printTable: Table, runs = Number(process.env.BENCH_LINALG_RUNS ?? 3)): Promise<void> {
  const wasm = (await createWasmBackend()).hostLinalg;
  const kernels: HostLinalgKernels[] = [referenceLinalg, wasm];
  const rows: string[][] = [];
  const row = (what: string, macs: number, ms: number[]) =>
    rows.push([what, ms[0]!.toFixed(1), ms[1]!.toFixed(1), `${(ms[0]! / ms[1]!).toFixed(1)}×`, `${(macs / ms[1]! / 1e6).toFixed(2)}`]);

  const [gr, gk] = [4096, 512];
  const x = Float32Array.from(gaussian(gr * gk, 1), (v, i) => (i % 3 ? Math.max(0, v) : v)); // a third ReLU-like zeros
  const h = new Float64Array(gk * gk);
  row(
    `XᵀX, X [${gr}, ${gk}] (upper triangle, float64)`,
    (gr * gk * (gk + 1)) / 2,
    await each(kernels, (k) => timeIt(runs, () => k.accumulateGram(h, x, gr, gk, 1))),
  );
  const [ur, uk, un] = [512, 128, 512];
  const args = {
    w: Float64Array.from(gaussian(ur * un, 2)),
    ldw: un,
    offset: 0,
    err: Float64Array.from(gaussian(ur * uk, 3)),
    lde: uk,
    u: Float64Array.from(gaussian(uk * un, 4)),
    rows: ur,
    k: uk,
    n: un,
  };
  row(
    `block update W [${ur}, ${un}] −= E [${ur}, ${uk}] · U [${uk}, ${un}] (float64)`,
    ur * uk * un,
    await each(kernels, (k) => timeIt(runs, () => k.blockUpdate(args))),
  );

  // One wide layer with many outputs, where the lazy updates outweigh the host's Cholesky (O(cols³), stays in TS).
  const [lr, lc] = [2048, 512];
  const lw = gaussian(lr * lc, 5);
  const hs = new Hessian(lc);
  hs.addRows(x, gr);
  const lh = hs.finish();
  const grid = gridOf(
    { outer: 1, axisLength: lr, inner: lc },
    { granularity: 'channel', blockSize: 0 },
    new Float32Array(lr).fill(0.05),
    new Int32Array(lr),
    -8,
    7,
  );
  const layerMs: number[] = [];
  for (const k of kernels) {
    installHostLinalg(k);
    layerMs.push(await timeIt(1, () => gptq(lw, lr, lc, lh, grid, { blockSize: 128 })));
  }
  row(`gptq() of one [${lr}, ${lc}] layer, 4-bit per channel, blocks of 128 (its lazy updates: MACs column)`, (lr * lc * lc) / 2, layerMs);

  // The real model: captured inputs of every GPTQ layer, kept to time the accumulation alone.
  const bytes = readRealModel('embedding_model.onnx');
  const dims = [1, 76, 32, 1];
  const samples: EvalSample[] = [...(await melWindows(3, 12)), ...(await melWindows(5, 12))].map((data, i) => ({
    id: `calib ${i}`,
    feeds: { input_1: { dtype: 'float32', dims, data } },
  }));
  const runtime = createNodeRuntime({ threads: 1 });
  const captured: { name: string; values: Float32Array; dims: readonly number[] }[] = [];
  const layerInputs = [...new Set([...gptqLayers(bytes).values()].map((l) => l.input))];
  await captureActivations(runtime, bytes, layerInputs, samples, {
    statistics: false,
    maxTensorsPerRun: 16,
    onTensor: (name, values, d) => captured.push({ name, values: Float32Array.from(values), dims: d }),
  });
  const accumulate = () => {
    const layers = gptqLayers(bytes);
    const byInput = new Map<string, ReturnType<typeof gptqLayers> extends Map<string, infer L> ? L[] : never>();
    for (const l of layers.values()) byInput.set(l.input, [...(byInput.get(l.input) ?? []), l]);
    for (const c of captured) for (const l of byInput.get(c.name) ?? []) accumulateLayer(l, c.values, c.dims);
    return layers;
  };
  let layers = accumulate();
  const macs = [...layers.values()].reduce((a, l) => a + l.hessians.reduce((b, hs) => b + (hs.rows * hs.k * (hs.k + 1)) / 2, 0), 0);
  const hess: number[] = [];
  for (const k of kernels) {
    installHostLinalg(k);
    hess.push(await timeIt(1, () => (layers = accumulate())));
  }
  row(`Hessians of the embedding model's ${layers.size} layers (${samples.length} samples, im2col)`, macs, hess);
  const recipe = { version: 1 as const, quantize: { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block' as const, blockSize: 32, gptq: { enabled: true } } };
  const gptqMs: number[] = [];
  for (const k of kernels) {
    installHostLinalg(k);
    gptqMs.push(await timeIt(1, async () => compressModel(await openModel([bytesSource('m.onnx', bytes)]), recipe, { gptq: { layers, options: {} } })));
  }
  installHostLinalg(wasm);
  rows.push([
    'GPTQ 4-bit (blocks of 32) of the embedding model end to end (compressModel)',
    gptqMs[0]!.toFixed(0),
    gptqMs[1]!.toFixed(0),
    `${(gptqMs[0]! / gptqMs[1]!).toFixed(2)}×`,
    '—',
  ]);
  printTable(
    `GPTQ linear algebra — TS reference vs WASM SIMD (same bits; median of ${runs} runs after warm-up, model rows 1 run)`,
    ['work', 'TS ms', 'WASM ms', 'speed-up', 'WASM GMAC/s'],
    rows,
  );
}
