/**
 * The evaluation lab on a real model with realistic inputs: openWakeWord's audio embedding CNN fed with
 * mel spectrograms (its own front-end model) of synthetic tone-and-noise audio, as the wake-word pipeline
 * does. int8 per channel must stay close; 2-bit per tensor must be measurably worse.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { compressModel } from '../src/core/compress/compress';
import { evaluateModels } from '../src/core/eval/evaluate';
import { seededRandom } from '../src/core/eval/synthetic';
import type { EvalDataset } from '../src/core/eval/types';
import { openModel, type OpenedModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_QUANTIZE } from '../src/core/recipe';
import { createNodeRuntime } from '../src/runtime/ort-node';
import { readRealModel } from './helpers/models';

const SAMPLES = 12560; // 76 mel frames, the embedding model's window

/** Mel spectrograms of tone mixtures with noise, scaled as openWakeWord does (x / 10 + 2). */
async function melDataset(count: number): Promise<EvalDataset> {
  const mel = await ort.InferenceSession.create(readRealModel('melspectrogram.onnx'));
  const random = seededRandom(7);
  const samples = [];
  for (let s = 0; s < count; s++) {
    const audio = new Float32Array(SAMPLES);
    const tones = [100 + 900 * random(), 300 + 2000 * random(), 50 + 400 * random()];
    for (let i = 0; i < SAMPLES; i++) {
      const t = i / 16000;
      audio[i] =
        tones.reduce((a, f, k) => a + (4000 / (k + 1)) * Math.sin(2 * Math.PI * f * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t + k)), 0) +
        300 * (random() - 0.5);
    }
    const out = (await mel.run({ input: new ort.Tensor('float32', audio, [1, SAMPLES]) })).output!;
    const data = Float32Array.from(out.data as Float32Array, (x) => x / 10 + 2);
    samples.push({ id: `tones #${s}`, feeds: { input_1: { dtype: 'float32' as const, dims: [1, 76, 32, 1], data } } });
  }
  await mel.release();
  return { name: 'mel tones', description: 'mel spectrograms of tone mixtures', samples, synthetic: false };
}

let opened: OpenedModel;
let data: EvalDataset;
const original = readRealModel('embedding_model.onnx');
const runtime = createNodeRuntime({ threads: 1 });

beforeAll(async () => {
  opened = await openModel([bytesSource('embedding_model.onnx', original)]);
  data = await melDataset(12);
});

describe('evaluation on a real model (openWakeWord embedding CNN)', () => {
  it('int8 per channel: cosine ≥ 0.99 on realistic inputs; 2-bit per tensor is far worse', async () => {
    const int8 = (await compressModel(opened, { version: 1, quantize: { ...DEFAULT_QUANTIZE } })).bytes;
    const q2 = (await compressModel(opened, { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 2, granularity: 'tensor' } })).bytes;
    const r8 = await evaluateModels(runtime, original, int8, data, { backends: ['cpu'], runs: 3 });
    const r2 = await evaluateModels(runtime, original, q2, data, { backends: ['cpu'], runs: 0 });
    const f8 = r8.backends[0]!.fidelity![0]!;
    const f2 = r2.backends[0]!.fidelity![0]!;
    expect(f8.task).toBe('regression');
    expect(f8.cosine).toBeGreaterThanOrEqual(0.99);
    expect(f8.sqnrDb!).toBeGreaterThan(15);
    expect(f2.cosine).toBeLessThan(f8.cosine);
    expect(f2.sqnrDb!).toBeLessThan(f8.sqnrDb! - 10);
    expect(r8.backends[0]!.latency!.candidate.medianMs).toBeGreaterThan(0);
    expect(r8.sizes.candidate).toBeLessThan(r8.sizes.original / 3);
  });
});
