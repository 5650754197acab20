/** Labels and plain-language help for the quantization controls (one place, shared by panel and tables). */
import type { QuantFormat, QuantizeRecipe } from '../../../core/recipe';

export const QUANTIZE_HELP =
  'Stores each weight as a small integer plus a shared scale, instead of a 32-bit float: 8 bits make the weights 4× smaller, 4 bits 8× smaller, at the cost of some rounding error.';

export const BITS_HELP =
  'How many bits each weight gets. Fewer bits mean fewer distinct values (2^bits levels) and a coarser grid: a smaller file with more rounding error.';

/** What a bit width means for the file: levels, the container it is stored in, and the size factor. */
export function bitsNote(bits: number, stored: number): string {
  const levels = `${2 ** bits} levels`;
  if (bits === stored) return `${levels}, stored as ${stored === 4 ? 'packed 4-bit' : '8-bit'} integers: about ${32 / stored}× smaller than float32.`;
  return `${levels}, stored in ${stored}-bit containers: the file holds ${stored} bits per weight (${bits} effective, ${stored} stored), ${
    stored === 8 && bits <= 4 ? 'as dynamic quantization stores 8-bit integers only' : 'as runtimes only store 4- or 8-bit integers'
  }. The error is that of ${bits} bits.`;
}

/** The container a bit width is stored in, for a format: dynamic quantization always stores 8 bits. */
export function containerBits(bits: number, format: QuantFormat): number {
  if (format === 'dynamic' || format === 'static') return 8;
  return bits <= 4 ? 4 : 8;
}

export const GRANULARITIES: { value: QuantizeRecipe['granularity']; label: string; help: string }[] = [
  { value: 'tensor', label: 'Per tensor', help: 'One scale for the whole weight: the smallest overhead, but one wide channel coarsens the grid for all.' },
  {
    value: 'channel',
    label: 'Per channel',
    help: 'One scale per output channel: each channel gets a grid that fits its own range. The usual choice for 8 bits.',
  },
  {
    value: 'block',
    label: 'Per block',
    help: 'One scale per block of consecutive weights along the input axis: the finest fit, needed for good 4-bit results; costs a scale per block.',
  },
];

export const BLOCK_SIZES = [16, 32, 64, 128, 256];

export const RANGES: { value: QuantizeRecipe['range']; label: string; help: string }[] = [
  {
    value: 'minmax',
    label: 'Min–max',
    help: 'The grid spans the smallest to the largest value: nothing is clipped, but a single outlier stretches the grid for everyone.',
  },
  {
    value: 'percentile',
    label: 'Percentile clipping',
    help: 'The grid spans the given percentile of absolute values: rare outliers are clipped to the edge so the rest get a finer grid.',
  },
  { value: 'mse', label: 'MSE-optimal clipping', help: 'Tries several clipping ranges per group and keeps the one with the smallest squared error.' },
];

export const FORMATS: { value: QuantFormat; label: string; help: string; runtime: string }[] = [
  {
    value: 'auto',
    label: 'Auto',
    help: 'Per layer: MatMulNBits for 4-bit blocks of MatMul/Gemm weights, DequantizeLinear for everything else.',
    runtime: 'Written formats run in onnxruntime-web on wasm; see the notes under the result for WebGPU.',
  },
  {
    value: 'qdq',
    label: 'QDQ (DequantizeLinear)',
    help: 'Integer weights followed by a DequantizeLinear node that turns them back into floats at load time. Works for every op.',
    runtime: '4-bit and per-block DequantizeLinear need opset 21; on WebGPU int4 runs on the GPU only with the onnxruntime-web/webgpu build.',
  },
  {
    value: 'matmulnbits',
    label: 'MatMulNBits',
    help: "onnxruntime's fused 4-bit matrix multiply (com.microsoft): the weights stay packed while it computes. MatMul and Gemm weights only, 4 bits, power-of-two blocks; other layers fall back to DequantizeLinear.",
    runtime: 'Runs on the GPU with the WebGPU provider; needs onnxruntime (not other runtimes).',
  },
  {
    value: 'dynamic',
    label: 'Dynamic (MatMulInteger / ConvInteger)',
    help: 'Weights stored as 8-bit integers; activations are quantized at run time (DynamicQuantizeLinear) and multiplied in integers. At most 8 bits; per block becomes per channel.',
    runtime: 'On WebGPU the integer ops fall back to the CPU, so this format gains nothing on a GPU.',
  },
  {
    value: 'static',
    label: 'Static int8 (calibrated, faster)',
    help: 'Weights and activations in 8 bits. The original model first runs on calibration samples (the Evaluation lab’s data) to learn the range of every activation; onnxruntime then runs Conv, MatMul and Gemm as integer kernels, which is faster on the CPU and in wasm for most conv nets. 8 bits per channel, symmetric, fixed.',
    runtime:
      'Integer kernels (QLinearConv…) run on the CPU/wasm; with WebGPU they fall back to the CPU. Nets full of hard-swish gates can get slower: measure it in the lab.',
  },
  {
    value: 'fp16',
    label: 'float16',
    help: 'Every float32 weight becomes a 16-bit float: 2× smaller with almost no error. The bit width does not apply.',
    runtime: 'On WebGPU it needs a GPU with shader-f16; fallback adapters such as SwiftShader refuse fp16 models.',
  },
];

export const SUPPORT_LABELS = { gpu: 'on the GPU', 'cpu-fallback': 'CPU fallback', unsupported: 'not supported', ok: 'runs' } as const;

/** SQNR (signal-to-quantization-noise ratio, dB): about 6 dB per bit; the bands are a rule of thumb. */
export function sqnrRating(db: number | undefined): 'good' | 'warn' | 'bad' | 'neutral' {
  if (db === undefined || Number.isNaN(db)) return 'neutral';
  if (db >= 30) return 'good';
  if (db >= 18) return 'warn';
  return 'bad';
}

export const SQNR_HELP =
  'Signal-to-quantization-noise ratio: how far the weights stand above the rounding error, in decibels. Each bit adds about 6 dB. Above ~30 dB is usually harmless; below ~18 dB a layer often hurts accuracy. Relative error: ‖w − ŵ‖ / ‖w‖.';

export const CALIBRATION_METHODS: { value: NonNullable<QuantizeRecipe['calibration']>; label: string; help: string }[] = [
  { value: 'minmax', label: 'Min–max', help: 'Each activation’s grid spans everything seen on the calibration samples: nothing is clipped. The safe default.' },
  {
    value: 'percentile',
    label: 'Percentile',
    help: 'The rarest values at both ends (beyond the percentile set under Range) are clipped so the rest get a finer grid.',
  },
  {
    value: 'entropy',
    label: 'Entropy (KL)',
    help: 'TensorRT’s method: the clipping that keeps the activation histogram most similar. Often clips long tails hard; check the result.',
  },
  { value: 'mse', label: 'MSE', help: 'The clipping with the smallest expected squared rounding error over the calibration histogram.' },
];
