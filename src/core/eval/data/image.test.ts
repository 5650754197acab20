import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { EvalInputError } from '../types';
import { decodeImage, defaultImagePrep, IMAGENET_MEAN, IMAGENET_STD, imageToTensor, resizeRgb, type ImagePrep, type RgbaImage } from './image';
import { encodePng } from './fixtures.testutil';

/** An RGBA image whose R, G and B all equal `values` (row-major). */
function grayImage(width: number, height: number, values: number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  values.forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width, height, data, channels: 1 };
}

function redChannel(rgb: Float32Array): number[] {
  return Array.from({ length: rgb.length / 3 }, (_, i) => rgb[i * 3]!);
}

const basePrep: ImagePrep = { width: 1, height: 1, resize: 'stretch', channels: 'rgb', layout: 'nchw', scale: '0-1', dtype: 'float32' };

describe('bilinear resize (half-pixel centres)', () => {
  it('upsamples 2×2 → 4×4', () => {
    const out = redChannel(resizeRgb(grayImage(2, 2, [0, 10, 20, 30]), 4, 4, 'stretch'));
    // Source positions per axis: 0 (clamped from −0.25), 0.25, 0.75, 1 (clamped from 1.25).
    expect(out).toEqual([0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]);
  });

  it('downsamples 4×4 → 2×2 by sampling at 0.5 and 2.5', () => {
    const out = redChannel(resizeRgb(grayImage(4, 4, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 100]), 2, 2, 'stretch'));
    expect(out).toEqual([2.5, 4.5, 10.5, (10 + 11 + 14 + 100) / 4]);
  });

  it('keeps an image of the same size unchanged', () => {
    const values = [3, 1, 4, 1, 5, 9];
    expect(redChannel(resizeRgb(grayImage(3, 2, values), 3, 2, 'stretch'))).toEqual(values);
  });

  it('center-crops and letterboxes', () => {
    const wide = grayImage(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(redChannel(resizeRgb(wide, 2, 2, 'center-crop'))).toEqual([2, 3, 6, 7]);
    expect(redChannel(resizeRgb(wide, 4, 4, 'letterbox'))).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
  });
});

