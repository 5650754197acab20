/**
 * The real-world-pattern fixtures (test/fixtures/patterns.ts) load and run in onnxruntime-node, say what they
 * are (opset, weight dtype, where weights live, the export-specific op forms), and are fit for measuring
 * quantization error: weights dominate the file, outputs are finite, vary with the input, change with the
 * weights, and react smoothly (neither frozen nor chaotic) to a 1 % weight perturbation.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DT, fromFloat16Bits, numel, payloadBytes, toFloat16Bits } from './fixtures/onnx-helpers';
import { PATTERN_FIXTURES, seededGaussian, type PatternFixture } from './fixtures/patterns';

const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.FLOAT16, DT.BFLOAT16, DT.DOUBLE]);
/** Float tensors at least this large are weights; smaller ones are scales, epsilons and the like. */
const WEIGHT_MIN_ELEMENTS = 16;

interface Stored {
  tensor: TensorProto;
  location: 'initializer' | 'constant';
}

function storedTensors(m: ModelProto): Stored[] {
  const out: Stored[] = m.graph!.initializer.map((tensor) => ({ tensor, location: 'initializer' as const }));
  for (const n of m.graph!.node) {
    if (n.opType !== 'Constant') continue;
    for (const a of n.attribute) if (a.name === 'value' && a.t) out.push({ tensor: a.t, location: 'constant' });
  }
  return out;
}

const isWeight = (t: TensorProto) => FLOAT_TYPES.has(t.dataType) && numel(t.dims.map(Number)) >= WEIGHT_MIN_ELEMENTS;
const weights = (m: ModelProto) => storedTensors(m).filter((s) => isWeight(s.tensor));
const weightBytes = (m: ModelProto) => weights(m).reduce((sum, s) => sum + payloadBytes(s.tensor.dataType, s.tensor.dims.map(Number)), 0);

/** Every weight value multiplied by (1 + rel·N(0,1)), in place of the stored raw_data. */
function perturbWeights(bytes: Uint8Array, rel: number, seed: number): Uint8Array {
  const m = fromBinary(ModelProtoSchema, bytes);
  const g = seededGaussian(seed);
  for (const { tensor: t } of weights(m)) {
    expect(t.rawData.length, `${t.name} stored as raw_data`).toBeGreaterThan(0);
    const raw = new Uint8Array(t.rawData);
    const dv = new DataView(raw.buffer);
    const n = numel(t.dims.map(Number));
    for (let i = 0; i < n; i++) {
      if (t.dataType === DT.FLOAT) dv.setFloat32(i * 4, dv.getFloat32(i * 4, true) * (1 + rel * g()), true);
      else if (t.dataType === DT.FLOAT16) dv.setUint16(i * 2, toFloat16Bits(fromFloat16Bits(dv.getUint16(i * 2, true)) * (1 + rel * g())), true);
      else throw new Error(`unexpected weight dtype ${t.dataType}`);
    }
    t.rawData = raw;
  }
  return toBinary(ModelProtoSchema, m);
}

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

/** Runs a model and returns its outputs as float arrays (all outputs here are float32). */
async function run(bytes: Uint8Array, feeds: ReturnType<PatternFixture['feeds']>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  sessions.push(session);
  const input: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) input[name] = new ort.Tensor(f.type, f.data as never, f.dims);
  const results = await session.run(input);
  const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const name of session.outputNames) {
    const t = results[name]!;
    expect(t.type).toBe('float32');
    out[name] = { data: t.data as Float32Array, dims: t.dims };
  }
  return out;
}

