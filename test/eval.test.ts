/**
 * The evaluation lab end to end in Node (onnxruntime-node): evaluate the demo model against its int8 and int4
 * versions, accuracy checked against an independent computation, a 2×2 sweep with its frontier, per-layer
 * sensitivity and the mixed-precision plan it makes (whose size is then measured).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { compressModel } from '../src/core/compress/compress';
import { CandidateEvaluator } from '../src/core/eval/candidate';
import { evaluateModels } from '../src/core/eval/evaluate';
import { measureSensitivity, planMixedPrecision, recipeForOnly, sensitivityLayers } from '../src/core/eval/sensitivity';
import { gridCandidates, markFrontier, runSweep, sweepCsv, type SweepPoint } from '../src/core/eval/sweep';
import { syntheticDataset } from '../src/core/eval/synthetic';
import type { EvalDataset } from '../src/core/eval/types';
import { openModel, summarizeModel, type OpenedModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type Recipe } from '../src/core/recipe';
import { createNodeRuntime } from '../src/runtime/ort-node';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'demo');
const demoBytes = new Uint8Array(readFileSync(join(DEMO_DIR, 'mnist-cnn.onnx')));
const slice = JSON.parse(readFileSync(join(DEMO_DIR, 'mnist-test.json'), 'utf8')) as { count: number; labels: number[]; pixels: string };

/** The demo digits as a dataset, built here without the studio's loader. */
function demoDataset(count = slice.count): EvalDataset {
  const pixels = Buffer.from(slice.pixels, 'base64');
  return {
    name: 'demo',
    description: 'demo digits',
    synthetic: false,
    samples: Array.from({ length: count }, (_, i) => ({
      id: `demo #${i}`,
      label: slice.labels[i],
      feeds: { input: { dtype: 'float32' as const, dims: [1, 1, 28, 28], data: Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784), (p) => p / 255) } },
    })),
  };
}

/** Accuracy computed independently: one batched onnxruntime session, argmax by hand. */
async function independentAccuracy(bytes: Uint8Array): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, {
    extra: { session: { qdq_matmulnbits_accuracy_level: '0' } },
  } as ort.InferenceSession.SessionOptions);
  const pixels = Buffer.from(slice.pixels, 'base64');
  const input = new ort.Tensor(
    'float32',
    Float32Array.from(pixels, (p) => p / 255),
    [slice.count, 1, 28, 28],
  );
  const logits = (await session.run({ input })).logits!.data as Float32Array;
  await session.release();
  let correct = 0;
  for (let i = 0; i < slice.count; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c]! > logits[i * 10 + best]!) best = c;
    if (best === slice.labels[i]) correct++;
  }
  return correct / slice.count;
}

let opened: OpenedModel;
const runtime = createNodeRuntime({ threads: 1 });
const compress = async (recipe: Recipe) => (await compressModel(opened, recipe)).bytes;

beforeAll(async () => {
  opened = await openModel([bytesSource('mnist-cnn.onnx', demoBytes)]);
});

