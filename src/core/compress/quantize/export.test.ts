/**
 * Every export path is loaded in onnxruntime-node and run against the original on the same inputs.
 * Two checks per path:
 *  - exactness of the writer: the quantized model equals the original model with each weight replaced by
 *    the dequantized values we computed (max abs difference ≤ 1e-4 relative to the output scale), which
 *    proves packing, layouts, axes, block sizes and zero points are read by onnxruntime as we wrote them;
 *  - fidelity: cosine and SQNR of the outputs vs the original, with the thresholds stated per case.
 * Sessions use graph optimisation level 'basic' so onnxruntime does not re-quantize activations.
 */
import { create } from '@bufbuild/protobuf';
import {
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
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRealModel } from '../../../../test/helpers/models';
import { buildCatalog, replaceTensor } from '../../onnx/catalog';
import { decodeModel, encodeModel } from '../../onnx/codec';
import { openModel, summarizeModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_QUANTIZE, type QuantizeRecipe } from '../../recipe';
import { DataType } from '../../tensor/dtypes';
import { buildSubgraphs } from '../../../../test/fixtures/build';
import { mlp } from '../../../../test/fixtures/convnets';
import { quantizeModel } from '../compress';

const SESSION: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 };

function demoInputs(count: number): ort.Tensor {
  const json = JSON.parse(readFileSync('public/demo/mnist-test.json', 'utf8'));
  const pixels = Buffer.from(json.pixels, 'base64');
  return new ort.Tensor(
    'float32',
    Float32Array.from(pixels.subarray(0, count * 784), (p) => p / 255),
    [count, 1, 28, 28],
  );
}
function demoLabels(count: number): number[] {
  return JSON.parse(readFileSync('public/demo/mnist-test.json', 'utf8')).labels.slice(0, count);
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, SESSION);
  const out = await s.run(feeds);
  const data = out[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return data;
}

