/**
 * PNG decoder: colour types 0, 2, 3 (palette, with tRNS), 4 and 6; bit depths 1–16; all five filters; Adam7.
 * Output is always 8-bit RGBA (16-bit samples keep their high byte). CRCs are not checked.
 * Inflate uses DecompressionStream('deflate'): the concatenated IDAT payload is one zlib stream.
 */
import { EvalInputError } from '../types';

export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4 bytes, row-major RGBA. */
  data: Uint8Array;
  /** Channels in the source file: 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha (palette counts as 3, or 4 with tRNS). */
  channels: 1 | 2 | 3 | 4;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7 passes: x start, y start, x step, y step. */
export const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

export async function decodePng(bytes: Uint8Array, fileName = 'image.png'): Promise<RgbaImage> {
  const fail = (why: string): never => {
    throw new EvalInputError(`${fileName}: ${why}`);
  };
  if (!isPng(bytes)) fail('not a PNG file (bad signature).');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let offset = 8;
  let sawEnd = false;
  while (offset < bytes.length && !sawEnd) {
    if (offset + 8 > bytes.length) fail('truncated PNG (a chunk header is cut off).');
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const start = offset + 8;
    if (start + length > bytes.length) fail(`truncated PNG (the ${type} chunk is cut off).`);
    const body = bytes.subarray(start, start + length);
    if (!header && type !== 'IHDR') fail('corrupt PNG: the first chunk is not IHDR.');
    switch (type) {
      case 'IHDR':
        header = readHeader(body, fail);
        break;
      case 'PLTE':
        palette = body;
        break;
      case 'tRNS':
        transparency = body;
        break;
      case 'IDAT':
        idat.push(body);
        break;
      case 'IEND':
        sawEnd = true;
        break;
    }
    offset = start + length + 4;
  }
  if (!header) return fail('truncated PNG (no IHDR chunk).');
  if (idat.length === 0) fail('truncated PNG (no image data).');
  if (header.colorType === 3 && !palette) fail('corrupt PNG: a palette image without a PLTE chunk.');

  const passes = passLayouts(header);
  const expected = passes.reduce((sum, p) => sum + (p.width && p.height ? p.height * (1 + p.stride) : 0), 0);
  const raw = await inflate(concat(idat), expected, fileName);
  if (raw.length < expected) fail(`truncated PNG (image data has ${raw.length} of ${expected} bytes).`);

  const out = new Uint8Array(header.width * header.height * 4);
  const bytesPerPixel = Math.max(1, (SAMPLES_PER_PIXEL[header.colorType]! * header.bitDepth) >> 3);
  const writer = pixelWriter(header, palette, transparency, out);
  let position = 0;
  for (const pass of passes) {
    if (pass.width === 0 || pass.height === 0) continue;
    let previous = new Uint8Array(pass.stride);
    for (let y = 0; y < pass.height; y++) {
      const filter = raw[position]!;
      const row = raw.slice(position + 1, position + 1 + pass.stride);
      position += 1 + pass.stride;
      if (filter > 4) fail(`corrupt PNG: unknown filter type ${filter} on a row.`);
      unfilter(filter, row, previous, bytesPerPixel);
      writer(row, pass.width, (x) => ((pass.y0 + y * pass.dy) * header.width + pass.x0 + x * pass.dx) * 4);
      previous = row;
    }
  }
  const hasAlpha = header.colorType === 4 || header.colorType === 6 || transparency !== undefined;
  const colour = header.colorType === 2 || header.colorType === 3 || header.colorType === 6;
  const channels = ((colour ? 3 : 1) + (hasAlpha ? 1 : 0)) as RgbaImage['channels'];
  return { width: header.width, height: header.height, data: out, channels };
}

function readHeader(body: Uint8Array, fail: (why: string) => never): Header {
  if (body.length < 13) fail('corrupt PNG: short IHDR chunk.');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const header: Header = {
    width: view.getUint32(0),
    height: view.getUint32(4),
    bitDepth: body[8]!,
    colorType: body[9]!,
    interlaced: body[12] === 1,
  };
  if (header.width === 0 || header.height === 0) fail('corrupt PNG: zero width or height.');
  if (header.width * header.height > 100_000_000) fail(`the image is too large (${header.width}×${header.height}).`);
  const depths = ALLOWED_DEPTHS[header.colorType];
  if (!depths) fail(`corrupt PNG: unknown colour type ${header.colorType}.`);
  if (!depths!.includes(header.bitDepth)) fail(`corrupt PNG: bit depth ${header.bitDepth} is invalid for colour type ${header.colorType}.`);
  if (body[10] !== 0 || body[11] !== 0 || body[12]! > 1) fail('corrupt PNG: unknown compression, filter or interlace method.');
  return header;
}

interface PassLayout {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  stride: number;
}