describe('imageToTensor', () => {
  const pixel: RgbaImage = { width: 1, height: 1, data: new Uint8Array([255, 0, 128, 9]), channels: 4 };

  it('normalises with ImageNet mean/std after scaling', () => {
    const tensor = imageToTensor(pixel, { ...basePrep, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(tensor.dims).toEqual([1, 3, 1, 1]);
    const expected = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225];
    [...tensor.data].forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('scales 0–255 and −1–1, orders BGR, converts to gray (alpha ignored)', () => {
    expect([...imageToTensor(pixel, { ...basePrep, scale: '0-255' }).data]).toEqual([255, 0, 128]);
    expect([...imageToTensor(pixel, { ...basePrep, scale: '0-255', channels: 'bgr' }).data]).toEqual([128, 0, 255]);
    const minusOne = [...imageToTensor(pixel, { ...basePrep, scale: '-1-1' }).data];
    expect(minusOne[0]).toBeCloseTo(1, 6);
    expect(minusOne[1]).toBeCloseTo(-1, 6);
    const colour: RgbaImage = { width: 1, height: 1, data: new Uint8Array([100, 150, 200, 0]), channels: 4 };
    const gray = imageToTensor(colour, { ...basePrep, channels: 'gray', scale: '0-255' });
    expect(gray.dims).toEqual([1, 1, 1, 1]);
    expect(gray.data[0]).toBeCloseTo(0.299 * 100 + 0.587 * 150 + 0.114 * 200, 4);
  });

  it('lays out NCHW and NHWC', () => {
    // 2×1 image: pixel 0 = (1, 2, 3), pixel 1 = (4, 5, 6).
    const image: RgbaImage = { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]), channels: 3 };
    const prep = { ...basePrep, width: 2, scale: '0-255' as const };
    const nchw = imageToTensor(image, prep);
    const nhwc = imageToTensor(image, { ...prep, layout: 'nhwc' });
    expect(nchw.dims).toEqual([1, 3, 1, 2]);
    expect([...nchw.data]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(nhwc.dims).toEqual([1, 1, 2, 3]);
    expect([...nhwc.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('produces uint8 and float16 tensors', () => {
    const u8 = imageToTensor(pixel, { ...basePrep, scale: '0-255', dtype: 'uint8' });
    expect(u8.data).toBeInstanceOf(Uint8Array);
    expect([...u8.data]).toEqual([255, 0, 128]);
    const f16 = imageToTensor(pixel, { ...basePrep, dtype: 'float16' });
    expect([...f16.data]).toEqual([0x3c00, 0, 0x3804] /* 128/255 ≈ 0.50196 = 0.5 + 4 ulps of 2^-11 */);
  });

  it('rejects mean/std of the wrong length', () => {
    expect(() => imageToTensor(pixel, { ...basePrep, mean: [0.5, 0.5] })).toThrow(/mean has 2 values but the tensor has 3 channels/);
  });
});

describe('defaultImagePrep', () => {
  it('infers layout, channels, size, scale and dtype', () => {
    expect(defaultImagePrep({ name: 'x', dtype: 'FLOAT', shape: ['N', 1, 28, 28] })).toMatchObject({
      layout: 'nchw',
      channels: 'gray',
      width: 28,
      height: 28,
      scale: '0-1',
      dtype: 'float32',
    });
    expect(defaultImagePrep({ name: 'x', dtype: 'UINT8', shape: [1, 300, 200, 3] })).toMatchObject({
      layout: 'nhwc',
      channels: 'rgb',
      width: 200,
      height: 300,
      scale: '0-255',
      dtype: 'uint8',
    });
    expect(defaultImagePrep({ name: 'x', dtype: 'FLOAT', shape: ['N', 3, 'H', 'W'] })).toMatchObject({ layout: 'nchw', width: 224, height: 224 });
    expect(() => defaultImagePrep({ name: 'ids', dtype: 'INT64', shape: ['N', 128] })).toThrow(/'ids' \[N, 128\] does not look like an image batch/);
  });
});

describe('decodeImage', () => {
  it('decodes PNG by content', async () => {
    const png = encodePng({
      width: 2,
      height: 1,
      colorType: 2,
      bitDepth: 8,
      pixels: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    const image = await decodeImage('a.bin', png);
    expect([...image.data]).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
  });

  it('decodes a quality-100 JPEG of a smooth gradient within ±3', async () => {
    const width = 32,
      height = 24;
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgba.set([x * 8, y * 10, 128 + x * 2 - y * 2, 255], (y * width + x) * 4);
    }
    const encoded = jpeg.encode({ width, height, data: rgba }, 100);
    const image = await decodeImage('g.jpg', new Uint8Array(encoded.data));
    expect([image.width, image.height, image.channels]).toEqual([width, height, 3]);
    let worst = 0;
    for (let i = 0; i < rgba.length; i++) if (i % 4 !== 3) worst = Math.max(worst, Math.abs(image.data[i]! - rgba[i]!));
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('uses the fallback decoder for other formats, else says PNG and JPEG only', async () => {
    const gif = new TextEncoder().encode('GIF89a....');
    await expect(decodeImage('cat.gif', gif)).rejects.toThrow(/cat\.gif: \.gif images are not decoded here; only PNG and JPEG here/);
    const decoded = await decodeImage('cat.gif', gif, async () => ({ width: 1, height: 1, data: new Uint8Array(4), channels: 4 }));
    expect(decoded.width).toBe(1);
    await expect(decodeImage('bad.jpg', new Uint8Array([0xff, 0xd8, 0xff, 0, 1]))).rejects.toThrow(EvalInputError);
  });
});

describe('decodeImage fallback errors', () => {
  it("names the file when the browser's decoder refuses it", async () => {
    await expect(
      decodeImage('scans/7/scan.webp', new Uint8Array([1, 2, 3]), async () => {
        throw new Error('The source image could not be decoded.');
      }),
    ).rejects.toThrow(/scans\/7\/scan\.webp: not an image/);
  });
});