function compare(ref: Float32Array, got: Float32Array) {
  let dot = 0,
    nr = 0,
    ng = 0,
    noise = 0,
    maxAbs = 0,
    scale = 0;
  for (let i = 0; i < ref.length; i++) {
    dot += ref[i]! * got[i]!;
    nr += ref[i]! ** 2;
    ng += got[i]! ** 2;
    noise += (ref[i]! - got[i]!) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(ref[i]! - got[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { cosine: dot / Math.sqrt(nr * ng), sqnrDb: 10 * Math.log10(nr / noise), maxAbs, scale };
}

/** The original model with every quantized weight replaced by its dequantized float values. */
function simulatedModel(original: Uint8Array, dequantized: Map<string, Float32Array>): Uint8Array {
  const model = decodeModel(original);
  for (const entry of buildCatalog(model).entries) {
    const values = dequantized.get(entry.name);
    if (!values) continue;
    replaceTensor(
      entry,
      create(TensorProtoSchema, { dataType: DataType.FLOAT, dims: entry.tensor.dims, rawData: new Uint8Array(values.buffer as ArrayBuffer) }),
    );
  }
  return encodeModel(model);
}

const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));

interface Case {
  title: string;
  recipe: Partial<QuantizeRecipe>;
  minCosine: number;
  minSqnrDb: number;
  /** Formats expected in the written model. */
  expectOps: string[];
}

const DEMO_CASES: Case[] = [
  { title: 'int8 per-channel symmetric (QDQ)', recipe: { bits: 8, granularity: 'channel' }, minCosine: 0.9999, minSqnrDb: 40, expectOps: ['DequantizeLinear'] },
  {
    title: 'int8 per-tensor asymmetric (QDQ uint8)',
    recipe: { bits: 8, granularity: 'tensor', symmetric: false },
    minCosine: 0.999,
    minSqnrDb: 30,
    expectOps: ['DequantizeLinear'],
  },
  {
    title: 'int8 per-channel, MSE clipping',
    recipe: { bits: 8, granularity: 'channel', range: 'mse' },
    minCosine: 0.999,
    minSqnrDb: 30,
    expectOps: ['DequantizeLinear'],
  },
  {
    title: '4-bit per-block 32 (MatMulNBits for Gemm, blocked int4 DequantizeLinear for Conv, opset 21)',
    recipe: { bits: 4, granularity: 'block', blockSize: 32 },
    minCosine: 0.99,
    minSqnrDb: 15,
    expectOps: ['com.microsoft.MatMulNBits', 'DequantizeLinear', 'Reshape'],
  },
  {
    title: '4-bit per-block asymmetric (MatMulNBits with zero points)',
    recipe: { bits: 4, granularity: 'block', blockSize: 16, symmetric: false },
    minCosine: 0.99,
    minSqnrDb: 15,
    expectOps: ['com.microsoft.MatMulNBits'],
  },
  {
    title: '4-bit per-channel int4 (QDQ, opset 21)',
    recipe: { bits: 4, granularity: 'channel' },
    minCosine: 0.98,
    minSqnrDb: 12,
    expectOps: ['DequantizeLinear'],
  },
  {
    title: '3-bit levels in a 4-bit container, percentile clipping',
    recipe: { bits: 3, granularity: 'block', blockSize: 32, range: 'percentile', percentile: 99.9 },
    minCosine: 0.95,
    minSqnrDb: 8,
    expectOps: ['com.microsoft.MatMulNBits'],
  },
  {
    title: '6-bit levels in int8, forced QDQ per-block',
    recipe: { bits: 6, granularity: 'block', blockSize: 64, format: 'qdq' },
    minCosine: 0.999,
    minSqnrDb: 25,
    expectOps: ['DequantizeLinear'],
  },
];

describe('quantized demo model in onnxruntime-node', () => {
  const original = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
  const input = demoInputs(200);
  for (const c of DEMO_CASES) {
    it(c.title, async () => {
      const opened = await openModel([bytesSource('mnist-cnn.onnx', original)]);
      const dequantized = new Map<string, Float32Array>();
      const { bytes, report } = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, ...c.recipe }, { dequantized });
      const quantized = report.tensors.filter((t) => t.action === 'quantize');
      expect(quantized.map((t) => t.name).sort()).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']);
      expect(report.outputBytes).toBe(bytes.byteLength);
      const written = summarizeModel(await openModel([bytesSource('q.onnx', bytes)]));
      for (const op of c.expectOps) expect(Object.keys(written.opTypes), op).toContain(op);

      const ref = await run(original, { input });
      const got = await run(bytes, { input });
      const sim = await run(simulatedModel(original, dequantized), { input });
      const exact = compare(sim, got);
      expect(exact.maxAbs, 'onnxruntime reads the weights exactly as written').toBeLessThanOrEqual(1e-4 * exact.scale);
      const fid = compare(ref, got);
      expect(fid.cosine).toBeGreaterThanOrEqual(c.minCosine);
      expect(fid.sqnrDb).toBeGreaterThanOrEqual(c.minSqnrDb);
      // Per-tensor SQNR reported for every quantized weight.
      for (const t of quantized) expect(t.sqnrDb).toBeGreaterThan(0);
    });
  }

  it('int8 keeps the demo accuracy (within 1 point on 200 held-out digits) and shrinks the file ~4×', async () => {
    const opened = await openModel([bytesSource('mnist-cnn.onnx', original)]);
    const { bytes, report } = await quantizeModel(opened, DEFAULT_QUANTIZE);
    const labels = demoLabels(200);
    const accuracy = (logits: Float32Array) => labels.filter((l, i) => argmax(logits.subarray(i * 10, i * 10 + 10)) === l).length / labels.length;
    const before = accuracy(await run(original, { input }));
    const after = accuracy(await run(bytes, { input }));
    expect(before).toBeGreaterThanOrEqual(0.95);
    expect(after).toBeGreaterThanOrEqual(before - 0.01);
    expect(report.outputBytes).toBeLessThan(original.byteLength / 3.5);
    // Size within 1% of the ideal: 8 bits × params + one float32 scale per output channel (symmetric: no zero
    // points), plus the part of the file quantization does not touch (graph, biases), measured from the original.
    const weights = { 'conv1.weight': [8, 72], 'conv2.weight': [16, 1152], 'fc1.weight': [64, 50176], 'fc2.weight': [10, 640] } as const;
    const idealWeights = Object.values(weights).reduce((n, [channels, params]) => n + params + 4 * channels, 0);
    const written = report.tensors.filter((t) => t.action === 'quantize').reduce((n, t) => n + t.bytesAfter, 0);
    expect(written).toBe(idealWeights);
    const floatWeights = Object.values(weights).reduce((n, [, params]) => n + 4 * params, 0);
    const untouched = original.byteLength - floatWeights;
    // The file adds one DequantizeLinear node and two tensor names per weight (~150 bytes each): 1.1 % of this
    // 55 kB file; the 1 % target is checked on a 4 MB model below.
    expect(Math.abs(report.outputBytes - (idealWeights + untouched)) / report.outputBytes).toBeLessThan(0.015);
  });

  it('a 4 MB MLP: int8 per-channel file within 1 % of bits × params + scales + untouched bytes', async () => {
    const fx = mlp(1024);
    const { report } = await quantizeModel(await openModel([bytesSource('mlp.onnx', fx.bytes)]), DEFAULT_QUANTIZE);
    const quantized = report.tensors.filter((t) => t.action === 'quantize');
    const params = quantized.reduce((n, t) => n + t.elements, 0);
    const channels = 1024 + 1024 + 10; // output columns of l1, l2, l3
    const ideal = params + 4 * channels + (fx.bytes.byteLength - 4 * params);
    expect(Math.abs(report.outputBytes - ideal) / ideal).toBeLessThan(0.01);
  });

  it('4-bit blocks: the written size is 4 bits × params + one float32 scale per block, within 1%', async () => {
    const opened = await openModel([bytesSource('mnist-cnn.onnx', original)]);
    const { report } = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32 });
    for (const t of report.tensors.filter((x) => x.action === 'quantize')) {
      // rows × ⌈K / 32⌉ blocks; Conv weights are stored as [Cout, Cin·k·k]; MatMulNBits pads K to whole blocks.
      const [rows, k] = { 'conv1.weight': [8, 9], 'conv2.weight': [16, 72], 'fc1.weight': [64, 784], 'fc2.weight': [10, 64] }[t.name as 'fc1.weight']!;
      const blocks = rows * Math.ceil(k / 32);
      const codes = t.format === 'matmulnbits' ? blocks * 16 : Math.ceil((rows * k) / 2);
      const reshape = t.format === 'qdq' ? 8 * 4 : 0; // the int64 shape that restores [Cout, Cin, k, k]
      expect(t.bytesAfter, t.name).toBe(codes + 4 * blocks + reshape);
    }
  });
});

