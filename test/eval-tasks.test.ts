/**
 * Task-aware fidelity on outputs that are not class scores: a text-detector-like probability map (mask IoU)
 * and an OCR-like sequence of per-position class scores (per-position agreement), each inferred from the
 * output's shape and values, measured in onnxruntime-node against quantized versions.
 */
import { describe, expect, it } from 'vitest';
import { compressModel } from '../src/core/compress/compress';
import { evaluateModels } from '../src/core/eval/evaluate';
import { seededRandom } from '../src/core/eval/synthetic';
import type { EvalDataset } from '../src/core/eval/types';
import { openModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_QUANTIZE } from '../src/core/recipe';
import { createNodeRuntime } from '../src/runtime/ort-node';
import { DT, attr, graph, model, node, seededValues, serialize, tensor, valueInfo } from './fixtures/onnx-helpers';

const runtime = createNodeRuntime({ threads: 1 });
const w = (name: string, dims: number[], seed: number, scale: number, offset = 0) =>
  tensor({
    name,
    dtype: DT.FLOAT,
    dims,
    values: seededValues(
      seed,
      dims.reduce((a, b) => a * b, 1),
      scale,
    ).map((v) => v + offset),
  });

/** x [1,1,32,32] → Conv 1→8 (3×3) → Relu → Conv 8→1 (1×1, strong weights) → Sigmoid: a near-binary "text" map. */
function detector(): Uint8Array {
  const g = graph({
    name: 'detector',
    inputs: [valueInfo('image', DT.FLOAT, [1, 1, 32, 32])],
    outputs: [valueInfo('prob_map', DT.FLOAT, [1, 1, 32, 32])],
    initializers: [
      w('c1.w', [8, 1, 3, 3], 1, 0.5, 0.1),
      w('c1.b', [8], 2, 0.1),
      w('head.w', [1, 8, 1, 1], 3, 6, 2),
      tensor({ name: 'head.b', dtype: DT.FLOAT, dims: [1], values: [-3] }),
    ],
    nodes: [
      node('Conv', 'c1', ['image', 'c1.w', 'c1.b'], ['h'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])]),
      node('Relu', 'relu', ['h'], ['r']),
      node('Conv', 'head', ['r', 'head.w', 'head.b'], ['logits'], [attr.ints('kernel_shape', [1, 1])]),
      node('Sigmoid', 'sigmoid', ['logits'], ['prob_map']),
    ],
  });
  return serialize(model(g, { '': 13 }));
}

/** x [1,24,16] → MatMul [16,40] → Softmax: a character distribution per position. */
function recognizer(): Uint8Array {
  const g = graph({
    name: 'recognizer',
    inputs: [valueInfo('features', DT.FLOAT, [1, 24, 16])],
    outputs: [valueInfo('char_probs', DT.FLOAT, [1, 24, 40])],
    initializers: [w('proj.w', [16, 40], 5, 1)],
    nodes: [node('MatMul', 'proj', ['features', 'proj.w'], ['scores']), node('Softmax', 'softmax', ['scores'], ['char_probs'], [attr.int('axis', -1)])],
  });
  return serialize(model(g, { '': 13 }));
}

/** Images of a few bright blobs (strokes-like regions) on a dark background. */
function blobImages(count: number): EvalDataset {
  const random = seededRandom(11);
  const samples = Array.from({ length: count }, (_, s) => {
    const data = new Float32Array(32 * 32);
    for (let b = 0; b < 4; b++) {
      const cx = random() * 32,
        cy = random() * 32,
        r = 2 + random() * 5;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) data[y * 32 + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r));
    }
    return { id: `blobs #${s}`, feeds: { image: { dtype: 'float32' as const, dims: [1, 1, 32, 32], data } } };
  });
  return { name: 'blobs', description: 'blob images', samples, synthetic: false };
}

function featureSequences(count: number): EvalDataset {
  const random = seededRandom(12);
  const samples = Array.from({ length: count }, (_, s) => ({
    id: `seq #${s}`,
    feeds: { features: { dtype: 'float32' as const, dims: [1, 24, 16], data: Float32Array.from({ length: 24 * 16 }, () => random() * 2 - 1) } },
  }));
  return { name: 'sequences', description: 'feature sequences', samples, synthetic: false };
}

async function quantized(bytes: Uint8Array, bits: number) {
  const opened = await openModel([bytesSource('m.onnx', bytes)]);
  return (await compressModel(opened, { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits, granularity: 'tensor' } })).bytes;
}

describe('task-aware fidelity', () => {
  it('a probability map is judged by mask IoU and flipped pixels', async () => {
    const original = detector();
    const data = blobImages(16);
    const r4 = await evaluateModels(runtime, original, await quantized(original, 4), data, { backends: ['cpu'], runs: 0 });
    const r2 = await evaluateModels(runtime, original, await quantized(original, 2), data, { backends: ['cpu'], runs: 0 });
    const f4 = r4.backends[0]!.fidelity![0]!;
    const f2 = r2.backends[0]!.fidelity![0]!;
    expect(f4.task).toBe('map');
    expect(f4.headline.metric).toBe('mask IoU @ 0.5');
    // Thresholds: 4 bits keeps the masks (IoU ≥ 0.98, < 1 % of pixels flipped); 2 bits flips several times more.
    expect(f4.maskIoU!).toBeGreaterThan(0.98);
    expect(f4.flippedPixels!).toBeLessThan(0.01);
    expect(f2.maskIoU!).toBeLessThan(f4.maskIoU!);
    expect(f2.flippedPixels!).toBeGreaterThan(3 * f4.flippedPixels!);
  });

  it('a sequence of class scores is judged by per-position agreement', async () => {
    const original = recognizer();
    const data = featureSequences(16);
    const r4 = await evaluateModels(runtime, original, await quantized(original, 4), data, { backends: ['cpu'], runs: 0 });
    const r2 = await evaluateModels(runtime, original, await quantized(original, 2), data, { backends: ['cpu'], runs: 0 });
    const f4 = r4.backends[0]!.fidelity![0]!;
    const f2 = r2.backends[0]!.fidelity![0]!;
    expect(f4.task).toBe('sequence');
    expect(f4.headline.metric).toBe('per-position agreement');
    expect(f4.positionAgreement!).toBeGreaterThan(f2.positionAgreement!);
    expect(f4.klDivergence!).toBeGreaterThan(0);
    expect(f4.klDivergence!).toBeLessThan(f2.klDivergence!);
    // Why the headline is not cosine: at 4 bits per tensor the outputs look nearly identical (cosine > 0.99) while
    // roughly one position in twelve emits a different character (measured 0.996 and 91.4 %).
    expect(f4.cosine).toBeGreaterThan(0.99);
    expect(f4.positionAgreement!).toBeLessThan(0.95);
  });
});
