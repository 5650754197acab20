import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ValueInfo } from '../../onnx/types';
import { parseDemoDigits, parseJsonData } from './json';

const image: ValueInfo = { name: 'x', dtype: 'FLOAT', shape: ['N', 1, 2, 2] };

describe('parseJsonData: one batch', () => {
  it('splits a batch of N into N samples of batch 1 with labels', () => {
    const text = JSON.stringify({ inputs: { x: { dims: [3, 1, 2, 2], data: Array.from({ length: 12 }, (_, i) => i) } }, labels: [2, 0, 1] });
    const { samples, format } = parseJsonData(text, [image]);
    expect(format).toBe('batch');
    expect(samples).toHaveLength(3);
    expect(samples[1]!.feeds.x).toEqual({ dtype: 'float32', dims: [1, 1, 2, 2], data: new Float32Array([4, 5, 6, 7]) });
    expect(samples.map((s) => s.label)).toEqual([2, 0, 1]);
  });

  it('keeps a fixed batch as one sample and follows the model dtypes', () => {
    const inputs: ValueInfo[] = [
      { name: 'ids', dtype: 'INT64', shape: [2, 3] },
      { name: 'mask', dtype: 'BOOL', shape: [2, 3] },
      { name: 'h', dtype: 'FLOAT16', shape: [2] },
    ];
    const text = JSON.stringify({
      inputs: {
        ids: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        mask: { dims: [2, 3], data: [true, false, 1, 0, 1, 1] },
        h: [1, -2],
      },
    });
    const [sample] = parseJsonData(text, inputs).samples;
    expect(sample!.feeds.ids!.data).toEqual(new BigInt64Array([1n, 2n, 3n, 4n, 5n, 6n]));
    expect([...sample!.feeds.mask!.data]).toEqual([1, 0, 1, 0, 1, 1]);
    expect([...sample!.feeds.h!.data]).toEqual([0x3c00, 0xc000]);
  });

  it('names the input and dim that do not fit', () => {
    const text = JSON.stringify({ inputs: { x: { dims: [2, 1, 3, 2], data: new Array(12).fill(0) } } });
    expect(() => parseJsonData(text, [image], 'd.json')).toThrow("d.json: input 'x' dim 2 is 2 in the model [N, 1, 2, 2] but 3 in the data [1, 1, 3, 2].");
    const short = JSON.stringify({ inputs: { x: { dims: [1, 1, 2, 2], data: [1, 2, 3] } } });
    expect(() => parseJsonData(short, [image], 'd.json')).toThrow(/dims \[1, 1, 2, 2\] need 4 values but "data" has 3/);
    const missing = JSON.stringify({ inputs: { y: [1], z: [2] } });
    expect(() => parseJsonData(missing, [image], 'd.json')).toThrow(/no entry for model input 'x' \(it has 'y', 'z'\)/);
  });
});

describe('parseJsonData: list of samples', () => {
  it('infers dims from nested arrays, adds the batch dim and maps class names', () => {
    const text = JSON.stringify([
      {
        x: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
        label: 'dog',
      },
      { x: { dims: [1, 1, 2, 2], data: [5, 6, 7, 8] }, label: 'cat', id: 'second' },
    ]);
    const { samples, classNames } = parseJsonData(text, [image]);
    expect(samples[0]!.feeds.x!.dims).toEqual([1, 1, 2, 2]);
    expect([...samples[0]!.feeds.x!.data]).toEqual([1, 2, 3, 4]);
    expect(samples.map((s) => [s.id, s.label])).toEqual([
      ['data.json #0', 1],
      ['second', 0],
    ]);
    expect(classNames).toEqual(['cat', 'dog']);
  });

  it('accepts bare arrays and another key name for a single-input model', () => {
    const vector: ValueInfo = { name: 'v', dtype: 'FLOAT', shape: ['N', 3] };
    expect(parseJsonData('[[1, 2, 3], [4, 5, 6]]', [vector]).samples[1]!.feeds.v!.dims).toEqual([1, 3]);
    expect(parseJsonData('[{"input": [1, 2, 3]}]', [vector]).samples).toHaveLength(1);
  });

  it('rejects ragged arrays, partial labels and non-numbers', () => {
    expect(() => parseJsonData('[{"x": [[[1, 2], [3]]]}]', [image])).toThrow(/ragged/);
    expect(() => parseJsonData('[{"x": [[[1, 2], [3, 4]]], "label": 1}, {"x": [[[1, 2], [3, 4]]]}]', [image])).toThrow(/1 of 2 samples have a "label"/);
    expect(() => parseJsonData('[{"x": [[[1, "a"], [3, 4]]]}]', [image])).toThrow(/"a" is not a number/);
    expect(() => parseJsonData('{"foo": 1}', [image])).toThrow(/unrecognised layout/);
    expect(() => parseJsonData('{', [image], 'b.json')).toThrow(/b\.json is not valid JSON/);
  });
});

describe('demo digits', () => {
  const text = readFileSync(new URL('../../../../public/demo/mnist-test.json', import.meta.url), 'utf8');
  const json = JSON.parse(text) as { pixels: string };
  const mnist: ValueInfo = { name: 'input', dtype: 'FLOAT', shape: ['N', 1, 28, 28] };

  it('loads 500 labelled samples; the first one matches the base64 pixels', () => {
    const samples = parseDemoDigits(json, mnist);
    expect(samples).toHaveLength(500);
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const first = samples[0]!.feeds.input!;
    expect(first.dims).toEqual([1, 1, 28, 28]);
    const raw = Buffer.from(json.pixels, 'base64').subarray(0, 784);
    const expected = raw.reduce((sum, v) => sum + v, 0) / 255;
    const actual = (first.data as Float32Array).reduce((sum, v) => sum + v, 0);
    expect(actual).toBeCloseTo(expected, 2);
    expect(Math.max(...(first.data as Float32Array))).toBeLessThanOrEqual(1);
  });

  it('is recognised by parseJsonData and follows other layouts of the same size', () => {
    expect(parseJsonData(text, [mnist]).format).toBe('demo');
    const flat = parseDemoDigits(json, { name: 'pixels', dtype: 'UINT8', shape: ['N', 784] });
    expect(flat[3]!.feeds.pixels!.dims).toEqual([1, 784]);
    expect(flat[0]!.feeds.pixels!.data).toEqual(new Uint8Array(Buffer.from(json.pixels, 'base64').subarray(0, 784)));
    expect(() => parseDemoDigits(json, { name: 'x', dtype: 'FLOAT', shape: ['N', 3, 32, 32] })).toThrow(/dim 1 is 3/);
  });
});
