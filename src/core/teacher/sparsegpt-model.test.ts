/**
 * SparseGPT end to end in onnxruntime-node on real models with realistic inputs: Hessians from calibration inputs,
 * output SQNR against the original on inputs calibration never saw, compared with magnitude pruning at the same
 * sparsity and pattern (every Conv/Gemm/MatMul weight pruned). Thresholds are the measured figures minus a margin.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readRealModel } from '../../../test/helpers/models';
import { melWindows, toneAudio } from '../../../test/helpers/wakeword';
import { compareOutputs } from '../../../test/helpers/ort-compare';
import { createNodeRuntime } from '../../runtime/ort-node';
import { compressModel } from '../compress/compress';
import { openModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type PruneRecipe, type Recipe } from '../recipe';
import type { EvalSample } from '../eval/types';
import { collectHessians } from './gptq-layers';

ort.env.logLevel = 'error';
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, logSeverityLevel: 3 };
const runtime = createNodeRuntime({ threads: 1 });
const measured: Record<string, Record<string, number>> = {};
afterAll(() => console.log('SparseGPT vs magnitude, held-out output SQNR (dB) / top-1 agreement:', JSON.stringify(measured)));

type Feed = { input: string; dims: number[]; data: Float32Array };

async function run(bytes: Uint8Array, feeds: Feed[], name: string): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, SESSION);
  const out: Float32Array[] = [];
  for (const f of feeds) out.push(Float32Array.from((await s.run({ [f.input]: new ort.Tensor('float32', f.data, f.dims) }))[name]!.data as Float32Array));
  await s.release();
  return out;
}
const flat = (a: Float32Array[]) => Float64Array.from(a.flatMap((x) => Array.from(x)));

const UNSTRUCTURED: PruneRecipe = { ...DEFAULT_PRUNE, sparsity: 0.5, pattern: 'unstructured' };
const TWO_FOUR: PruneRecipe = { ...DEFAULT_PRUNE, pattern: '2:4' };

/** Magnitude and SparseGPT models for each prune recipe, and the held-out outputs of each. */
async function compare(label: string, bytes: Uint8Array, calib: Feed[], held: Feed[], output: string, recipes: [string, PruneRecipe][]) {
  const samples: EvalSample[] = calib.map((f, i) => ({ id: `calib ${i}`, feeds: { [f.input]: { dtype: 'float32', dims: f.dims, data: f.data } } }));
  let t0 = performance.now();
  const h = await collectHessians(runtime, bytes, samples, { maxTensorsPerRun: 8 });
  const captureMs = performance.now() - t0;
  expect(h.unreachable).toEqual([]);
  const ref = await run(bytes, held, output);
  const result: Record<string, { magnitude: number; sparsegpt: number; ref: Float32Array[]; mag: Float32Array[]; sgpt: Float32Array[]; layerGain: number[] }> =
    {};
  for (const [name, prune] of recipes) {
    t0 = performance.now();
    const m = await compressModel(await openModel([bytesSource('m.onnx', bytes)]), { version: 1, prune });
    const magMs = performance.now() - t0;
    t0 = performance.now();
    const s = await compressModel(
      await openModel([bytesSource('m.onnx', bytes)]),
      { version: 1, prune: { ...prune, method: 'sparsegpt' } },
      { sparsegpt: { layers: h.layers, options: {} } },
    );
    const sgptMs = performance.now() - t0;
    const rows = s.prune!.layers.filter((l) => l.sparsegpt);
    expect(rows.length).toBeGreaterThan(0);
    // The zeros magnitude has (SparseGPT moves the mask, not its size; a row holding more zeros than its share keeps
    // them all, so a few more).
    expect(s.prune!.zeros).toBeGreaterThanOrEqual(m.prune!.zeros);
    expect(s.prune!.zeros).toBeLessThanOrEqual(m.prune!.zeros * 1.01);
    // Layer by layer on the calibration inputs (a greedy choice, not a guarantee: the melspectrogram's STFT conv is the exception).
    const layerGain = rows.map((l) => l.sparsegpt!.layerSqnrDb - l.sparsegpt!.magnitudeLayerSqnrDb!);
    const mag = await run(m.bytes, held, output);
    const sgpt = await run(s.bytes, held, output);
    const a = compareOutputs(flat(ref), flat(mag)).sqnrDb;
    const b = compareOutputs(flat(ref), flat(sgpt)).sqnrDb;
    measured[`${label} ${name}`] = {
      magnitude: +a.toFixed(2),
      sparsegpt: +b.toFixed(2),
      captureMs: Math.round(captureMs),
      magnitudeMs: Math.round(magMs),
      sparsegptMs: Math.round(sgptMs),
      worstLayerGainDb: +Math.min(...layerGain).toFixed(2),
    };
    result[name] = { magnitude: a, sparsegpt: b, ref, mag, sgpt, layerGain };
  }
  return result;
}

