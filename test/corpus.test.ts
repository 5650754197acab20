/**
 * The real-model corpus: every real model the project has (the openWakeWord set, Silero VAD, the demo) and
 * fixtures that mimic the patterns of public models (test/fixtures/patterns.ts), compressed at int8 per channel
 * and at 4 bits per block of 32. For each: the written model runs in onnxruntime-node on realistic inputs;
 * coverage ≥ 95 % of the weight bytes; size ≤ 0.30× (float32 models) / 0.52× (float16) at int8 and ≤ 0.20× /
 * 0.30× at 4 bits; output SQNR no worse than plain round-to-nearest at the same granularity (computed here,
 * independently of the compressor, and run in onnxruntime too) minus 0.5 dB.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { compressModel } from '../src/core/compress/compress';
import type { TensorReport } from '../src/core/compress/quantize/report';
import { openModel, readTensorFloat32, type OpenedModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_QUANTIZE, type QuantizeRecipe } from '../src/core/recipe';
import { DataType } from '../src/core/tensor/dtypes';
import { PATTERN_FIXTURES, type PatternFixture } from './fixtures/patterns';
import { fromFloat16Bits, toFloat16Bits } from './fixtures/onnx-helpers.ts';
import { compareOutputs, runAll, simulatedModel, type Feeds } from './helpers/ort-compare';
import { readRealModel } from './helpers/models';
import { melFrames, melWindows, toneAudio } from './helpers/wakeword';

interface CorpusModel {
  name: string;
  bytes: Uint8Array;
  dtype: 'float32' | 'float16';
  samples: Feeds[];
}

const RECIPES: { label: string; recipe: QuantizeRecipe; maxRatio: { float32: number; float16: number } }[] = [
  { label: 'int8 per channel', recipe: { ...DEFAULT_QUANTIZE, bits: 8, granularity: 'channel' }, maxRatio: { float32: 0.3, float16: 0.52 } },
  { label: '4-bit blocks of 32', recipe: { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32 }, maxRatio: { float32: 0.2, float16: 0.3 } },
];

// ---------------------------------------------------------------- realistic inputs for the real models

const melWindow = (mel: Float32Array, start: number) => mel.subarray(start * 32, (start + 76) * 32);

/** Embedding frames [T, 96] of consecutive 76-frame mel windows (stride 8), as openWakeWord feeds its classifiers. */
async function embeddingFrames(seed: number, count: number): Promise<Float32Array> {
  const windows = await melWindows(seed, count);
  const embed = await ort.InferenceSession.create(readRealModel('embedding_model.onnx'));
  const out = new Float32Array(count * 96);
  for (let k = 0; k < count; k++) {
    const r = await embed.run({ input_1: new ort.Tensor('float32', windows[k]!, [1, 76, 32, 1]) });
    out.set(r.conv2d_19!.data as Float32Array, k * 96);
  }
  await embed.release();
  return out;
}