function passLayouts(header: Header): PassLayout[] {
  const bitsPerPixel = SAMPLES_PER_PIXEL[header.colorType]! * header.bitDepth;
  const layout = (x0: number, y0: number, dx: number, dy: number): PassLayout => {
    const width = Math.ceil((header.width - x0) / dx);
    const height = Math.ceil((header.height - y0) / dy);
    return { x0, y0, dx, dy, width: Math.max(0, width), height: Math.max(0, height), stride: Math.ceil((Math.max(0, width) * bitsPerPixel) / 8) };
  };
  return header.interlaced ? ADAM7.map(([x0, y0, dx, dy]) => layout(x0, y0, dx, dy)) : [layout(0, 0, 1, 1)];
}

function unfilter(filter: number, row: Uint8Array, previous: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i]! + row[i - bpp]!) & 0xff;
      break;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + previous[i]!) & 0xff;
      break;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + (((i >= bpp ? row[i - bpp]! : 0) + previous[i]!) >> 1)) & 0xff;
      break;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp]! : 0;
        const b = previous[i]!;
        const c = i >= bpp ? previous[i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[i] = (row[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      break;
  }
}

/** Returns a function that writes one unfiltered row of `width` pixels as RGBA at the offsets `at(x)` gives. */
function pixelWriter(
  header: Header,
  palette: Uint8Array | undefined,
  transparency: Uint8Array | undefined,
  out: Uint8Array,
): (row: Uint8Array, width: number, at: (x: number) => number) => void {
  const depth = header.bitDepth;
  const maxValue = (1 << depth) - 1;
  const samples = SAMPLES_PER_PIXEL[header.colorType]!;
  // Sample `index` of a row, at full precision (up to 16 bits).
  const sample = (row: Uint8Array, index: number): number => {
    if (depth === 8) return row[index]!;
    if (depth === 16) return (row[index * 2]! << 8) | row[index * 2 + 1]!;
    const bit = index * depth;
    return (row[bit >> 3]! >> (8 - depth - (bit & 7))) & maxValue;
  };
  const to8 = depth === 16 ? (v: number) => v >> 8 : depth === 8 ? (v: number) => v : (v: number) => Math.round((v * 255) / maxValue);
  const tview = transparency && transparency.length >= 2 ? new DataView(transparency.buffer, transparency.byteOffset, transparency.byteLength) : undefined;
  const grayKey = tview && header.colorType === 0 ? tview.getUint16(0) : -1;
  const rgbKey = tview && header.colorType === 2 && transparency!.length >= 6 ? [tview.getUint16(0), tview.getUint16(2), tview.getUint16(4)] : undefined;

  return (row, width, at) => {
    for (let x = 0; x < width; x++) {
      const o = at(x);
      const s = x * samples;
      switch (header.colorType) {
        case 0: {
          const v = sample(row, s);
          out[o] = out[o + 1] = out[o + 2] = to8(v);
          out[o + 3] = v === grayKey ? 0 : 255;
          break;
        }
        case 2: {
          const r = sample(row, s),
            g = sample(row, s + 1),
            b = sample(row, s + 2);
          out[o] = to8(r);
          out[o + 1] = to8(g);
          out[o + 2] = to8(b);
          out[o + 3] = rgbKey && r === rgbKey[0] && g === rgbKey[1] && b === rgbKey[2] ? 0 : 255;
          break;
        }
        case 3: {
          const index = sample(row, s);
          // Out-of-range indices are an error in the spec; black keeps decoding going.
          out[o] = palette![index * 3] ?? 0;
          out[o + 1] = palette![index * 3 + 1] ?? 0;
          out[o + 2] = palette![index * 3 + 2] ?? 0;
          out[o + 3] = transparency?.[index] ?? 255;
          break;
        }
        case 4:
          out[o] = out[o + 1] = out[o + 2] = to8(sample(row, s));
          out[o + 3] = to8(sample(row, s + 1));
          break;
        case 6:
          out[o] = to8(sample(row, s));
          out[o + 1] = to8(sample(row, s + 1));
          out[o + 2] = to8(sample(row, s + 2));
          out[o + 3] = to8(sample(row, s + 3));
          break;
      }
    }
  };
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Inflates a zlib stream. A stream error after `expected` bytes came out (trailing junk, a bad Adler-32)
 * is tolerated, as most decoders do; earlier, it means the data is truncated or corrupt.
 */
async function inflate(data: Uint8Array<ArrayBuffer>, expected: number, fileName: string): Promise<Uint8Array> {
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  writer.write(data).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch (error) {
    if (total < expected) {
      throw new EvalInputError(`${fileName}: truncated or corrupt PNG image data (${error instanceof Error ? error.message : String(error)}).`);
    }
  }
  return concat(chunks);
}
