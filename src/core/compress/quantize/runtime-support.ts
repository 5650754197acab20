/**
 * What onnxruntime-web does with each written format, per execution provider (measured on tiny models,
 * onnxruntime-web 1.30; see shared/docs/platform-notes.md). Shown next to the format choice.
 */
import type { QuantReport } from './report';

export type Support = 'gpu' | 'cpu-fallback' | 'unsupported' | 'ok';

export interface RuntimeNote {
  format: string;
  wasm: Support;
  webgpu: Support;
  note: string;
}

export function runtimeNotes(report: Pick<QuantReport, 'tensors'>): RuntimeNote[] {
  const quantized = report.tensors.filter((t) => t.action === 'quantize');
  const notes: RuntimeNote[] = [];
  const has = (f: (t: (typeof quantized)[number]) => boolean) => quantized.some(f);
  if (has((t) => t.format === 'matmulnbits'))
    notes.push({ format: 'MatMulNBits 4-bit', wasm: 'ok', webgpu: 'gpu', note: 'runs on the GPU with the WebGPU provider' });
  if (has((t) => t.format === 'qdq' && t.storedBits === 8))
    notes.push({ format: 'DequantizeLinear int8/uint8', wasm: 'ok', webgpu: 'gpu', note: 'per-tensor and per-channel run on the GPU' });
  if (has((t) => t.format === 'qdq' && t.storedBits === 4))
    notes.push({
      format: 'DequantizeLinear int4/uint4 (opset 21)',
      wasm: 'ok',
      webgpu: 'gpu',
      note: 'on the GPU only with the onnxruntime-web/webgpu build; the default build computed wrong values in measurements',
    });
  if (has((t) => t.format === 'dynamic'))
    notes.push({
      format: 'DynamicQuantizeLinear + MatMulInteger / ConvInteger',
      wasm: 'ok',
      webgpu: 'cpu-fallback',
      note: 'the integer ops fall back to the CPU when the WebGPU provider is used',
    });
  if (has((t) => t.format === 'fp16'))
    notes.push({
      format: 'float16',
      wasm: 'ok',
      webgpu: 'gpu',
      note: 'needs a GPU with shader-f16; the WebGPU provider refuses fp16 models on SwiftShader and similar fallback adapters',
    });
  return notes;
}