describe('evaluateModels (onnxruntime-node)', () => {
  it('demo vs int8: accuracy equals an independent computation; fidelity is high', async () => {
    const int8 = await compress({ version: 1, quantize: { ...DEFAULT_QUANTIZE } });
    const report = await evaluateModels(runtime, demoBytes, int8, demoDataset(), { backends: ['cpu'], runs: 5 });
    const cpu = report.backends[0]!;
    expect(cpu.available).toBe(true);
    expect(cpu.accuracy!.labelled).toBe(500);
    expect(cpu.accuracy!.original).toBeCloseTo(await independentAccuracy(demoBytes), 12);
    expect(cpu.accuracy!.original).toBeCloseTo(0.978, 12); // public/demo/README.md
    expect(cpu.accuracy!.candidate).toBeCloseTo(await independentAccuracy(int8), 12);
    const logits = cpu.fidelity![0]!;
    expect(logits.task).toBe('classification');
    // Thresholds: int8 per-channel on this CNN keeps cosine ≥ 0.999 and ≥ 98 % top-1 agreement.
    expect(logits.cosine).toBeGreaterThan(0.999);
    expect(logits.top1Agreement).toBeGreaterThan(0.98);
    expect(logits.sqnrDb!).toBeGreaterThan(25);
    expect(logits.klDivergence!).toBeLessThan(0.01);
    expect(cpu.latency!.candidate.runs).toBe(5);
    expect(cpu.latency!.original.medianMs).toBeGreaterThan(0);
    expect(report.sizes.candidate).toBeLessThan(report.sizes.original / 3);
  });

  it('the model against itself is identical', async () => {
    const report = await evaluateModels(runtime, demoBytes, demoBytes, demoDataset(50), { backends: ['cpu'], runs: 0 });
    const f = report.backends[0]!.fidelity![0]!;
    expect(f.cosine).toBeCloseTo(1, 12);
    expect(f.sqnrDb).toBeNull();
    expect(f.top1Agreement).toBe(1);
    expect(report.backends[0]!.latency).toBeUndefined();
  });

  it('2-bit per-tensor damages far more than int8, on real and on synthetic inputs', async () => {
    const q2 = await compress({ version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 2, granularity: 'tensor' } });
    const real = await evaluateModels(runtime, demoBytes, q2, demoDataset(200), { backends: ['cpu'], runs: 0 });
    const synthetic = syntheticDataset(summarizeModel(opened).inputs, { count: 50, floats: 'uniform01' });
    const noise = await evaluateModels(runtime, demoBytes, q2, synthetic, { backends: ['cpu'], runs: 0 });
    expect(real.backends[0]!.fidelity![0]!.cosine).toBeLessThan(0.99);
    expect(noise.dataset.synthetic).toBe(true);
    expect(noise.backends[0]!.accuracy).toBeUndefined();
  });

  it('an unavailable backend is reported, not fatal', async () => {
    const report = await evaluateModels(runtime, demoBytes, demoBytes, demoDataset(5), { backends: ['cpu', 'webgpu'], runs: 0 });
    expect(report.backends[1]).toMatchObject({ backend: 'webgpu', available: false });
    expect(report.backends[1]!.error).toMatch(/browser/);
  });
});

describe('sweep', () => {
  it('grid candidates: bits × sparsity × granularity, float-only points left out', () => {
    const c = gridCandidates({ bits: [8, 4, 32], sparsities: [0, 0.5], granularities: ['channel'] });
    expect(c.map((x) => x.label)).toEqual([
      'int8 per channel',
      'int4 per channel',
      '50% pruned + int8 per channel',
      '50% pruned + int4 per channel',
      '50% pruned',
    ]);
  });

  it('frontier: no point is beaten on both quality and latency', () => {
    const p = (id: number, accuracy: number, ms: number): SweepPoint => ({
      id,
      label: `${id}`,
      recipe: { version: 1 },
      isOriginal: false,
      sizeBytes: 1,
      accuracy,
      latency: { medianMs: ms } as SweepPoint['latency'],
      frontier: false,
    });
    const points = markFrontier([p(0, 0.98, 10), p(1, 0.97, 5), p(2, 0.96, 6), p(3, 0.9, 2), p(4, 0.98, 12)]);
    expect(points.filter((x) => x.frontier).map((x) => x.id)).toEqual([0, 1, 3]);
  });

  it('a 2×2 sweep on the demo measures every point in onnxruntime', async () => {
    const evaluator = await CandidateEvaluator.create(runtime, demoBytes, demoDataset(200), { backend: 'cpu', runs: 5 });
    try {
      const candidates = gridCandidates({ bits: [8, 4], sparsities: [0, 0.5], granularities: ['channel'] });
      const progress: number[] = [];
      const points = await runSweep(
        candidates,
        {
          compress: (r) => compress(r),
          measure: (b) => evaluator.evaluate(b),
          original: async () => ({ sizeBytes: demoBytes.byteLength, latency: await evaluator.originalLatency(), accuracy: evaluator.originalAccuracy?.value }),
        },
        { onProgress: (p) => progress.push(p.done) },
      );
      expect(points).toHaveLength(5);
      expect(progress.at(-1)).toBe(5);
      expect(points[0]!.isOriginal).toBe(true);
      expect(points.every((p) => !p.error && p.latency!.medianMs > 0 && p.accuracy! > 0.5)).toBe(true);
      expect(points.some((p) => p.frontier)).toBe(true);
      const int8 = points.find((p) => p.label === 'int8 per channel')!;
      expect(int8.sizeBytes).toBeLessThan(demoBytes.byteLength / 3);
      expect(int8.accuracy).toBeGreaterThanOrEqual(0.95);
      const csv = sweepCsv(points).trim().split('\n');
      expect(csv).toHaveLength(6);
      expect(csv[0]).toMatch(/^id,label,size_bytes/);
    } finally {
      await evaluator.release();
    }
  });
});

