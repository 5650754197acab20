import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../core/onnx/types';
import { groupLayers, overallSparsity, shareByOp, sortLayers, sparsityRows, UNUSED_LAYER } from './layers';

function tensor(id: number, over: Partial<TensorInfo>): TensorInfo {
  return {
    id,
    name: `t${id}`,
    dtype: 'FLOAT',
    shape: [2, 2],
    elements: 4,
    bytes: 16,
    location: 'initializer',
    graph: 'main',
    consumers: ['Conv'],
    consumerNodes: ['conv'],
    isWeight: true,
    multiplied: false,
    ...over,
  };
}

const tensors = [
  tensor(0, { name: 'conv.w', layer: 'conv', layerOp: 'Conv', elements: 100, bytes: 400, multiplied: true }),
  tensor(1, { name: 'conv.b', layer: 'conv', layerOp: 'Conv', elements: 10, bytes: 40 }),
  tensor(2, { name: 'shape', dtype: 'INT64', layer: 'reshape', layerOp: 'Reshape', isWeight: false, elements: 2, bytes: 16 }),
  tensor(3, { name: 'fc.b', layer: 'fc', layerOp: 'Gemm', elements: 500, bytes: 2000 }),
  tensor(4, { name: 'fc.w', layer: 'fc', layerOp: 'Gemm', elements: 200, bytes: 400, multiplied: true }),
  tensor(5, { name: 'orphan', consumers: [], consumerNodes: [], elements: 8, bytes: 32 }),
];

describe('groupLayers', () => {
  it('groups weights by layer, leaves helper tensors out, and picks the multiplied weight to select', () => {
    const layers = groupLayers(tensors);
    expect(layers.map((l) => l.layer)).toEqual(['conv', 'fc', UNUSED_LAYER]);
    expect(layers[0]).toMatchObject({ op: 'Conv', params: 110, bytes: 440, weightId: 0, tensorIds: [0, 1] });
    // fc.b is bigger, but the multiplied fc.w is the layer's weight.
    expect(layers[1]).toMatchObject({ op: 'Gemm', params: 700, bytes: 2400, weightId: 4 });
  });

  it('sorts largest first by the chosen measure and sums per op type', () => {
    const layers = groupLayers(tensors);
    expect(sortLayers(layers, 'bytes').map((l) => l.layer)).toEqual(['fc', 'conv', UNUSED_LAYER]);
    expect(shareByOp(layers).map((s) => [s.op, s.layers, s.bytes])).toEqual([
      ['Gemm', 1, 2400],
      ['Conv', 1, 440],
      ['—', 1, 32],
    ]);
  });
});

describe('sparsity', () => {
  it('orders layers sparsest first and sums zeros over all of them', () => {
    const rows = sparsityRows([
      { tensorId: 0, name: 'a', layer: 'a', op: 'Conv', elements: 100, zeros: 10, zeroReference: 'float zero' },
      { tensorId: 1, name: 'b', layer: 'b', op: 'Conv', elements: 100, zeros: 50, zeroReference: 'float zero' },
    ]);
    expect(rows.map((r) => [r.layer, r.fraction])).toEqual([
      ['b', 0.5],
      ['a', 0.1],
    ]);
    expect(overallSparsity(rows)).toBeCloseTo(0.3);
  });
});
