import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ValueInfo } from '../../onnx/types';
import { EvalInputError } from '../types';
import { bytesOf, encodeNpy, encodePng, grayPng } from './fixtures.testutil';
import { interleaveByLabel, loadDataset, type DataFile } from './load';

function file(path: string, content: Uint8Array | string): DataFile {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { path, bytes: async () => bytes };
}

const mnistInput: ValueInfo = { name: 'input', dtype: 'FLOAT', shape: ['N', 1, 4, 4] };

describe('loadDataset: images', () => {
  it('labels from folder names, ignores hidden and __MACOSX files, sorts by path, describes itself', async () => {
    const files = [
      file('digits/dog/c.png', grayPng(8, 8, 255)),
      file('digits/cat/b.png', grayPng(8, 8, 51)),
      file('digits/cat/a.png', grayPng(8, 8, 0)),
      file('digits/.DS_Store', 'junk'),
      file('__MACOSX/digits/cat/._a.png', 'junk'),
      file('digits/README.txt', 'notes'),
    ];
    const dataset = await loadDataset(files, [mnistInput]);
    expect(dataset.samples.map((s) => [s.id, s.label])).toEqual([
      ['digits/cat/a.png', 0],
      ['digits/cat/b.png', 0],
      ['digits/dog/c.png', 1],
    ]);
    expect(dataset.classNames).toEqual(['cat', 'dog']);
    expect(dataset.synthetic).toBe(false);
    expect(dataset.name).toBe('digits (3 images, labelled)');
    expect(dataset.description).toBe('3 images from 2 folders, labels from folder names, resized 4×4 gray, scaled 0–1, NCHW');
    const tensor = dataset.samples[1]!.feeds.input!;
    expect(tensor.dims).toEqual([1, 1, 4, 4]);
    expect(tensor.data[0]).toBeCloseTo(0.2, 6);
  });

  it('numeric folder names stay class indices', async () => {
    const files = [file('3/a.png', grayPng(4, 4, 0)), file('7/b.png', grayPng(4, 4, 0))];
    const dataset = await loadDataset(files, [mnistInput]);
    expect(dataset.samples.map((s) => s.label)).toEqual([3, 7]);
    expect(dataset.classNames).toBeUndefined();
  });

  it('uses a labels.csv among the files', async () => {
    const files = [
      file('set/imgs/1.png', grayPng(4, 4, 0)),
      file('set/imgs/2.png', grayPng(4, 4, 0)),
      file('set/labels.csv', 'file,label\n1.png,5\n2.png,9\n'),
    ];
    const dataset = await loadDataset(files, [mnistInput]);
    expect(dataset.samples.map((s) => s.label)).toEqual([5, 9]);
    expect(dataset.description).toContain('labels from set/labels.csv');
  });

  it('leaves images in one folder unlabelled, and applies overrides', async () => {
    const rgbInput: ValueInfo = { name: 'img', dtype: 'FLOAT', shape: ['N', 'H', 'W', 3] };
    const png = encodePng({
      width: 2,
      height: 2,
      colorType: 2,
      bitDepth: 8,
      pixels: [
        [255, 0, 0],
        [255, 0, 0],
        [255, 0, 0],
        [255, 0, 0],
      ],
    });
    const dataset = await loadDataset([file('x/a.png', png)], [rgbInput], { image: { width: 3, height: 3, mean: [0.5], std: [0.5], channels: 'bgr' } });
    const tensor = dataset.samples[0]!.feeds.img!;
    expect(tensor.dims).toEqual([1, 3, 3, 3]);
    expect([...tensor.data.slice(0, 3)]).toEqual([-1, -1, 1]);
    expect(dataset.samples[0]!.label).toBeUndefined();
    expect(dataset.description).toBe('1 image, unlabelled, resized 3×3 bgr, scaled 0–1, normalised (mean 0.5, std 0.5), NHWC');
  });

  it('limit keeps every class represented', async () => {
    const files = [
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => file(`a/${n}.png`, grayPng(4, 4, 0))),
      ...['b1', 'b2'].map((n) => file(`b/${n}.png`, grayPng(4, 4, 0))),
      ...['c1', 'c2', 'c3'].map((n) => file(`c/${n}.png`, grayPng(4, 4, 0))),
    ];
    const dataset = await loadDataset(files, [mnistInput], { limit: 5 });
    expect(dataset.samples.map((s) => s.id)).toEqual(['a/a1.png', 'a/a2.png', 'b/b1.png', 'b/b2.png', 'c/c1.png']);
    expect(dataset.description).toContain('5 of 10 kept, spread over classes');
  });

  it('explains what is wrong', async () => {
    const png = grayPng(4, 4, 0);
    const twoInputs: ValueInfo[] = [mnistInput, { name: 'scale', dtype: 'FLOAT', shape: [1] }];
    await expect(loadDataset([file('a.png', png)], twoInputs)).rejects.toThrow(
      /The model has 2 inputs \(input, scale\); images can feed only a model with a single image input/,
    );
    await expect(loadDataset([file('a.png', png)], [mnistInput], { image: { width: 32 } })).rejects.toThrow(
      "Images are prepared as [1, 1, 4, 32] (NCHW, gray, 32×4) but input 'input' expects [N, 1, 4, 4]: dim 3 differs; set the size to 4×4 (width×height) or change the layout.",
    );
    await expect(loadDataset([file('a.png', png)], [mnistInput], { image: { channels: 'rgb' } })).rejects.toThrow(/dim 1 differs; set channels to gray/);
    await expect(loadDataset([file('a.png', png), file('b.npy', 'x')], [mnistInput])).rejects.toThrow(
      'Mixed data: 1 .npy file and 1 image file. Load one kind at a time.',
    );
    await expect(loadDataset([file('notes.txt', 'hi'), file('.hidden.png', png)], [mnistInput])).rejects.toThrow(/No usable data files \(got 1 file: \.txt\)/);
    await expect(loadDataset([], [mnistInput])).rejects.toThrow(EvalInputError);
    await expect(loadDataset([file('a.npz', 'PK')], [mnistInput])).rejects.toThrow(/npz archives are not supported/);
    await expect(loadDataset([file('pic.webp', 'RIFF')], [mnistInput])).rejects.toThrow(/only PNG and JPEG here/);
    await expect(loadDataset([file('a.png', png), file('b.png', png)], [mnistInput], { folderLabels: true })).rejects.toThrow(
      /Folder labels need every file inside a class folder/,
    );
    await expect(loadDataset([file('a.png', png)], [mnistInput], { limit: 0 })).rejects.toThrow(/limit must be a positive whole number/);
  });
});