describe('SparseGPT vs magnitude pruning in onnxruntime-node (held-out realistic inputs)', () => {
  it('openWakeWord embedding model (mel windows of tone mixtures: calibrated on two recordings, measured on two others)', async () => {
    const bytes = readRealModel('embedding_model.onnx');
    const dims = [1, 76, 32, 1];
    const calib = [...(await melWindows(3, 12)), ...(await melWindows(5, 12))].map((data): Feed => ({ input: 'input_1', dims, data }));
    const held = [...(await melWindows(7, 8)), ...(await melWindows(11, 8))].map((data): Feed => ({ input: 'input_1', dims, data }));
    const r = await compare('openwakeword-embedding', bytes, calib, held, 'conv2d_19', [
      ['50% unstructured', UNSTRUCTURED],
      ['2:4', TWO_FOUR],
    ]);
    expect(r['50% unstructured']!.sparsegpt).toBeGreaterThan(r['50% unstructured']!.magnitude + 3);
    expect(r['2:4']!.sparsegpt).toBeGreaterThan(r['2:4']!.magnitude + 3);
  }, 600_000);

  it('openWakeWord hey_jarvis classifier (16 embeddings of real mel windows)', async () => {
    const embedding = await ort.InferenceSession.create(readRealModel('embedding_model.onnx'), SESSION);
    const sequences = async (seed: number, count: number): Promise<Feed[]> => {
      const windows = await melWindows(seed, count + 15);
      const emb: Float32Array[] = [];
      for (const w of windows)
        emb.push(Float32Array.from((await embedding.run({ input_1: new ort.Tensor('float32', w, [1, 76, 32, 1]) })).conv2d_19!.data as Float32Array));
      return Array.from({ length: count }, (_, k) => ({
        input: 'x.1',
        dims: [1, 16, 96],
        data: Float32Array.from(emb.slice(k, k + 16).flatMap((e) => Array.from(e))),
      }));
    };
    const calib = [...(await sequences(3, 16)), ...(await sequences(5, 16)), ...(await sequences(13, 16))];
    const held = [...(await sequences(7, 8)), ...(await sequences(11, 8))];
    await embedding.release();
    const r = await compare('openwakeword-hey_jarvis', readRealModel('hey_jarvis_v0.1.onnx'), calib, held, '53', [
      ['50% unstructured', UNSTRUCTURED],
      ['2:4', TWO_FOUR],
    ]);
    expect(r['50% unstructured']!.sparsegpt).toBeGreaterThan(r['50% unstructured']!.magnitude);
  }, 600_000);

  it('openWakeWord melspectrogram front end (tone mixtures)', async () => {
    const feed = (seed: number): Feed => ({ input: 'input', dims: [1, 4000], data: toneAudio(seed, 4000) });
    const calib = Array.from({ length: 16 }, (_, i) => feed(100 + i));
    const held = Array.from({ length: 8 }, (_, i) => feed(200 + i));
    const r = await compare('openwakeword-melspectrogram', readRealModel('melspectrogram.onnx'), calib, held, 'output', [
      ['50% unstructured', UNSTRUCTURED],
      ['2:4', TWO_FOUR],
    ]);
    // The exception: at 50 % unstructured SparseGPT loses to magnitude on the STFT convs (layer by layer too, measured
    // 12.9 vs 19.4 dB; dampening 0.1–1 and per-block masks do not change it); at 2:4 it is ahead.
    expect(r['2:4']!.sparsegpt).toBeGreaterThan(r['2:4']!.magnitude);
  }, 600_000);

  it('demo MNIST model: top-1 agreement with the original on held-out digits', async () => {
    const slice = JSON.parse(readFileSync(path.resolve('public/demo/mnist-test.json'), 'utf8')) as { count: number; pixels: string };
    const px = Buffer.from(slice.pixels, 'base64');
    const digit = (n: number): Feed => ({ input: 'input', dims: [1, 1, 28, 28], data: Float32Array.from(px.subarray(n * 784, (n + 1) * 784), (p) => p / 255) });
    const calib = Array.from({ length: 64 }, (_, i) => digit(i));
    const held = Array.from({ length: Math.min(slice.count - 64, 256) }, (_, i) => digit(64 + i));
    const bytes = new Uint8Array(readFileSync(path.resolve('public/demo/mnist-cnn.onnx')));
    const r = await compare('demo-mnist', bytes, calib, held, 'logits', [
      ['50% unstructured', UNSTRUCTURED],
      ['2:4', TWO_FOUR],
    ]);
    const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
    for (const [name, x] of Object.entries(r)) {
      const agree = (out: Float32Array[]) => out.filter((o, i) => argmax(o) === argmax(x.ref[i]!)).length / out.length;
      measured[`demo-mnist ${name}`]!.magnitudeTop1 = +agree(x.mag).toFixed(4);
      measured[`demo-mnist ${name}`]!.sparsegptTop1 = +agree(x.sgpt).toFixed(4);
      expect(agree(x.sgpt), name).toBeGreaterThanOrEqual(agree(x.mag));
    }
    expect(r['50% unstructured']!.sparsegpt).toBeGreaterThan(r['50% unstructured']!.magnitude + 3);
  }, 600_000);
});

