/** Where static int8 puts its Q/DQ pairs, and what it leaves float with the reason (no runtime needed). */
import { describe, expect, it } from 'vitest';
import { DT, attr, graph, model, node, serialize, tensor, valueInfo } from '../../../../test/fixtures/onnx-helpers.ts';
import { EditableModel } from '../../onnx/editable';
import { openModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_QUANTIZE } from '../../recipe';
import { calibrationNames, staticLayout, weightShift } from './static';

const w = (name: string, dims: number[], dtype = DT.FLOAT) =>
  tensor({ name, dtype, dims, values: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1) / 4) });

async function layoutOf(nodes: ReturnType<typeof node>[], inits: ReturnType<typeof tensor>[], outputs: string[]) {
  const g = graph({
    name: 'g',
    nodes,
    inputs: [valueInfo('x', DT.FLOAT, [1, 8])],
    outputs: outputs.map((o) => valueInfo(o, DT.FLOAT, [1, 8])),
    initializers: inits,
  });
  const work = new EditableModel(await openModel([bytesSource('m.onnx', serialize(model(g, { '': 13 })))]));
  return staticLayout(work, DEFAULT_QUANTIZE);
}

describe('static int8 layout', () => {
  it('quantizes a Gemm chain, ties a Reshape to its input, absorbs a lone Relu, keeps a MatMul graph output float', async () => {
    const layout = await layoutOf(
      [
        node('Gemm', 'fc1', ['x', 'w1', 'b1'], ['h'], [attr.int('transB', 1)]),
        node('Relu', 'relu', ['h'], ['r']),
        node('Reshape', 'reshape', ['r', 'shape'], ['s']),
        node('MatMul', 'fc2', ['s', 'w2'], ['y']),
      ],
      [w('w1', [8, 8]), w('b1', [8]), tensor({ name: 'shape', dtype: DT.INT64, dims: [2], values: [1, 8] }), w('w2', [8, 8])],
      ['y'],
    );
    expect(layout.core.map((c) => [c.node.name, c.axis])).toEqual([
      ['fc1', 0],
      ['fc2', 1],
    ]);
    expect(layout.floatOps).toEqual([]);
    // x and h are quantized; y (a MatMul's graph output) stays float; s shares h's parameters (r is h after the Relu).
    expect(layout.own.sort()).toEqual(['h', 'x']);
    expect(layout.tied.get('s')).toBe('h');
    expect(layout.relu.get('h')?.name).toBe('relu');
    // Calibration measures the Relu output in place of h, and fc2's input for its mean.
    expect(calibrationNames(layout).sort()).toEqual(['r', 's', 'x']);
  });

  it('leaves ops float with the reason: activation × activation, shared weight, float16 weight, Gemm with transA', async () => {
    const layout = await layoutOf(
      [
        node('MatMul', 'both', ['x', 'x2'], ['a']),
        node('Transpose', 't', ['x'], ['x2']),
        node('MatMul', 'shared1', ['a', 'ws'], ['b']),
        node('MatMul', 'shared2', ['b', 'ws'], ['c']),
        node('MatMul', 'half', ['c', 'wh'], ['d']),
        node('Gemm', 'transA', ['d', 'wg'], ['e'], [attr.int('transA', 1)]),
      ],
      [w('ws', [8, 8]), w('wh', [8, 8], DT.FLOAT16), w('wg', [8, 8])],
      ['e'],
    );
    expect(layout.core).toEqual([]);
    expect(Object.fromEntries(layout.floatOps.map((o) => [o.node, o.reason]))).toEqual({
      both: 'its weight is computed at run time (both inputs are activations)',
      shared1: 'its weight is shared with other ops',
      shared2: 'its weight is shared with other ops',
      half: 'its weight is float16',
      transA: 'Gemm with transA, alpha or beta has no integer form here',
    });
  });
});

describe('bias correction: the mean shift of weight rounding', () => {
  it('Conv with groups: Σ over each output channel’s own input channels of ΔW · μ', () => {
    // 2 groups, Cout 2, Cin/g 1, 1×2 kernels: channel 0 reads input 0, channel 1 reads input 1.
    const op = { node: node('Conv', 'c', ['x', 'w'], ['y'], [attr.int('group', 2)]), axis: 0 };
    const original = Float32Array.of(1, 2, 3, 4);
    const rounded = Float32Array.of(1.5, 2, 3, 3.75); // Δ = [0.5, 0] and [0, −0.25]
    expect(Array.from(weightShift(op, [2, 1, 1, 2], original, rounded, [10, 100])!)).toEqual([5, -25]);
    expect(weightShift(op, [2, 1, 1, 2], original, rounded, [1, 2, 3])).toBeUndefined();
  });

  it('Gemm (transB and not): Σ_k ΔW[n,k] · μ[k]', () => {
    const original = new Float32Array(6);
    const rounded = Float32Array.of(1, 0, 0, 0, 0, 2); // transB: W [N=2, K=3]; else W [K=2, N=3]
    const transB = { node: node('Gemm', 'g', ['x', 'w'], ['y'], [attr.int('transB', 1)]), axis: 0 };
    expect(Array.from(weightShift(transB, [2, 3], original, rounded, [1, 2, 3])!)).toEqual([1, 6]);
    const plain = { node: node('Gemm', 'g', ['x', 'w'], ['y']), axis: 1 };
    expect(Array.from(weightShift(plain, [2, 3], original, rounded, [1, 2])!)).toEqual([1, 0, 4]);
  });
});