describe('loadDataset: .npy', () => {
  it('one file per input, split along the batch, labels.npy', async () => {
    const inputs: ValueInfo[] = [
      { name: 'a', dtype: 'FLOAT', shape: ['N', 2] },
      { name: 'b', dtype: 'INT64', shape: ['N'] },
    ];
    const files = [
      file('d/a.npy', encodeNpy('<f8', [3, 2], bytesOf(new Float64Array([1, 2, 3, 4, 5, 6])))),
      file('d/b.npy', encodeNpy('<i8', [3], bytesOf(new BigInt64Array([7n, 8n, 9n])))),
      file('d/labels.npy', encodeNpy('<i8', [3], bytesOf(new BigInt64Array([1n, 0n, 1n])))),
    ];
    const dataset = await loadDataset(files, inputs);
    expect(dataset.samples).toHaveLength(3);
    expect(dataset.samples[2]!.feeds).toEqual({
      a: { dtype: 'float32', dims: [1, 2], data: new Float32Array([5, 6]) },
      b: { dtype: 'int64', dims: [1], data: new BigInt64Array([9n]) },
    });
    expect(dataset.samples.map((s) => s.label)).toEqual([1, 0, 1]);
    expect(dataset.description).toContain('converted float64 → float32');
  });

  it('one sample per file for a single-input model, with folder labels', async () => {
    const input: ValueInfo = { name: 'v', dtype: 'FLOAT', shape: ['N', 4] };
    const vec = (x: number) => encodeNpy('<f4', [4], bytesOf(new Float32Array([x, x, x, x])));
    const files = [file('yes/1.npy', vec(1)), file('no/2.npy', vec(2)), file('yes/3.npy', vec(3))];
    const dataset = await loadDataset(files, [input]);
    expect(dataset.samples.map((s) => [s.id, s.label, s.feeds.v!.dims])).toEqual([
      ['no/2.npy', 0, [1, 4]],
      ['yes/1.npy', 1, [1, 4]],
      ['yes/3.npy', 1, [1, 4]],
    ]);
    expect(dataset.classNames).toEqual(['no', 'yes']);
  });

  it('one batched file for a single-input model gives N samples; bad shapes are named', async () => {
    const input: ValueInfo = { name: 'v', dtype: 'FLOAT', shape: ['N', 2] };
    const batch = encodeNpy('<f4', [3, 2], bytesOf(new Float32Array(6)));
    expect((await loadDataset([file('x_test.npy', batch)], [input])).samples.map((s) => s.id)).toEqual(['x_test.npy #0', 'x_test.npy #1', 'x_test.npy #2']);
    const wrong = encodeNpy('<f4', [3], bytesOf(new Float32Array(3)));
    await expect(loadDataset([file('w.npy', wrong)], [input])).rejects.toThrow("w.npy: input 'v' dim 1 is 2 in the model [N, 2] but 3 in the data [1, 3].");
    const two: ValueInfo[] = [input, { name: 'u', dtype: 'FLOAT', shape: ['N', 2] }];
    await expect(loadDataset([file('v.npy', batch)], two)).rejects.toThrow(/give one .npy file per input named after it. Missing: u.npy/);
  });
});

