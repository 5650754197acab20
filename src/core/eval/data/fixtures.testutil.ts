/** Test-only writers of PNG and .npy files, built straight from the specs so the decoders are checked against known values. */
import { deflateSync } from 'node:zlib';
import { ADAM7 } from './png';

export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples per pixel, row-major (gray: [v], gray+alpha: [v, a], rgb: [r, g, b], rgba, palette: [index]). */
  pixels: number[][];
  /** Filter type per row (cycled); default 0. For interlaced images, per row within each pass. */
  filters?: number[];
  interlace?: boolean;
  palette?: [number, number, number][];
  transparency?: number[];
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function encodePng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, bitDepth } = spec;
  const samples = SAMPLES[colorType]!;
  const bpp = Math.max(1, (samples * bitDepth) >> 3);
  const filters = spec.filters ?? [0];
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const raw: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = Math.max(0, Math.ceil((width - x0!) / dx!));
    const passHeight = Math.max(0, Math.ceil((height - y0!) / dy!));
    if (passWidth === 0 || passHeight === 0) continue;
    let previous: Uint8Array = new Uint8Array(Math.ceil((passWidth * samples * bitDepth) / 8));
    for (let y = 0; y < passHeight; y++) {
      const values: number[] = [];
      for (let x = 0; x < passWidth; x++) values.push(...spec.pixels[(y0! + y * dy!) * width + x0! + x * dx!]!);
      const row = packSamples(values, bitDepth);
      const filter = filters[y % filters.length]!;
      raw.push(filter, ...filterRow(filter, row, previous, bpp));
      previous = row;
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  const chunks = [chunk('IHDR', ihdr)];
  if (spec.palette) chunks.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.transparency) chunks.push(chunk('tRNS', Uint8Array.from(spec.transparency)));
  chunks.push(chunk('IDAT', new Uint8Array(deflateSync(Uint8Array.from(raw)))), chunk('IEND', new Uint8Array(0)));
  return concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

function packSamples(values: number[], depth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * depth) / 8));
  values.forEach((v, i) => {
    if (depth === 16) {
      out[i * 2] = v >> 8;
      out[i * 2 + 1] = v & 0xff;
    } else if (depth === 8) out[i] = v;
    else out[(i * depth) >> 3]! |= v << (8 - depth - ((i * depth) & 7));
  });
  return out;
}

function filterRow(type: number, row: Uint8Array, previous: Uint8Array, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = previous[i]!;
    const c = i >= bpp ? previous[i - bpp]! : 0;
    let predictor = 0;
    if (type === 1) predictor = a;
    else if (type === 2) predictor = b;
    else if (type === 3) predictor = (a + b) >> 1;
    else if (type === 4) {
      const p = a + b - c;
      const pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c);
      predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i] = (row[i]! - predictor) & 0xff;
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(
    [...type].map((ch) => ch.charCodeAt(0)),
    4,
  );
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A gray 8-bit PNG filled with `value`. */
export function grayPng(width: number, height: number, value: number): Uint8Array {
  return encodePng({ width, height, colorType: 0, bitDepth: 8, pixels: Array.from({ length: width * height }, () => [value]) });
}

/** A .npy file written by hand per the format spec: magic, version, header length, padded dict, payload. */
export function encodeNpy(descr: string, shape: number[], payload: Uint8Array, { major = 1, fortran = false } = {}): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = major === 1 ? 10 : 12;
  const padding = 64 - ((prefix + dict.length + 1) % 64);
  dict += ' '.repeat(padding % 64) + '\n';
  const header = new TextEncoder().encode(dict);
  const out = new Uint8Array(prefix + header.length + payload.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, prefix);
  out.set(payload, prefix + header.length);
  return out;
}

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