async function realModels(): Promise<CorpusModel[]> {
  const models: CorpusModel[] = [];
  const json = JSON.parse(readFileSync('public/demo/mnist-test.json', 'utf8'));
  const pixels = Buffer.from(json.pixels, 'base64');
  models.push({
    name: 'mnist-cnn.onnx (demo)',
    bytes: new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')),
    dtype: 'float32',
    samples: [
      {
        input: new ort.Tensor(
          'float32',
          Float32Array.from(pixels.subarray(0, 32 * 784), (p) => p / 255),
          [32, 1, 28, 28],
        ),
      },
    ],
  });
  const mel = await melFrames(3, 12560 * 2);
  models.push({
    name: 'embedding_model.onnx',
    bytes: readRealModel('embedding_model.onnx'),
    dtype: 'float32',
    samples: [0, 20, 40].map((s) => ({ input_1: new ort.Tensor('float32', Float32Array.from(melWindow(mel, s)), [1, 76, 32, 1]) })),
  });
  models.push({
    name: 'melspectrogram.onnx',
    bytes: readRealModel('melspectrogram.onnx'),
    dtype: 'float32',
    samples: [4, 5].map((seed) => ({ input: new ort.Tensor('float32', toneAudio(seed, 12560), [1, 12560]) })),
  });
  for (const [name, frames, input] of [
    ['hey_jarvis_v0.1.onnx', 16, 'x.1'],
    ['alexa_v0.1.onnx', 16, 'onnx::Flatten_0'],
    ['hey_mycroft_v0.1.onnx', 16, 'onnx::Flatten_0'],
    ['hey_rhasspy_v0.1.onnx', 16, 'onnx::Flatten_0'],
    ['timer_v0.1.onnx', 34, 'onnx::Flatten_0'],
    ['weather_v0.1.onnx', 22, 'onnx::Flatten_0'],
  ] as const) {
    const bytes = readRealModel(name);
    const session = await ort.InferenceSession.create(bytes);
    const inputName = session.inputNames[0] ?? input;
    await session.release();
    const samples: Feeds[] = [];
    for (const seed of [11, 12]) samples.push({ [inputName]: new ort.Tensor('float32', await embeddingFrames(seed, frames), [1, frames, 96]) });
    models.push({ name, bytes, dtype: 'float32', samples });
  }
  models.push({
    name: 'silero_vad.onnx',
    bytes: readRealModel('silero_vad.onnx'),
    dtype: 'float32',
    samples: [21, 22, 23].map((seed) => ({
      input: new ort.Tensor('float32', toneAudio(seed, 512, 0.3), [1, 512]),
      sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
      h: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]),
      c: new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]),
    })),
  });
  return models;
}

function patternModel(fixture: PatternFixture): CorpusModel {
  const samples = [1, 2, 3].map((seed) =>
    Object.fromEntries(Object.entries(fixture.feeds(seed)).map(([name, f]) => [name, new ort.Tensor(f.type, f.data as Float32Array, f.dims)])),
  );
  return { name: fixture.name, bytes: fixture.bytes, dtype: fixture.weightDtype, samples };
}

// ---------------------------------------------------------------- plain round-to-nearest, written here

/** Symmetric round-to-nearest of one tensor at the granularity the report gives, in the stored dtype. */
function roundToNearest(values: Float32Array, shape: number[], t: TensorReport, op: { transB: boolean }, half: boolean): Float32Array {
  const qmax = 2 ** (t.bits - 1) - 1;
  let dims = shape;
  let axis = t.axis ?? 0;
  let size = 0; // elements per group along the axis (0: the whole axis)
  if (t.format === 'matmulnbits') {
    axis = op.transB ? 1 : 0; // blocks run along K: [K, N] → axis 0, Gemm's transposed [N, K] → axis 1
    size = t.blockSize;
  } else if (t.granularity === 'block') {
    if (t.flattenTo2d) dims = [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)];
    size = t.blockSize;
  }
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const D = dims[axis] ?? values.length;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const groupOf = (o: number, d: number, i: number) =>
    t.granularity === 'tensor' && t.format !== 'matmulnbits'
      ? 0
      : t.granularity === 'channel'
        ? d
        : (o * Math.ceil(D / size) + Math.floor(d / size)) * inner + i;
  const absMax = new Map<number, number>();
  for (let o = 0; o < outer; o++)
    for (let d = 0; d < D; d++)
      for (let i = 0; i < inner; i++) {
        const g = groupOf(o, d, i);
        absMax.set(g, Math.max(absMax.get(g) ?? 0, Math.abs(values[(o * D + d) * inner + i]!)));
      }
  const round = (x: number) => (half ? fromFloat16Bits(toFloat16Bits(x)) : Math.fround(x));
  const out = new Float32Array(values.length);
  for (let o = 0; o < outer; o++)
    for (let d = 0; d < D; d++)
      for (let i = 0; i < inner; i++) {
        const k = (o * D + d) * inner + i;
        const scale = round((absMax.get(groupOf(o, d, i)) ?? 0) / qmax) || 1;
        out[k] = round(Math.max(-qmax, Math.min(qmax, Math.round(values[k]! / scale))) * scale);
      }
  return out;
}