describe('loadDataset: .json', () => {
  it('loads the demo digits with a class-spread limit', async () => {
    const demo = readFileSync(new URL('../../../../public/demo/mnist-test.json', import.meta.url));
    const input: ValueInfo = { name: 'input', dtype: 'FLOAT', shape: ['N', 1, 28, 28] };
    const dataset = await loadDataset([file('demo/mnist-test.json', new Uint8Array(demo))], [input], { limit: 20 });
    expect(dataset.samples).toHaveLength(20);
    const perClass = new Map<number, number>();
    for (const s of dataset.samples) perClass.set(s.label!, (perClass.get(s.label!) ?? 0) + 1);
    expect([...perClass.values()]).toEqual(new Array(10).fill(2));
    expect(dataset.description).toMatch(/^20 demo digits from demo\/mnist-test.json, labelled; 'input' float32 \[1, 1, 28, 28\]; 20 of 500 kept/);
  });

  it('refuses several JSON files', async () => {
    await expect(loadDataset([file('a.json', '[]'), file('b.json', '[]')], [mnistInput])).rejects.toThrow(/Several .json files/);
  });
});

describe('interleaveByLabel', () => {
  it('round-robins over classes, unlabelled last, and returns items in their order', () => {
    const labels = [2, 2, 2, 0, undefined, 1, 1, 0];
    const items = labels.map((label, index) => ({ label, index }));
    expect(interleaveByLabel(items, (i) => i.label, 4).map((i) => i.index)).toEqual([0, 3, 4, 5]);
    // Rounds: 0 → items 3, 5, 0, 4 (classes 0, 1, 2, unlabelled); 1 → items 7, 6.
    expect(interleaveByLabel(items, (i) => i.label, 6).map((i) => i.index)).toEqual([0, 3, 4, 5, 6, 7]);
    expect(interleaveByLabel(items, () => undefined, 3).map((i) => i.index)).toEqual([0, 1, 2]);
  });
});