describe('sensitivity and mixed precision', () => {
  it('one layer at a time: the restricted recipe touches that layer only', async () => {
    const recipe: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 4 } };
    const layers = sensitivityLayers(opened, recipe);
    expect(layers.length).toBe(4); // two Conv, two Gemm weights
    // Pruning and fp16 recipes list the weights they change, exclusions honoured, in graph order.
    expect(sensitivityLayers(opened, { version: 1, prune: { ...DEFAULT_PRUNE, exclude: ['conv1*'] } }).map((l) => l.name)).toEqual(
      layers.slice(1).map((l) => l.name),
    );
    expect(sensitivityLayers(opened, { version: 1, quantize: { ...DEFAULT_QUANTIZE, format: 'fp16', excludeOps: ['Gemm'] } }).map((l) => l.op)).toEqual([
      'Conv',
      'Conv',
    ]);
    const only = recipeForOnly(recipe, layers, layers[1]!);
    const result = await compressModel(opened, only);
    const quantized = result.quantize!.tensors.filter((t) => t.action === 'quantize').map((t) => t.name);
    expect(quantized).toEqual([layers[1]!.name]);
  });

  it('ranks layers and plans a recipe that meets a size target; the measured size is close to the estimate', async () => {
    const recipe: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 2, granularity: 'tensor' } };
    const layers = sensitivityLayers(opened, recipe);
    const evaluator = await CandidateEvaluator.create(runtime, demoBytes, demoDataset(100), { backend: 'cpu', runs: 0 });
    try {
      const ranked = await measureSensitivity(recipe, layers, {
        compress: (r) => compress(r),
        measure: (b) => evaluator.evaluate(b),
        originalBytes: demoBytes.byteLength,
      });
      expect(ranked).toHaveLength(4);
      for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.damage).toBeGreaterThanOrEqual(ranked[i]!.damage);
      expect(ranked.every((r) => r.savedBytes > 0 && r.damage > 0)).toBe(true);
      // Target: halfway between all-8-bit and all-2-bit (estimated from the measured savings).
      const all8 = await compress({ version: 1, quantize: { ...recipe.quantize!, bits: 8 } });
      const all2 = await compress(recipe);
      const target = Math.round((all8.byteLength + all2.byteLength) / 2);
      const plan = planMixedPrecision(recipe, ranked, demoBytes.byteLength, { sizeBytes: target });
      expect(plan.targetMet).toBe(true);
      expect(plan.protection).toBe('8-bit');
      expect(plan.compressed.length).toBeGreaterThan(0);
      expect(plan.protectedLayers.length).toBeGreaterThan(0);
      const mixed = await compress(plan.recipe);
      // The estimate is within 5 % of the measured size, and the result meets the target within that.
      expect(Math.abs(mixed.byteLength - plan.estimatedBytes) / mixed.byteLength).toBeLessThan(0.05);
      expect(mixed.byteLength).toBeLessThan(target * 1.05);
      // Protecting the sensitive layers beats compressing the same number of bytes blindly: fidelity above all-2-bit.
      const m = await evaluator.evaluate(mixed);
      const a = await evaluator.evaluate(all2);
      expect(m.fidelity[0]!.cosine).toBeGreaterThan(a.fidelity[0]!.cosine);
    } finally {
      await evaluator.release();
    }
  });
});
