import { describe, expect, it } from 'vitest';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE } from '../core/recipe';
import type { TensorInfo } from '../core/onnx/types';
import { compressedFileName, exclusionOf, globMatches, ownOverride, recipeFileName, recipeOf, toggled, weightOpTypes, withOwnOverride } from './recipeEdits';

function weight(id: number, name: string, layer: string, layerOp: string, multiplied = true): TensorInfo {
  return {
    id,
    name,
    layer,
    layerOp,
    multiplied,
    dtype: 'FLOAT',
    shape: [4, 4],
    elements: 16,
    bytes: 64,
    location: 'initializer',
    graph: 'main',
    consumers: [layerOp],
    consumerNodes: [layer],
    isWeight: true,
  };
}

const tensors = [
  weight(0, 'conv1.weight', 'conv1', 'Conv'),
  weight(1, 'conv1.bias', 'conv1', 'Conv', false),
  weight(2, 'fc1.weight', 'fc1', 'Gemm'),
  weight(3, 'fc2.weight', 'fc2', 'Gemm'),
];

describe('recipe edits', () => {
  it('builds the recipe from the steps switched on, prune first', () => {
    const draft = { pruneOn: true, quantizeOn: false, prune: DEFAULT_PRUNE, quantize: DEFAULT_QUANTIZE };
    expect(recipeOf(draft)).toEqual({ version: 1, prune: DEFAULT_PRUNE });
    expect(Object.keys(recipeOf({ ...draft, quantizeOn: true }))).toEqual(['version', 'prune', 'quantize']);
  });

  it('names files the way the CLI does', () => {
    const q = (over: object) => ({ version: 1 as const, quantize: { ...DEFAULT_QUANTIZE, ...over } });
    expect(compressedFileName('mnist.onnx', q({ bits: 8 }))).toBe('mnist.int8.onnx');
    expect(compressedFileName('mnist.onnx', q({ bits: 4 }))).toBe('mnist.q4.onnx');
    expect(compressedFileName('mnist.ONNX', q({ format: 'fp16' }))).toBe('mnist.fp16.onnx');
    expect(compressedFileName('mnist.onnx', { version: 1, prune: DEFAULT_PRUNE })).toBe('mnist.pruned.onnx');
    expect(compressedFileName('mnist.onnx', { ...q({ bits: 8 }), prune: DEFAULT_PRUNE })).toBe('mnist.pruned.int8.onnx');
    expect(recipeFileName('mnist.onnx')).toBe('mnist.recipe.json');
  });

  it('previews which weights a glob matches, by tensor or layer name, multiplied weights only', () => {
    expect(globMatches('fc?.weight', tensors).map((t) => t.name)).toEqual(['fc1.weight', 'fc2.weight']);
    expect(globMatches('conv1', tensors).map((t) => t.name)).toEqual(['conv1.weight']);
    expect(globMatches('  ', tensors)).toEqual([]);
    expect(globMatches('*.bias', tensors)).toEqual([]);
  });

  it('lists op types of the weights, most common first', () => {
    expect(weightOpTypes(tensors)).toEqual([
      { op: 'Gemm', count: 2 },
      { op: 'Conv', count: 1 },
    ]);
  });

  it('tells why a weight is left out: its own name, a pattern, or its op', () => {
    const rules = { exclude: ['conv1.weight', 'fc*'], excludeOps: ['Gemm'] };
    expect(exclusionOf(rules, 'conv1.weight', 'conv1', 'Conv')).toEqual({ kind: 'name', by: 'conv1.weight' });
    expect(exclusionOf(rules, 'fc1.weight', 'fc1', 'Gemm')).toEqual({ kind: 'pattern', by: 'fc*' });
    expect(exclusionOf({ exclude: [], excludeOps: ['Gemm'] }, 'fc1.weight', 'fc1', 'Gemm')).toEqual({ kind: 'op', by: 'Gemm' });
    expect(exclusionOf(rules, 'conv2.weight', 'conv2', 'Conv')).toBeNull();
  });

  it('gives a row its own value ahead of pattern overrides, and takes it away', () => {
    const start = [{ match: 'fc*', bits: 6 }];
    const own = withOwnOverride(start, 'fc1.weight', 'bits', 4);
    expect(own).toEqual([
      { match: 'fc1.weight', bits: 4 },
      { match: 'fc*', bits: 6 },
    ]);
    expect(ownOverride(own, 'fc1.weight')?.bits).toBe(4);
    expect(withOwnOverride(withOwnOverride(own, 'fc1.weight', 'bits', 3), 'fc1.weight', 'bits', null)).toEqual(start);
    expect(toggled(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggled(['a', 'b'], 'a')).toEqual(['b']);
  });
});
