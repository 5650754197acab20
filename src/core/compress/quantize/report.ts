/** What a quantization run reports, per tensor and in total. */
import type { TensorPlan } from './plan';
import type { StaticReport } from './static';
import type { GptqTensorReport } from '../../teacher/gptq-layers';

export interface TensorReport extends TensorPlan {
  sqnrDb?: number;
  relError?: number;
  bytesAfter: number;
  /** GPTQ: layer-output SQNR against plain rounding on the calibration inputs. */
  gptq?: GptqTensorReport;
}

export interface QuantReport {
  inputBytes: number;
  outputBytes: number;
  tensors: TensorReport[];
  quantizedElements: number;
  /** Σ bits·elements / Σ elements over quantized weights (levels actually used). */
  effectiveBits: number;
  /** The same with the container the runtime stores (4, 8 or 16 bits). */
  storedBits: number;
  /** Bits per quantized weight including scales and zero points. */
  bitsWithScales: number;
  /** Default-domain opset of the written model. */
  opset: number;
  warnings: string[];
  /** Static int8: activations, ops written for integer kernels, ops left float with the reason. */
  static?: StaticReport;
}

/** Totals over the per-tensor rows. */
export function summarizeTensors(tensors: TensorReport[]): Pick<QuantReport, 'quantizedElements' | 'effectiveBits' | 'storedBits' | 'bitsWithScales'> {
  const quantized = tensors.filter((r) => r.action === 'quantize');
  const elements = quantized.reduce((n, r) => n + r.elements, 0);
  const sum = (f: (r: TensorReport) => number) => quantized.reduce((n, r) => n + f(r), 0);
  return {
    quantizedElements: elements,
    effectiveBits: elements ? sum((r) => r.bits * r.elements) / elements : 0,
    storedBits: elements ? sum((r) => r.storedBits * r.elements) / elements : 0,
    bitsWithScales: elements ? (8 * sum((r) => r.bytesAfter)) / elements : 0,
  };
}
