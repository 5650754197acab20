/** "Params after" counts what pruning removed (the mask), not the kept weights quantization later rounds to zero. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixtureSamples, resNetStyle } from '../../../../test/fixtures/channel-groups';
import { createNodeRuntime } from '../../../runtime/ort-node';
import { collectHessians } from '../../teacher/gptq-layers';
import { openModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type PruneRecipe, type Recipe } from '../../recipe';
import { compressModel } from '../compress';

ort.env.logLevel = 'error';
const runtime = createNodeRuntime({ threads: 1 });

describe('prune report: params after', () => {
  const f = resNetStyle({ width: 8, size: 16 });
  const samples = fixtureSamples(f, 8);
  for (const pattern of ['unstructured', '2:4'] as const)
    it(`SparseGPT ${pattern} pruned and 2-bit quantized in one pass: the same counts as SparseGPT alone`, async () => {
      const layers = (await collectHessians(runtime, f.bytes, samples)).layers;
      const prune: PruneRecipe = { ...DEFAULT_PRUNE, sparsity: 0.5, pattern, method: 'sparsegpt' };
      const options = { sparsegpt: { layers, options: {} } };
      const open = () => openModel([bytesSource('m.onnx', f.bytes)]);
      const alone = (await compressModel(await open(), { version: 1, prune }, options)).prune!;
      const dequantized = new Map<string, Float32Array>();
      const recipe: Recipe = { version: 1, prune, quantize: { ...DEFAULT_QUANTIZE, bits: 2, granularity: 'channel' } };
      const joint = await compressModel(await open(), recipe, { ...options, dequantized });
      const p = joint.prune!;
      expect(p.layers.filter((l) => l.sparsegpt && 'joint' in l.sparsegpt).length).toBeGreaterThan(0);
      // 2-bit rounding zeroes kept weights too: the written tensors hold more zeros than the mask.
      const writtenZeros = p.layers.reduce((n, l) => n + (dequantized.get(l.name)?.filter((x) => x === 0).length ?? 0), 0);
      expect(writtenZeros).toBeGreaterThan(p.zeros);
      for (const l of p.layers) {
        const a = alone.layers.find((x) => x.name === l.name)!;
        expect([l.name, l.paramsAfter, l.sparsity]).toEqual([a.name, a.paramsAfter, a.sparsity]);
      }
      expect([p.paramsAfter, p.zeros]).toEqual([alone.paramsAfter, alone.zeros]);
    }, 120_000);
});
