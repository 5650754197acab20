/**
 * Image decoding (PNG here, JPEG via jpeg-js, others through an injected decoder) and preprocessing into a
 * model input tensor.
 *
 * Preprocessing order: drop alpha (transparent pixels keep their colour; nothing is composited) →
 * bilinear resize on 0–255 floats (half-pixel centres, align_corners=false, no antialias, no rounding) →
 * channel order / gray (ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B, like PIL's "L") → scale → (x − mean) / std
 * per output channel → layout. For uint8 models use scale '0-255' and no mean/std; values are rounded.
 */
import jpeg from 'jpeg-js';
import { EvalInputError, type HostDtype, type HostTensor } from '../types';
import type { ValueInfo } from '../../onnx/types';
import { decodePng, isPng, type RgbaImage } from './png';
import { fromNumbers, formatShape, hostDtypeOf } from './tensor';

export type { RgbaImage } from './png';

export type FallbackDecode = (name: string, bytes: Uint8Array) => Promise<RgbaImage>;

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'];

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes by content (not by extension): PNG and JPEG here, anything else through `fallbackDecode`. */
export async function decodeImage(name: string, bytes: Uint8Array, fallbackDecode?: FallbackDecode): Promise<RgbaImage> {
  if (isPng(bytes)) return decodePng(bytes, name);
  if (isJpeg(bytes)) {
    try {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: image.width, height: image.height, data: image.data, channels: 3 };
    } catch (error) {
      throw new EvalInputError(`${name}: corrupt or unsupported JPEG (${error instanceof Error ? error.message : String(error)}).`);
    }
  }
  if (fallbackDecode) {
    try {
      return await fallbackDecode(name, bytes);
    } catch (error) {
      throw new EvalInputError(`${name}: not an image this browser can decode (${error instanceof Error ? error.message : String(error)}).`);
    }
  }
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  throw new EvalInputError(
    `${name}: ${extension ? `.${extension} images are` : 'this file is'} not decoded here; only PNG and JPEG here. Convert the images to PNG.`,
  );
}

export type ResizeMode = 'stretch' | 'center-crop' | 'letterbox';
export type ChannelOrder = 'rgb' | 'bgr' | 'gray';
export type Layout = 'nchw' | 'nhwc';
export type PixelScale = '0-1' | '0-255' | '-1-1';

export interface ImagePrep {
  /** Target size in pixels. */
  width: number;
  height: number;
  /** stretch: ignore aspect; center-crop: cover the target, cut the overflow; letterbox: fit inside, pad with black (0 before scaling). */
  resize: ResizeMode;
  channels: ChannelOrder;
  layout: Layout;
  scale: PixelScale;
  /** Per output channel (in the tensor's channel order), applied after scale; one value applies to all. */
  mean?: number[];
  std?: number[];
  dtype: HostDtype;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

const DEFAULT_SIZE = 224;

/** Preprocessing that fits a rank-4 image input: layout and channels from the dims of size 1 or 3, size from fixed dims. */
export function defaultImagePrep(input: ValueInfo): ImagePrep {
  if (input.shape.length !== 4) {
    throw new EvalInputError(
      `Input '${input.name}' ${formatShape(input.shape)} does not look like an image batch (expected rank 4, NCHW or NHWC); use .npy or .json data instead.`,
    );
  }
  const dtype = hostDtypeOf(input);
  const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);
  const [, d1, d2, d3] = input.shape.map(fixed);
  const isChannels = (d: number | undefined) => d === 1 || d === 3;
  const layout: Layout = isChannels(d1) || !isChannels(d3) ? 'nchw' : 'nhwc';
  const [c, h, w] = layout === 'nchw' ? [d1, d2, d3] : [d3, d1, d2];
  return {
    width: w ?? DEFAULT_SIZE,
    height: h ?? DEFAULT_SIZE,
    resize: 'stretch',
    channels: c === 1 ? 'gray' : 'rgb',
    layout,
    scale: dtype === 'uint8' ? '0-255' : '0-1',
    dtype: dtype === 'float16' || dtype === 'float64' || dtype === 'uint8' ? dtype : 'float32',
  };
}

/** The tensor dims `prep` produces (batch 1). */
export function preparedDims(prep: ImagePrep): number[] {
  const c = prep.channels === 'gray' ? 1 : 3;
  return prep.layout === 'nchw' ? [1, c, prep.height, prep.width] : [1, prep.height, prep.width, c];
}

