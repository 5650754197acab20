/**
 * Quantizes a model being edited, per a plan (plan.ts): each planned tensor goes to its format's emitter (one per
 * format: DequantizeLinear, MatMulNBits, dynamic), or the whole graph to float16. Values are read one tensor at a
 * time; a cancel is seen between tensors.
 */
import type { EditableModel } from '../../onnx/editable';
import type { QuantizeRecipe } from '../../recipe';
import { referenceBackend } from '../../../kernels/ts/reference';
import type { KernelBackend } from '../../../kernels/types';
import { errorFromSums } from './emit/common';
import { emitDynamic } from './emit/dynamic';
import { emitMatMulNBits } from './emit/matmulnbits';
import { emitQdq } from './emit/qdq';
import type { Emitter } from './emit/types';
import { convertToFp16 } from './fp16';
import type { QuantPlan, WrittenFormat } from './plan';
import type { TensorReport } from './report';

export interface QuantizeOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Collect each quantized tensor's dequantized values (tests build a float "simulated" model from them). */
  dequantized?: Map<string, Float32Array>;
  /** Kernel backend for the quantization math (default: the TypeScript reference). */
  backend?: KernelBackend;
}

/** One emitter per format written tensor by tensor (fp16 converts the whole graph at once). */
const EMITTERS: Record<Exclude<WrittenFormat, 'fp16'>, Emitter> = { qdq: emitQdq, matmulnbits: emitMatMulNBits, dynamic: emitDynamic };

function hasNonFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return true;
  return false;
}

export async function quantizeEditable(work: EditableModel, recipe: QuantizeRecipe, plan: QuantPlan, options: QuantizeOptions = {}): Promise<{ tensors: TensorReport[]; warnings: string[] }> {
  const warnings = [...plan.warnings];
  if (recipe.format === 'fp16') {
    const fp16 = await convertToFp16(work, plan);
    warnings.push(...fp16.warnings);
    const tensors = plan.tensors.map((t): TensorReport => {
      const w = fp16.written.get(t.entryId);
      if (!w || 'reason' in w) return { ...t, action: 'skip', reason: w?.reason ?? t.reason, bytesAfter: t.bytesBefore };
      return { ...t, ...w };
    });
    return { tensors, warnings };
  }
  const ctx = { work, recipe, backend: options.backend ?? referenceBackend, shared: new Map<string, unknown>() };
  const todo = plan.tensors.filter((t) => t.action === 'quantize').length;
  const tensors: TensorReport[] = [];
  let done = 0;
  for (const t of plan.tensors) {
    if (t.action !== 'quantize') {
      tensors.push({ ...t, bytesAfter: t.bytesBefore });
      continue;
    }
    if (options.signal?.aborted) throw new DOMException('Quantization cancelled', 'AbortError');
    const entry = work.catalog.entries[t.entryId]!;
    const values = await work.read(entry);
    if (hasNonFinite(values)) {
      tensors.push({ ...t, action: 'skip', reason: 'holds NaN or ±Inf values (a mask or sentinel, not a weight)', bytesAfter: t.bytesBefore });
    } else {
      const written = await EMITTERS[t.format as Exclude<WrittenFormat, 'fp16'>](ctx, entry, t, values);
      options.dequantized?.set(t.name, written.dequantized);
      tensors.push({ ...t, notes: [...t.notes, ...(written.notes ?? [])], bytesAfter: written.bytesAfter, ...errorFromSums(written.signal, written.noise) });
    }
    options.onProgress?.(++done, todo);
    // Let a worker see cancellation between tensors.
    await new Promise((r) => setTimeout(r, 0));
  }
  return { tensors, warnings };
}
