/**
 * The op-traits rows beyond Conv/Gemm/MatMul, each quantized and run in onnxruntime-node: Einsum with a constant
 * operand, com.microsoft.Attention, a grouped ConvTranspose, a positional table read by Add (a generic constant),
 * bfloat16 weights reaching a MatMul through a Cast. Two checks each: the writer is exact (the written model equals
 * the original with each weight replaced by the values we report; max |Δ| ≤ 1e-4 of the output scale), and the
 * fidelity (cosine ≥ 0.999 at int8 per channel, ≥ 0.98 at 4 bits per block of 32).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from '../src/core/compress/compress';
import { attr as coreAttr } from '../src/core/onnx/graph-edit';
import { openModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { DEFAULT_QUANTIZE, type QuantizeRecipe } from '../src/core/recipe';
import { DT, attr, graph, model, node, serialize, tensor, valueInfo } from './fixtures/onnx-helpers.ts';
import { realisticWeights, seededGaussian } from './fixtures/patterns';
import { compareOutputs, runAll, simulatedModel, type Feeds } from './helpers/ort-compare';

const weight = (name: string, dims: number[], dtype = DT.FLOAT, seed = dims.length * 7 + dims[0]!) =>
  tensor({ name, dtype, dims, values: realisticWeights(seed, dims, { std: 0.05, channelAxis: dims.length - 1 }) });

function input(dims: number[], seed: number): ort.Tensor {
  const g = seededGaussian(seed);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => g()),
    dims,
  );
}

interface OpCase {
  title: string;
  bytes: Uint8Array;
  samples: Feeds[];
  /** The weights that must be quantized, with the op the report names. */
  expect: Record<string, string>;
}

const CASES: OpCase[] = [
  {
    title: 'Einsum with a constant operand (bij,jk->bik)',
    bytes: serialize(
      model(
        graph({
          name: 'einsum',
          nodes: [node('Einsum', 'proj', ['x', 'W'], ['y'], [coreAttr.string('equation', 'bij,jk->bik')])],
          inputs: [valueInfo('x', DT.FLOAT, [2, 6, 64])],
          outputs: [valueInfo('y', DT.FLOAT, [2, 6, 48])],
          initializers: [weight('W', [64, 48])],
        }),
        { '': 13 },
      ),
    ),
    samples: [{ x: input([2, 6, 64], 1) }, { x: input([2, 6, 64], 2) }],
    expect: { W: 'Einsum' },
  },
  {
    title: 'com.microsoft.Attention (weights [hidden, 3·hidden], bias kept)',
    bytes: serialize(
      model(
        graph({
          name: 'attention',
          nodes: [node('Attention', 'attn', ['x', 'W', 'B'], ['y'], [attr.int('num_heads', 4)], 'com.microsoft')],
          inputs: [valueInfo('x', DT.FLOAT, [1, 8, 64])],
          outputs: [valueInfo('y', DT.FLOAT, [1, 8, 64])],
          initializers: [weight('W', [64, 192]), tensor({ name: 'B', dtype: DT.FLOAT, dims: [192], values: realisticWeights(5, [192], { std: 0.02 }) })],
        }),
        { '': 13, 'com.microsoft': 1 },
      ),
    ),
    samples: [{ x: input([1, 8, 64], 3) }, { x: input([1, 8, 64], 4) }],
    expect: { W: 'com.microsoft.Attention' },
  },
  {
    title: 'grouped ConvTranspose (W [Cin, Cout/groups, k, k], groups 2)',
    bytes: serialize(
      model(
        graph({
          name: 'deconv',
          nodes: [
            node(
              'ConvTranspose',
              'up',
              ['x', 'W', 'b'],
              ['y'],
              [attr.int('group', 2), attr.ints('strides', [2, 2]), attr.ints('kernel_shape', [4, 4]), attr.ints('pads', [1, 1, 1, 1])],
            ),
          ],
          inputs: [valueInfo('x', DT.FLOAT, [1, 64, 8, 8])],
          outputs: [valueInfo('y', DT.FLOAT, [1, 48, 16, 16])],
          initializers: [weight('W', [64, 24, 4, 4]), tensor({ name: 'b', dtype: DT.FLOAT, dims: [48], values: realisticWeights(6, [48], { std: 0.02 }) })],
        }),
        { '': 13 },
      ),
    ),
    samples: [{ x: input([1, 64, 8, 8], 5) }],
    expect: { W: 'ConvTranspose' },
  },
  {
    title: 'a positional table read by Add, then a MatMul (a generic constant and a weight)',
    bytes: serialize(
      model(
        graph({
          name: 'positions',
          nodes: [node('Add', 'pos', ['x', 'P'], ['xp']), node('MatMul', 'proj', ['xp', 'W'], ['y'])],
          inputs: [valueInfo('x', DT.FLOAT, [1, 64, 96])],
          outputs: [valueInfo('y', DT.FLOAT, [1, 64, 32])],
          initializers: [weight('P', [64, 96]), weight('W', [96, 32])],
        }),
        { '': 13 },
      ),
    ),
    samples: [{ x: input([1, 64, 96], 7) }],
    expect: { P: 'Add', W: 'MatMul' },
  },
  {
    title: 'bfloat16 weights reaching a MatMul through a Cast',
    bytes: serialize(
      model(
        graph({
          name: 'bf16',
          nodes: [node('Cast', 'up', ['W'], ['Wf'], [attr.int('to', DT.FLOAT)]), node('MatMul', 'proj', ['x', 'Wf'], ['y'])],
          inputs: [valueInfo('x', DT.FLOAT, [4, 128])],
          outputs: [valueInfo('y', DT.FLOAT, [4, 64])],
          initializers: [weight('W', [128, 64], DT.BFLOAT16)],
        }),
        { '': 13 },
      ),
    ),
    samples: [{ x: input([4, 128], 9) }],
    expect: { W: 'MatMul' },
  },
];

const RECIPES: { label: string; recipe: QuantizeRecipe; minCosine: number }[] = [
  { label: 'int8 per channel', recipe: { ...DEFAULT_QUANTIZE }, minCosine: 0.999 },
  { label: '4 bits per block of 32', recipe: { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32 }, minCosine: 0.98 },
];

describe('every weight-bearing op of the op-traits table quantizes, and the written model runs', () => {
  for (const c of CASES) {
    for (const { label, recipe, minCosine } of RECIPES) {
      it(`${c.title}: ${label}`, async () => {
        const dequantized = new Map<string, Float32Array>();
        const { bytes, report, coverage } = await quantizeModel(await openModel([bytesSource('m.onnx', c.bytes)]), recipe, { dequantized });
        const quantized = Object.fromEntries(report.tensors.filter((t) => t.action === 'quantize').map((t) => [t.name, t.op]));
        expect(quantized).toEqual(c.expect);
        expect(coverage.fraction).toBeGreaterThan(0.95);
        const ref = await runAll(c.bytes, c.samples);
        const got = await runAll(bytes, c.samples);
        const sim = compareOutputs(await runAll(simulatedModel(c.bytes, dequantized), c.samples), got);
        expect(sim.maxAbs).toBeLessThanOrEqual(1e-4 * sim.scale);
        expect(compareOutputs(ref, got).cosine).toBeGreaterThanOrEqual(minCosine);
      });
    }
  }
});