async function roundToNearestModel(model: CorpusModel, opened: OpenedModel, tensors: TensorReport[]): Promise<Uint8Array> {
  const values = new Map<string, Float32Array>();
  for (const t of tensors) {
    if (t.action !== 'quantize') continue;
    const entry = opened.catalog.entries.find((e) => e.name === t.name && e.graphPath === t.graphPath)!;
    const node = entry.consumers[0]?.node;
    const transB = node?.opType === 'Gemm' && node.attribute.some((a) => a.name === 'transB' && a.i === 1n);
    values.set(t.name, roundToNearest(await readTensorFloat32(opened, entry), entry.shape, t, { transB }, entry.dataType === DataType.FLOAT16));
  }
  return simulatedModel(model.bytes, values);
}

// ---------------------------------------------------------------- the corpus

const results: string[] = [];
let models: CorpusModel[] = [];

beforeAll(async () => {
  models = [...(await realModels()), ...Object.values(PATTERN_FIXTURES).map((build) => patternModel(build()))];
}, 120_000);

describe('every real model compresses', () => {
  for (const { label, recipe, maxRatio } of RECIPES) {
    it(`${label}: runs, covers ≥ 95 % of the weight bytes, shrinks, and keeps round-to-nearest's fidelity`, async () => {
      const failures: string[] = [];
      for (const model of models) {
        const opened = await openModel([bytesSource(model.name, model.bytes)]);
        const result = await compressModel(opened, { version: 1, quantize: recipe });
        const ratio = result.outputBytes / result.inputBytes;
        const reference = await runAll(model.bytes, model.samples);
        const writtenOut = await runAll(result.bytes, model.samples);
        const rtnOut = await runAll(await roundToNearestModel(model, opened, result.quantize!.tensors), model.samples);
        const written = compareOutputs(reference, writtenOut);
        const rtn = compareOutputs(reference, rtnOut);
        // The written model and plain rounding agree to onnxruntime's own float noise: wake-word classifiers on
        // non-wake-word audio output sigmoids near 1e-6, where the runtime's Sigmoid/Gemm rounding (6e-8 on an AVX2
        // EPYC, less elsewhere) is a large share of the SQNR on either side, so the dB comparison alone says little.
        const sameAsRtn = compareOutputs(rtnOut, writtenOut).maxAbs <= 1e-6;
        const cov = result.coverage;
        results.push(
          `${label} | ${model.name}: coverage ${(cov.fraction * 100).toFixed(1)} %, size ${ratio.toFixed(3)}×, SQNR ${written.sqnrDb.toFixed(1)} dB (round-to-nearest ${rtn.sqnrDb.toFixed(1)} dB)${result.upgrade ? `, ${result.upgrade.from}→${result.upgrade.to}` : ''}`,
        );
        if (cov.fraction < 0.95)
          failures.push(`${model.name}: coverage ${(cov.fraction * 100).toFixed(1)} % (left: ${cov.left.map((g) => `${g.tensors}× ${g.reason}`).join('; ')})`);
        if (ratio > maxRatio[model.dtype]) failures.push(`${model.name}: size ${ratio.toFixed(3)}× > ${maxRatio[model.dtype]}×`);
        if (!(written.sqnrDb >= rtn.sqnrDb - 0.5) && !sameAsRtn)
          failures.push(`${model.name}: SQNR ${written.sqnrDb.toFixed(2)} dB < round-to-nearest ${rtn.sqnrDb.toFixed(2)} dB − 0.5`);
      }
      console.log(results.filter((r) => r.startsWith(label)).join('\n'));
      expect(failures).toEqual([]);
    }, 300_000);
  }
});
