import { describe, expect, it } from 'vitest';
import { splitModelSets } from './modelSets';

const f = (...names: string[]) => names.map((name) => ({ name }));
const names = (sets: { name: string }[][]) => sets.map((s) => s.map((x) => x.name));

describe('splitting opened files into models', () => {
  it('one model with its external data stays one set', () => {
    expect(names(splitModelSets(f('model.onnx', 'model.onnx_data')))).toEqual([['model.onnx', 'model.onnx_data']]);
    expect(names(splitModelSets(f('weights.bin', 'model.onnx', 'other.bin')))).toEqual([['weights.bin', 'model.onnx', 'other.bin']]);
    expect(splitModelSets([])).toEqual([]);
  });

  it('several unrelated models are one set each, in the order given', () => {
    expect(names(splitModelSets(f('b.onnx', 'a.onnx', 'c.pb')))).toEqual([['b.onnx'], ['a.onnx'], ['c.pb']]);
  });

  it('data files go to the model they are named after; the longest name wins; unclaimed ones go to all', () => {
    const sets = splitModelSets(f('enc.onnx', 'encoder.onnx', 'encoder.onnx.data', 'enc.onnx_data', 'shared.bin'));
    expect(names(sets)).toEqual([
      ['enc.onnx', 'enc.onnx_data', 'shared.bin'],
      ['encoder.onnx', 'encoder.onnx.data', 'shared.bin'],
    ]);
  });

  it('folder paths do not confuse the names', () => {
    expect(names(splitModelSets(f('x/a.onnx', 'y/b.onnx', 'x/a.onnx_data')))).toEqual([['x/a.onnx', 'x/a.onnx_data'], ['y/b.onnx']]);
  });
});
