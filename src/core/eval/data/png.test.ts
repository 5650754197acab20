import { describe, expect, it } from 'vitest';
import { EvalInputError } from '../types';
import { decodePng } from './png';
import { encodePng, type PngSpec } from './fixtures.testutil';

/** Expected RGBA of one pixel, computed from the spec independently of the decoder. */
function expectedRgba(spec: PngSpec, samples: number[]): number[] {
  const max = 2 ** spec.bitDepth - 1;
  const to8 = (v: number) => (spec.bitDepth === 16 ? v >> 8 : Math.round((v * 255) / max));
  switch (spec.colorType) {
    case 0:
      return [to8(samples[0]!), to8(samples[0]!), to8(samples[0]!), 255];
    case 2:
      return [...samples.map(to8), 255];
    case 3:
      return [...spec.palette![samples[0]!]!, spec.transparency?.[samples[0]!] ?? 255];
    case 4:
      return [to8(samples[0]!), to8(samples[0]!), to8(samples[0]!), to8(samples[1]!)];
    case 6:
      return samples.map(to8);
  }
}

function pattern(width: number, height: number, channels: number, depth: number): number[][] {
  const max = 2 ** depth - 1;
  return Array.from({ length: width * height }, (_, i) =>
    Array.from({ length: channels }, (_, c) => ((i * 37 + c * 101 + ((i * i) >> 2)) * (depth === 16 ? 977 : 1)) % (max + 1)),
  );
}

async function roundTrip(spec: PngSpec): Promise<void> {
  const image = await decodePng(encodePng(spec), 'test.png');
  expect(image.width).toBe(spec.width);
  expect(image.height).toBe(spec.height);
  const expected = spec.pixels.flatMap((p) => expectedRgba(spec, p));
  expect([...image.data]).toEqual(expected);
}

const ALL_FILTERS = [0, 1, 2, 3, 4];

describe('decodePng', () => {
  const cases: [string, PngSpec['colorType'], PngSpec['bitDepth'], number][] = [
    ['gray 1-bit', 0, 1, 1],
    ['gray 2-bit', 0, 2, 1],
    ['gray 4-bit', 0, 4, 1],
    ['gray 8-bit', 0, 8, 1],
    ['gray 16-bit', 0, 16, 1],
    ['rgb 8-bit', 2, 8, 3],
    ['rgb 16-bit', 2, 16, 3],
    ['gray+alpha 8-bit', 4, 8, 2],
    ['gray+alpha 16-bit', 4, 16, 2],
    ['rgba 8-bit', 6, 8, 4],
    ['rgba 16-bit', 6, 16, 4],
  ];
  for (const [name, colorType, bitDepth, channels] of cases) {
    it(`decodes ${name} with every filter type`, async () => {
      await roundTrip({ width: 13, height: 10, colorType, bitDepth, pixels: pattern(13, 10, channels, bitDepth), filters: ALL_FILTERS });
    });
  }

  it('decodes palette images at 1, 2, 4 and 8 bits, with tRNS alpha', async () => {
    for (const bitDepth of [1, 2, 4, 8] as const) {
      const colours = Math.min(2 ** bitDepth, 7);
      const palette = Array.from({ length: colours }, (_, i) => [i * 30, 255 - i * 20, (i * 77) % 256] as [number, number, number]);
      const pixels = Array.from({ length: 9 * 5 }, (_, i) => [(i * 5) % colours]);
      await roundTrip({ width: 9, height: 5, colorType: 3, bitDepth, pixels, palette, transparency: [0, 128], filters: ALL_FILTERS });
    }
  });

  it('reports the source channel count', async () => {
    const gray = await decodePng(encodePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, pixels: [[7]] }));
    const rgba = await decodePng(encodePng({ width: 1, height: 1, colorType: 6, bitDepth: 8, pixels: [[1, 2, 3, 4]] }));
    const palette = await decodePng(encodePng({ width: 1, height: 1, colorType: 3, bitDepth: 8, pixels: [[0]], palette: [[1, 2, 3]] }));
    expect([gray.channels, rgba.channels, palette.channels]).toEqual([1, 4, 3]);
  });

  it('applies a gray tRNS colour key', async () => {
    const image = await decodePng(encodePng({ width: 2, height: 1, colorType: 0, bitDepth: 8, pixels: [[5], [6]], transparency: [0, 5] }));
    expect([...image.data]).toEqual([5, 5, 5, 0, 6, 6, 6, 255]);
  });

  it('decodes Adam7-interlaced images, including sizes smaller than the 8×8 grid', async () => {
    for (const [width, height] of [
      [11, 9],
      [3, 2],
      [1, 1],
      [8, 8],
    ] as const) {
      await roundTrip({ width, height, colorType: 2, bitDepth: 8, pixels: pattern(width, height, 3, 8), interlace: true, filters: ALL_FILTERS });
      await roundTrip({ width, height, colorType: 0, bitDepth: 1, pixels: pattern(width, height, 1, 1), interlace: true, filters: [4, 3] });
    }
  });

  it('rejects bad signatures, truncation and corrupt data with the file name', async () => {
    const good = encodePng({ width: 16, height: 16, colorType: 2, bitDepth: 8, pixels: pattern(16, 16, 3, 8) });
    await expect(decodePng(new Uint8Array([1, 2, 3]), 'a.png')).rejects.toThrow(/a\.png: not a PNG/);
    await expect(decodePng(good.slice(0, 40), 'cut.png')).rejects.toThrow(EvalInputError);
    await expect(decodePng(good.slice(0, 40), 'cut.png')).rejects.toThrow(/cut\.png: truncated/);
    const corrupt = good.slice();
    const idat = findChunk(corrupt, 'IDAT');
    corrupt.fill(0xaa, idat + 10, idat + 30);
    await expect(decodePng(corrupt, 'bad.png')).rejects.toThrow(/bad\.png: .*(corrupt|truncated)/);
    const badHeader = good.slice();
    badHeader[8 + 8 + 8] = 3; // bit depth 3
    await expect(decodePng(badHeader, 'hdr.png')).rejects.toThrow(/hdr\.png: corrupt PNG: bit depth 3/);
  });
});

function findChunk(bytes: Uint8Array, type: string): number {
  for (let i = 8; i < bytes.length - 4; i++) {
    if (String.fromCharCode(...bytes.subarray(i, i + 4)) === type) return i + 4;
  }
  throw new Error(`no ${type}`);
}