/** ‖a − b‖ / ‖a‖ */
function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += a[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function std(a: Float32Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
}

const EXPECTED_OUTPUTS: Record<string, Record<string, number[]>> = {
  paddleLikeOpset9: { probs: [1, 4] },
  fp16EncoderDecoder: { mask: [1, 1, 64, 64] },
  lstmCellAsMatMul: { logits: [1, 8] },
  lstmOp: { logits: [1, 10] },
  gruOp: { logits: [1, 10] },
  embeddingGather: { logits: [1, 6] },
  transformerBlock: { output: [1, 24, 128] },
};

/** Default builds, once each (the Paddle-like one runs a calibration pass in JS). */
const built = new Map<string, PatternFixture>();
const fixtureOf = (key: string): PatternFixture => {
  if (!built.has(key)) built.set(key, PATTERN_FIXTURES[key]!());
  return built.get(key)!;
};

describe.each(Object.entries(PATTERN_FIXTURES))('%s', (key, build) => {
  const fixture = fixtureOf(key);
  const m = fromBinary(ModelProtoSchema, fixture.bytes);

  it('states its opset and weight dtype; weights dominate the file', () => {
    expect(fixture.name).toMatch(/\.onnx$/);
    expect(fixture.description.length).toBeGreaterThan(20);
    expect(m.opsetImport.find((o) => o.domain === '')?.version).toBe(BigInt(fixture.opset));
    const ws = weights(m);
    expect(ws.length).toBeGreaterThanOrEqual(2);
    const dtype = fixture.weightDtype === 'float16' ? DT.FLOAT16 : DT.FLOAT;
    for (const { tensor } of ws) expect(tensor.dataType, tensor.name).toBe(dtype);
    const wb = weightBytes(m);
    expect(wb).toBeGreaterThan(300_000);
    expect(wb).toBeLessThan(3_000_000);
    expect(wb / fixture.bytes.length).toBeGreaterThan(0.95);
  });

  it('weights are spread realistically (not a coarse grid, per-channel scales vary)', () => {
    const big = weights(m).reduce((a, b) => (numel(a.tensor.dims.map(Number)) >= numel(b.tensor.dims.map(Number)) ? a : b)).tensor;
    const dv = new DataView(big.rawData.buffer, big.rawData.byteOffset, big.rawData.byteLength);
    const n = numel(big.dims.map(Number));
    const values = Float32Array.from({ length: n }, (_, i) =>
      big.dataType === DT.FLOAT16 ? fromFloat16Bits(dv.getUint16(i * 2, true)) : dv.getFloat32(i * 4, true),
    );
    expect(new Set(values).size).toBeGreaterThan(Math.min(n / 4, 2000));
    const s = std(values);
    const kurtosis = values.reduce((a, v) => a + v ** 4, 0) / n / s ** 4;
    expect(kurtosis).toBeGreaterThan(3); // Gaussian is 3; channel-scale mixing and outliers add tails
  });

  it('runs on realistic inputs: finite, not constant, input-dependent, expected shapes', async () => {
    const a = await run(fixture.bytes, fixture.feeds(1));
    const b = await run(fixture.bytes, fixture.feeds(2));
    expect(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, [...v.dims]]))).toEqual(EXPECTED_OUTPUTS[key]);
    for (const [name, out] of Object.entries(a)) {
      expect(out.data.every(Number.isFinite), name).toBe(true);
      expect(b[name]!.data.every(Number.isFinite), name).toBe(true);
      expect(std(out.data), name).toBeGreaterThan(1e-3);
      expect(relDiff(out.data, b[name]!.data), name).toBeGreaterThan(0.01);
    }
    // Deterministic feeds.
    const again = fixture.feeds(1);
    for (const [name, f] of Object.entries(again)) expect(f.data).toEqual(fixture.feeds(1)[name]!.data);
  });

  it('the weights matter: another weight seed changes the output, a 1 % perturbation changes it a little', async () => {
    const feeds = fixture.feeds(1);
    const base = await run(fixture.bytes, feeds);
    const other = build(2);
    expect(other.bytes.length).toBe(fixture.bytes.length);
    const reseeded = await run(other.bytes, feeds);
    const perturbed = await run(perturbWeights(fixture.bytes, 0.01, 5), feeds);
    for (const name of Object.keys(base)) {
      expect(relDiff(base[name]!.data, reseeded[name]!.data), name).toBeGreaterThan(0.1);
      const d = relDiff(base[name]!.data, perturbed[name]!.data);
      // About the noise of int8 per-channel quantization: visible, but not chaotic (8-bit must stay usable).
      expect(d, name).toBeGreaterThan(1e-4);
      expect(d, name).toBeLessThan(0.3);
    }
  });
});