describe('SparseGPT in the pipeline', () => {
  it('refuses SparseGPT without Hessians; with GPTQ after it the pruned weights stay zero', async () => {
    const bytes = new Uint8Array(readFileSync(path.resolve('public/demo/mnist-cnn.onnx')));
    const recipe: Recipe = { version: 1, prune: { ...UNSTRUCTURED, method: 'sparsegpt' } };
    await expect(compressModel(await openModel([bytesSource('m.onnx', bytes)]), recipe)).rejects.toThrow(/SparseGPT needs calibration/);
    // Channel pruning ranks channels by norm: no calibration needed.
    await compressModel(await openModel([bytesSource('m.onnx', bytes)]), { version: 1, prune: { ...recipe.prune!, pattern: 'channel', sparsity: 0.25 } });
  });
  it('SparseGPT then GPTQ 4-bit: the mask survives quantization', async () => {
    const bytes = new Uint8Array(readFileSync(path.resolve('public/demo/mnist-cnn.onnx')));
    const samples: EvalSample[] = Array.from({ length: 8 }, (_, i) => ({
      id: `c${i}`,
      feeds: { input: { dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, j) => ((i * 31 + j * 7) % 255) / 255) } },
    }));
    const h = await collectHessians(runtime, bytes, samples);
    const deq = new Map<string, Float32Array>();
    const r = await compressModel(
      await openModel([bytesSource('m.onnx', bytes)]),
      {
        version: 1,
        prune: { ...TWO_FOUR, method: 'sparsegpt' },
        quantize: { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32, gptq: { enabled: true } },
      },
      { sparsegpt: { layers: h.layers, options: {} }, gptq: { layers: h.layers, options: {} }, dequantized: deq },
    );
    const pruned = r.prune!.layers.filter((l) => l.sparsegpt);
    expect(pruned.length).toBeGreaterThan(0);
    for (const l of pruned) {
      const v = deq.get(l.name)!;
      expect(v.filter((y) => y === 0).length / v.length, l.name).toBeGreaterThanOrEqual(l.sparsity);
    }
  }, 120_000);
});
