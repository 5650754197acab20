import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../core/onnx/types';
import { locationLabel, selectTensorRows, subgraphLabel, usedByDetail } from './tensorRows';

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
    consumerNodes: [`conv${id}`],
    isWeight: true,
    multiplied: true,
    ...over,
  };
}

const tensors = [
  tensor(0, { name: 'conv1.weight', bytes: 400, elements: 100, shape: [4, 1, 5, 5] }),
  tensor(1, { name: 'shape_const', dtype: 'INT64', isWeight: false, consumers: ['Reshape'], consumerNodes: ['reshape'], bytes: 16, elements: 2, shape: [2] }),
  tensor(2, { name: 'fc.weight', bytes: 4000, elements: 1000, shape: [10, 100], consumers: ['Gemm'], consumerNodes: ['fc'] }),
  tensor(3, { name: 'w_half', dtype: 'FLOAT16', bytes: 8, consumers: ['MatMul'], location: 'constant', producerNode: 'Const_3' }),
];

describe('selectTensorRows', () => {
  it('hides non-weight tensors unless asked and counts them', () => {
    const hidden = selectTensorRows(tensors, { filter: '', sort: null, showNonWeights: false });
    expect(hidden.rows.map((t) => t.id)).toEqual([0, 2, 3]);
    expect(hidden.hiddenNonWeights).toBe(1);
    const all = selectTensorRows(tensors, { filter: '', sort: null, showNonWeights: true });
    expect(all.rows).toHaveLength(4);
  });

  it('filters on name, op type and both spellings of the dtype', () => {
    const opts = { sort: null, showNonWeights: true };
    expect(selectTensorRows(tensors, { ...opts, filter: 'gemm' }).rows.map((t) => t.id)).toEqual([2]);
    expect(selectTensorRows(tensors, { ...opts, filter: 'float16' }).rows.map((t) => t.id)).toEqual([3]);
    expect(selectTensorRows(tensors, { ...opts, filter: 'INT64' }).rows.map((t) => t.id)).toEqual([1]);
    expect(selectTensorRows(tensors, { ...opts, filter: 'conv1' }).rows.map((t) => t.id)).toEqual([0]);
    expect(selectTensorRows(tensors, { ...opts, filter: 'nothing' }).filteredOut).toBe(4);
  });

  it('sorts by bytes and shape in either direction, ties in catalog order', () => {
    const opts = { filter: '', showNonWeights: true };
    expect(selectTensorRows(tensors, { ...opts, sort: { key: 'bytes', dir: 'desc' } }).rows.map((t) => t.id)).toEqual([2, 0, 1, 3]);
    expect(selectTensorRows(tensors, { ...opts, sort: { key: 'shape', dir: 'asc' } }).rows.map((t) => t.id)).toEqual([1, 3, 2, 0]);
    expect(selectTensorRows(tensors, { ...opts, sort: { key: 'name', dir: 'asc' } }).rows.map((t) => t.name)).toEqual([
      'conv1.weight',
      'fc.weight',
      'shape_const',
      'w_half',
    ]);
  });
});

describe('labels', () => {
  it('says where a tensor lives', () => {
    expect(locationLabel(tensors[0])).toBe('initializer');
    expect(locationLabel(tensors[3])).toBe('constant node Const_3');
    expect(locationLabel(tensor(9, { location: 'external', externalFile: 'model.data' }))).toBe('external model.data');
    expect(subgraphLabel(tensor(9, { graph: 'main/If_0.then_branch' }))).toBe('subgraph main/If_0.then_branch');
    expect(subgraphLabel(tensors[0])).toBeNull();
  });

  it('names the layer a tensor finally feeds when it is past the direct consumer', () => {
    const q = tensor(9, { consumers: ['DequantizeLinear'], consumerNodes: ['dq_w'], layer: 'matmul0', layerOp: 'MatMul' });
    expect(usedByDetail(q)).toBe('dq_w → MatMul matmul0');
    expect(usedByDetail(tensor(9, { layer: 'conv9', layerOp: 'Conv' }))).toBe('conv9');
    expect(selectTensorRows([q], { filter: 'matmul', sort: null, showNonWeights: true }).rows).toHaveLength(1);
  });
});