describe('export-specific forms', () => {
  const parse = (key: string) => fromBinary(ModelProtoSchema, fixtureOf(key).bytes);
  const attrOf = (n: NodeProto, name: string) => n.attribute.find((a) => a.name === name);

  it('paddleLikeOpset9: IR 4, weights only in Constant nodes, attribute-form ops of opset 9', () => {
    const m = parse('paddleLikeOpset9');
    const nodes = m.graph!.node;
    const of = (t: string) => nodes.filter((n) => n.opType === t);
    expect(m.irVersion).toBe(4n);
    expect(m.graph!.initializer).toHaveLength(0);
    expect(weights(m).every((s) => s.location === 'constant')).toBe(true);
    for (const n of of('Conv')) expect(nodes.some((c) => c.opType === 'Constant' && c.output[0] === n.input[1])).toBe(true);
    const clips = of('Clip');
    expect(clips.length).toBeGreaterThan(3);
    for (const c of clips) {
      expect(c.input).toHaveLength(1);
      expect(attrOf(c, 'min')?.f).toBe(0);
      expect(attrOf(c, 'max')?.f).toBe(6);
    }
    const [slice] = of('Slice');
    expect(slice!.input).toHaveLength(1);
    for (const a of ['starts', 'ends', 'axes']) expect(attrOf(slice!, a)?.ints.length).toBeGreaterThan(0);
    const [squeeze] = of('Squeeze');
    expect(squeeze!.input).toHaveLength(1);
    expect(attrOf(squeeze!, 'axes')?.ints).toEqual([2n]);
    const [upsample] = of('Upsample');
    expect(upsample!.input).toHaveLength(2);
    expect(new TextDecoder().decode(attrOf(upsample!, 'mode')!.s)).toBe('nearest');
    const bns = of('BatchNormalization');
    expect(bns.length).toBeGreaterThan(5);
    for (const bn of bns) expect(bn.input).toHaveLength(5);
    const depthwise = of('Conv').filter((n) => Number(attrOf(n, 'group')?.i ?? 1n) > 1);
    expect(depthwise.length).toBeGreaterThan(0);
    for (const dw of depthwise) {
      const w = storedTensors(m).find((s) => s.tensor.name === dw.input[1])!.tensor;
      expect(Number(w.dims[0])).toBe(Number(attrOf(dw, 'group')!.i));
      expect(Number(w.dims[1])).toBe(1);
    }
    for (const t of ['MaxPool', 'AveragePool', 'Flatten', 'MatMul', 'Add', 'Gemm']) expect(of(t).length, t).toBeGreaterThan(0);
    expect(attrOf(of('Softmax')[0]!, 'axis')?.i).toBe(1n);
  });

  it('fp16EncoderDecoder: float32 in/out around a float16 graph, ConvTranspose with bias, Resize with float32 scales', () => {
    const m = parse('fp16EncoderDecoder');
    const nodes = m.graph!.node;
    expect(nodes[0]!.opType).toBe('Cast');
    expect(attrOf(nodes[0]!, 'to')?.i).toBe(BigInt(DT.FLOAT16));
    expect(nodes.at(-1)!.opType).toBe('Cast');
    expect(attrOf(nodes.at(-1)!, 'to')?.i).toBe(BigInt(DT.FLOAT));
    const init = (name: string) => m.graph!.initializer.find((t) => t.name === name)!;
    const [ct] = nodes.filter((n) => n.opType === 'ConvTranspose');
    expect(ct!.input).toHaveLength(3);
    const w = init(ct!.input[1]!);
    expect(w.dims.map(Number)).toEqual([128, 64, 2, 2]); // [C_in, C_out, kH, kW], C_out ≠ C_in
    expect(init(ct!.input[2]!).dims.map(Number)).toEqual([64]);
    const [resize] = nodes.filter((n) => n.opType === 'Resize');
    expect(resize!.input[1]).toBe('');
    expect(init(resize!.input[2]!).dataType).toBe(DT.FLOAT);
    expect(nodes.filter((n) => n.opType === 'Concat')).toHaveLength(2);
    expect(nodes.filter((n) => n.opType === 'Conv' && attrOf(n, 'strides')?.ints[0] === 2n)).toHaveLength(2);
  });

  it('lstmCellAsMatMul: one stored cell matrix reaches the MatMuls through Slice and Transpose', () => {
    const m = parse('lstmCellAsMatMul');
    const nodes = m.graph!.node;
    const cell = m.graph!.initializer.find((t) => t.name === 'rnn.cell.weight')!;
    expect(cell.dims.map(Number)).toEqual([512, 256]);
    const slices = nodes.filter((n) => n.opType === 'Slice' && n.input[0] === cell.name);
    expect(slices).toHaveLength(2);
    const transposed = slices.map((s) => nodes.find((n) => n.opType === 'Transpose' && n.input[0] === s.output[0])!.output[0]!);
    for (const t of transposed) expect(nodes.filter((n) => n.opType === 'MatMul' && n.input[1] === t)).toHaveLength(8);
    expect(nodes.filter((n) => n.opType === 'Split')).toHaveLength(8);
    expect(nodes.filter((n) => n.opType === 'Conv')).toHaveLength(1);
  });

  it('lstmOp / gruOp: the ONNX recurrent ops with W, R, B; GRU with linear_before_reset = 1', () => {
    for (const [key, op, gates] of [
      ['lstmOp', 'LSTM', 4],
      ['gruOp', 'GRU', 3],
    ] as const) {
      const m = parse(key);
      const rnn = m.graph!.node.find((n) => n.opType === op)!;
      const dims = (name: string) => m.graph!.initializer.find((t) => t.name === name)!.dims.map(Number);
      expect(dims(rnn.input[1]!)).toEqual([1, gates * 128, 80]);
      expect(dims(rnn.input[2]!)).toEqual([1, gates * 128, 128]);
      expect(dims(rnn.input[3]!)).toEqual([1, 2 * gates * 128]);
      if (op === 'GRU') expect(attrOf(rnn, 'linear_before_reset')?.i).toBe(1n);
    }
  });

  it('embeddingGather: Gather on the table, opset-13 ReduceMean with an axes attribute', () => {
    const m = parse('embeddingGather');
    const [gather] = m.graph!.node.filter((n) => n.opType === 'Gather');
    const table = m.graph!.initializer.find((t) => t.name === gather!.input[0])!;
    expect(table.dims.map(Number)).toEqual([4000, 96]);
    const [mean] = m.graph!.node.filter((n) => n.opType === 'ReduceMean');
    expect(mean!.input).toHaveLength(1);
    expect(attrOf(mean!, 'axes')?.ints).toEqual([1n]);
    expect(m.graph!.input[0]!.type?.value.case === 'tensorType' && m.graph!.input[0]!.type.value.value.elemType).toBe(DT.INT64);
  });

  it('transformerBlock: attention, LayerNormalization and Erf-GELU at opset 17', () => {
    const m = parse('transformerBlock');
    const count = (t: string) => m.graph!.node.filter((n) => n.opType === t).length;
    expect(count('LayerNormalization')).toBe(2);
    expect(count('Erf')).toBe(1);
    expect(count('Softmax')).toBe(1);
    expect(count('MatMul')).toBe(8); // Q, K, V, QKᵀ, context, out, FFN up, FFN down
    expect(count('Reshape')).toBe(4);
  });
});