export function imageToTensor(image: RgbaImage, prep: ImagePrep): HostTensor {
  const { width, height } = prep;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new EvalInputError(`Image size ${width}×${height} is not a positive whole number of pixels.`);
  }
  const rgb = resizeRgb(image, width, height, prep.resize);
  const channelCount = prep.channels === 'gray' ? 1 : 3;
  const mean = perChannel(prep.mean, channelCount, 'mean', 0);
  const std = perChannel(prep.std, channelCount, 'std', 1);
  if (std.some((s) => s === 0)) throw new EvalInputError('Normalisation std must not be 0.');
  const scale = prep.scale === '0-1' ? (v: number) => v / 255 : prep.scale === '-1-1' ? (v: number) => v / 127.5 - 1 : (v: number) => v;
  const grayIsExact = image.channels <= 2;

  const pixels = width * height;
  const values = new Float32Array(pixels * channelCount);
  for (let p = 0; p < pixels; p++) {
    const r = rgb[p * 3]!,
      g = rgb[p * 3 + 1]!,
      b = rgb[p * 3 + 2]!;
    for (let c = 0; c < channelCount; c++) {
      let v: number;
      if (prep.channels === 'gray') v = grayIsExact ? r : 0.299 * r + 0.587 * g + 0.114 * b;
      else if (prep.channels === 'bgr') v = c === 0 ? b : c === 1 ? g : r;
      else v = c === 0 ? r : c === 1 ? g : b;
      v = (scale(v) - mean[c]!) / std[c]!;
      values[prep.layout === 'nchw' ? c * pixels + p : p * channelCount + c] = v;
    }
  }
  return { dtype: prep.dtype, dims: preparedDims(prep), data: fromNumbers(values, prep.dtype) };
}

function perChannel(values: number[] | undefined, channels: number, what: string, fallback: number): number[] {
  if (!values || values.length === 0) return new Array<number>(channels).fill(fallback);
  if (values.length === 1) return new Array<number>(channels).fill(values[0]!);
  if (values.length !== channels) {
    throw new EvalInputError(`Normalisation ${what} has ${values.length} values but the tensor has ${channels} channel${channels > 1 ? 's' : ''}.`);
  }
  return values;
}

/**
 * Resizes the RGB part of an RGBA image to width × height, as floats 0–255 (3 per pixel).
 * Bilinear with half-pixel centres: source x = (x + 0.5) · scale − 0.5, clamped to the image.
 */
export function resizeRgb(image: RgbaImage, width: number, height: number, mode: ResizeMode): Float32Array {
  const out = new Float32Array(width * height * 3);
  // The source window that maps onto the output box [left, top, left + boxWidth, top + boxHeight).
  let cropX = 0,
    cropY = 0,
    cropWidth = image.width,
    cropHeight = image.height;
  let left = 0,
    top = 0,
    boxWidth = width,
    boxHeight = height;
  if (mode === 'center-crop') {
    const s = Math.max(width / image.width, height / image.height);
    cropWidth = width / s;
    cropHeight = height / s;
    cropX = (image.width - cropWidth) / 2;
    cropY = (image.height - cropHeight) / 2;
  } else if (mode === 'letterbox') {
    const s = Math.min(width / image.width, height / image.height);
    boxWidth = Math.max(1, Math.min(width, Math.round(image.width * s)));
    boxHeight = Math.max(1, Math.min(height, Math.round(image.height * s)));
    left = Math.floor((width - boxWidth) / 2);
    top = Math.floor((height - boxHeight) / 2);
  }
  const xs = sampling(boxWidth, cropX, cropWidth, image.width);
  const ys = sampling(boxHeight, cropY, cropHeight, image.height);
  const src = image.data;
  const rowBytes = image.width * 4;
  for (let y = 0; y < boxHeight; y++) {
    const y0 = ys.lo[y]! * rowBytes,
      y1 = ys.hi[y]! * rowBytes,
      fy = ys.weight[y]!;
    for (let x = 0; x < boxWidth; x++) {
      const x0 = xs.lo[x]! * 4,
        x1 = xs.hi[x]! * 4,
        fx = xs.weight[x]!;
      const o = ((top + y) * width + left + x) * 3;
      for (let c = 0; c < 3; c++) {
        const upper = src[y0 + x0 + c]! + (src[y0 + x1 + c]! - src[y0 + x0 + c]!) * fx;
        const lower = src[y1 + x0 + c]! + (src[y1 + x1 + c]! - src[y1 + x0 + c]!) * fx;
        out[o + c] = upper + (lower - upper) * fy;
      }
    }
  }
  return out;
}

/** For each of `count` outputs along one axis: the two source indices and the weight of the second. */
function sampling(count: number, start: number, span: number, size: number): { lo: Int32Array; hi: Int32Array; weight: Float64Array } {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  const weight = new Float64Array(count);
  const step = span / count;
  for (let i = 0; i < count; i++) {
    const position = Math.min(size - 1, Math.max(0, start + (i + 0.5) * step - 0.5));
    const base = Math.floor(position);
    lo[i] = base;
    hi[i] = Math.min(base + 1, size - 1);
    weight[i] = position - base;
  }
  return { lo, hi, weight };
}