describe('quantized real models (openwakeword) in onnxruntime-node', () => {
  it('embedding_model (20 Conv, tf2onnx, opset 13): int8 per-channel keeps cosine ≥ 0.999 and SQNR ≥ 30 dB', async () => {
    const original = readRealModel('embedding_model.onnx');
    const opened = await openModel([bytesSource('embedding_model.onnx', original)]);
    const dequantized = new Map<string, Float32Array>();
    const { bytes, report } = await quantizeModel(opened, DEFAULT_QUANTIZE, { dequantized });
    expect(report.tensors.filter((t) => t.action === 'quantize').length).toBe(20);
    // A realistic input: a smooth mel-like spectrogram patch, not white noise.
    const data = Float32Array.from({ length: 76 * 32 }, (_, i) => Math.sin(i / 13) * 2 + Math.cos(i / 7) - 1);
    const feeds = { input_1: new ort.Tensor('float32', data, [1, 76, 32, 1]) };
    const ref = await run(original, feeds);
    const got = await run(bytes, feeds);
    const sim = await run(simulatedModel(original, dequantized), feeds);
    expect(compare(sim, got).maxAbs).toBeLessThanOrEqual(1e-4 * compare(sim, got).scale);
    const fid = compare(ref, got);
    expect(fid.cosine).toBeGreaterThanOrEqual(0.999);
    expect(fid.sqnrDb).toBeGreaterThanOrEqual(30);
  });

  it("weights stored inside If / Loop subgraphs are quantized (ONNX Runtime's own tool skips them) and the model runs", async () => {
    const fx = buildSubgraphs();
    const opened = await openModel([bytesSource('subgraphs.onnx', fx.bytes)]);
    const dequantized = new Map<string, Float32Array>();
    const { bytes, report } = await quantizeModel(opened, DEFAULT_QUANTIZE, { dequantized });
    const graphs = report.tensors.filter((t) => t.action === 'quantize').map((t) => opened.catalog.entries[t.entryId]!.graphPath);
    expect(graphs.sort()).toEqual(['main', 'main/if0.else_branch', 'main/if0.then_branch', 'main/if0.then_branch/loop0.body']);
    for (const cond of [true, false]) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(fx.inputs)) feeds[name] = new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
      feeds.cond = new ort.Tensor('bool', [cond], []);
      const ref = await run(fx.bytes, feeds);
      const got = await run(bytes, feeds);
      const sim = await run(simulatedModel(fx.bytes, dequantized), feeds);
      expect(compare(sim, got).maxAbs).toBeLessThanOrEqual(1e-4 * compare(sim, got).scale);
      expect(compare(ref, got).cosine).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('silero_vad: quantizes the main-graph weights its If branches read; the STFT basis is the sensitive one', async () => {
    const original = readRealModel('silero_vad.onnx');
    const chunks = Array.from({ length: 5 }, (_, k) => ({
      input: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 512 }, (_, i) => Math.sin(i / (3 + k)) * 0.3 + Math.sin(i * 1.7 + k) * 0.05),
        [1, 512],
      ),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
      h: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]),
      c: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]),
    }));
    const worstDiff = async (bytes: Uint8Array) => {
      let worst = 0;
      for (const feeds of chunks) worst = Math.max(worst, Math.abs((await run(original, feeds))[0]! - (await run(bytes, feeds))[0]!));
      return worst;
    };
    const all = await quantizeModel(await openModel([bytesSource('silero_vad.onnx', original)]), DEFAULT_QUANTIZE);
    const opened = await openModel([bytesSource('silero_vad.onnx', original)]);
    const usedInSubgraphs = all.report.tensors.filter(
      (t) => t.action === 'quantize' && opened.catalog.entries[t.entryId]!.consumers.some((c) => c.graphPath !== 'main'),
    );
    expect(usedInSubgraphs.length).toBeGreaterThan(5);
    // Measured: quantizing the STFT basis (a Conv weight) moves the speech probability by up to ~0.05;
    // excluding that one tensor keeps every chunk within 0.005.
    const keepBasis = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, exclude: ['*forward_basis*'] });
    expect(keepBasis.report.tensors.find((t) => t.name.includes('forward_basis'))!.reason).toMatch(/excluded/);
    expect(await worstDiff(keepBasis.bytes)).toBeLessThan(0.005);
    expect(await worstDiff(all.bytes)).toBeLessThan(0.1);
  });

  it('does not quantize an already-quantized model twice', async () => {
    const original = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const once = (await quantizeModel(await openModel([bytesSource('a.onnx', original)]), DEFAULT_QUANTIZE)).bytes;
    const twice = await quantizeModel(await openModel([bytesSource('b.onnx', once)]), DEFAULT_QUANTIZE);
    expect(twice.report.tensors.filter((t) => t.action === 'quantize')).toHaveLength(0);
    expect(twice.report.warnings.join(' ')).toMatch(/already quantized/);
    // Every stored weight and its scale are left as they are; what else stays float says why (the biases).
    const weights = twice.report.tensors.filter((t) => !t.name.endsWith('.bias'));
    expect(weights).toHaveLength(8);
    expect(weights.every((t) => t.action === 'skip' && t.reason === 'already quantized')).toBe(true);
    expect(twice.report.tensors.filter((t) => t.name.endsWith('.bias')).map((t) => t.reason)).toEqual(['bias', 'bias', 'bias', 'bias']);
    expect(twice.coverage.compressedBytes).toBe(0);
  });
});

describe('fp16 and dynamic quantization in onnxruntime-node', () => {
  const original = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
  const input = demoInputs(100);

  it('fp16: weights and compute in float16, inputs/outputs still float32, outputs within fp16 precision', async () => {
    const opened = await openModel([bytesSource('mnist-cnn.onnx', original)]);
    const dequantized = new Map<string, Float32Array>();
    const { bytes, report } = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, format: 'fp16' }, { dequantized });
    const written = summarizeModel(await openModel([bytesSource('f.onnx', bytes)]));
    expect(written.inputs[0]!.dtype).toBe('FLOAT');
    expect(written.outputs[0]!.dtype).toBe('FLOAT');
    expect(written.tensors.filter((t) => t.dtype === 'FLOAT')).toHaveLength(0);
    expect(report.outputBytes).toBeLessThan(original.byteLength * 0.55);
    expect(report.tensors.every((t) => t.action === 'quantize' && t.bits === 16 && t.sqnrDb! > 60)).toBe(true);
    const fid = compare(await run(original, { input }), await run(bytes, { input }));
    expect(fid.cosine).toBeGreaterThanOrEqual(0.99999);
    expect(fid.sqnrDb).toBeGreaterThanOrEqual(50);
  });

  it('fp16: weights that overflow float16 stay float32 and their op computes in float32', async () => {
    // y = x · W with one weight of 1e5 (beyond fp16's 65504).
    const w = new Float32Array([1e5, 0.5, -0.25, 2]);
    const model = create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { version: 17n })],
      graph: create(GraphProtoSchema, {
        name: 'overflow',
        initializer: [create(TensorProtoSchema, { name: 'W', dataType: DataType.FLOAT, dims: [2n, 2n], rawData: new Uint8Array(w.buffer) })],
        node: [create(NodeProtoSchema, { name: 'mm', opType: 'MatMul', input: ['x', 'W'], output: ['y'] })],
        input: [floatValue('x', [1, 2])],
        output: [floatValue('y', [1, 2])],
      }),
    });
    const bytes0 = encodeModel(model);
    const { bytes, report } = await quantizeModel(await openModel([bytesSource('o.onnx', bytes0)]), { ...DEFAULT_QUANTIZE, format: 'fp16' });
    expect(report.tensors[0]).toMatchObject({ name: 'W', action: 'skip' });
    expect(report.tensors[0]!.reason).toMatch(/overflow float16/);
    expect(report.warnings.join(' ')).toMatch(/computes in float32/);
    const x = new ort.Tensor('float32', new Float32Array([0.001, 1]), [1, 2]);
    const ref = await run(bytes0, { x });
    const got = await run(bytes, { x });
    expect(compare(ref, got).cosine).toBeGreaterThan(0.9999);
    expect(Math.abs(got[0]! - ref[0]!)).toBeLessThan(1); // 100 + … survives; fp16 compute would not matter here, the weight would be inf
  });

  it('dynamic: DynamicQuantizeLinear + MatMulInteger (int8) for Gemm and ConvInteger (uint8) for Conv', async () => {
    const opened = await openModel([bytesSource('mnist-cnn.onnx', original)]);
    const dequantized = new Map<string, Float32Array>();
    const { bytes, report } = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, format: 'dynamic' }, { dequantized });
    const ops = Object.keys(summarizeModel(await openModel([bytesSource('d.onnx', bytes)])).opTypes);
    for (const op of ['DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger']) expect(ops).toContain(op);
    expect(ops).not.toContain('Conv');
    expect(ops).not.toContain('Gemm');
    expect(report.tensors.filter((t) => t.action === 'quantize')).toHaveLength(4);
    const fid = compare(await run(original, { input }), await run(bytes, { input }));
    expect(fid.cosine).toBeGreaterThanOrEqual(0.999);
    expect(fid.sqnrDb).toBeGreaterThanOrEqual(25);
    const labels = demoLabels(100);
    const acc = (l: Float32Array) => labels.filter((y, i) => argmax(l.subarray(i * 10, i * 10 + 10)) === y).length;
    expect(acc(await run(bytes, { input }))).toBeGreaterThanOrEqual(acc(await run(original, { input })) - 1);
  });

  it('dynamic on a real model: embedding_model Conv layers become ConvInteger and stay close', async () => {
    const model = readRealModel('embedding_model.onnx');
    const { bytes } = await quantizeModel(await openModel([bytesSource('e.onnx', model)]), { ...DEFAULT_QUANTIZE, format: 'dynamic' });
    const data = Float32Array.from({ length: 76 * 32 }, (_, i) => Math.sin(i / 13) * 2 + Math.cos(i / 7) - 1);
    const feeds = { input_1: new ort.Tensor('float32', data, [1, 76, 32, 1]) };
    const fid = compare(await run(model, feeds), await run(bytes, feeds));
    expect(fid.cosine).toBeGreaterThanOrEqual(0.99);
  });
});

function floatValue(name: string, dims: number[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })),
          }),
        }),
      },
    }),
  });
}
