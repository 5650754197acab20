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
import { channelLayout } from '../../analysis/stats';
import { gptqWeight, type GptqLayer, type GridSource } from '../../teacher/gptq-layers';
import type { GptqOptions } from '../../teacher/gptq';
import type { QuantSpec } from './math';
import { specFor, type TensorPlan } from './plan';

export interface QuantizeOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Collect each quantized tensor's dequantized values (tests build a float "simulated" model from them). */
  dequantized?: Map<string, Float32Array>;
  /** Kernel backend for the quantization math (default: the TypeScript reference). */
  backend?: KernelBackend;
  /** GPTQ: the layers' Hessians by weight name (teacher/gptq-layers.ts `collectHessians`) and its options. */
  gptq?: { layers: Map<string, GptqLayer>; options: GptqOptions };
  /**
   * Weights SparseGPT already pruned and quantized in one pass (by name): their original values, from which the
   * grid is chosen (the values now stored are on it, so the codes written are the joint pass's).
   */
  jointOriginals?: Map<string, { original: Float32Array; rangeFrom: Float32Array }>;
}

/** The view and spec the tensor's emitter quantizes it with, in the stored layout (GPTQ uses the same grid). */
export function gridSource(recipe: QuantizeRecipe, plan: TensorPlan, shape: number[], elements: number, op: string, transB = false): GridSource {
  let spec: QuantSpec = specFor(recipe, plan);
  if (plan.format === 'dynamic')
    spec = {
      ...spec,
      granularity: plan.granularity === 'channel' ? 'channel' : 'tensor',
      blockSize: 0,
      symmetric: recipe.symmetric || op === 'Conv',
      scaleType: undefined,
    };
  const stored = plan.flattenTo2d ? [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)] : shape;
  // MatMulNBits blocks along K: axis 0 of a MatMul's B [K, N], axis 1 of a Gemm's transposed B [N, K].
  // Dynamic: one scale per output channel, Conv's axis 0, a MatMul's B [K, N] axis 1, a transposed Gemm B axis 0.
  const axis = plan.format === 'matmulnbits' ? (transB ? 1 : 0) : plan.format === 'dynamic' ? (op === 'Conv' || transB ? 0 : 1) : plan.axis;
  if (spec.granularity === 'tensor' || axis === undefined)
    return { view: { outer: 1, axisLength: elements, inner: 1 }, spec: { ...spec, granularity: 'tensor' } };
  const l = channelLayout(stored, axis);
  return { view: { outer: l.outer, axisLength: l.channels, inner: l.inner }, spec };
}

/** Written values that are not GPTQ's (beyond float16 rounding of the stored dtype): 0 when the grids agree. */
export function countMismatched(gptq: Float32Array, written: Float32Array): number {
  let n = 0;
  for (let i = 0; i < gptq.length; i++) if (Math.abs(gptq[i]! - written[i]!) > 1e-3 * Math.abs(gptq[i]!) + 1e-12) n++;
  return n;
}

/** GPTQ for one planned tensor when it has a Hessian: the adjusted values and its report, or undefined. */
export async function gptqFor(
  options: QuantizeOptions,
  recipe: QuantizeRecipe,
  plan: TensorPlan,
  shape: number[],
  values: Float32Array,
): Promise<{ adjusted: Float32Array; notes: string[]; gptq: NonNullable<TensorReport['gptq']> } | undefined> {
  const layer = options.gptq?.layers.get(plan.name);
  if (!layer || plan.graphPath !== 'main' || layer.op !== plan.op) return undefined;
  if (layer.shape.join() !== shape.join()) {
    plan.notes.push(
      `GPTQ skipped: the weight is [${shape.join(', ')}] now, its Hessian was measured for [${layer.shape.join(', ')}] (channel pruning): rounded to nearest`,
    );
    return undefined;
  }
  const { adjusted, report } = await gptqWeight(values, layer, gridSource(recipe, plan, shape, values.length, layer.op, layer.transB), options.gptq!.options);
  return {
    adjusted,
    gptq: report,
    notes: [`GPTQ: layer output ${report.layerSqnrDb.toFixed(1)} dB vs ${report.rtnLayerSqnrDb.toFixed(1)} dB round-to-nearest (calibration inputs)`],
  };
}

/** One emitter per format written tensor by tensor (fp16 converts the whole graph at once). */
const EMITTERS: Record<Exclude<WrittenFormat, 'fp16'>, Emitter> = { qdq: emitQdq, matmulnbits: emitMatMulNBits, dynamic: emitDynamic };

function hasNonFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return true;
  return false;
}

export async function quantizeEditable(
  work: EditableModel,
  recipe: QuantizeRecipe,
  plan: QuantPlan,
  options: QuantizeOptions = {},
): Promise<{ tensors: TensorReport[]; warnings: string[] }> {
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
      const joint = t.graphPath === 'main' ? options.jointOriginals?.get(t.name) : undefined;
      const g = joint ? undefined : await gptqFor(options, recipe, t, entry.shape, values);
      const written = await EMITTERS[t.format as Exclude<WrittenFormat, 'fp16'>](ctx, entry, t, g ? g.adjusted : values, g ? values : joint?.rangeFrom);
      let { signal, noise } = written;
      const jointNotes: string[] = [];
      if (joint) {
        // Pruned and rounded in one pass: the error is against the weights before pruning.
        signal = 0;
        noise = 0;
        for (let i = 0; i < joint.original.length; i++) {
          signal += joint.original[i]! ** 2;
          noise += (joint.original[i]! - written.dequantized[i]!) ** 2;
        }
        const mismatched = countMismatched(values, written.dequantized);
        jointNotes.push(
          'SparseGPT: pruned and quantized in one pass (error against the weights before pruning)',
          ...(mismatched ? [`${mismatched} written value(s) differ from the joint pass's (the format's grid differs from the one it used)`] : []),
        );
      }
      if (g) {
        // The emitter measured against the adjusted weights: the error is against the original ones.
        signal = 0;
        noise = 0;
        for (let i = 0; i < values.length; i++) {
          signal += values[i]! ** 2;
          noise += (values[i]! - written.dequantized[i]!) ** 2;
        }
        g.gptq.mismatched = countMismatched(g.adjusted, written.dequantized);
        if (g.gptq.mismatched)
          g.notes.push(`GPTQ: ${g.gptq.mismatched} written value(s) differ from GPTQ's (the format's grid differs from the one GPTQ used)`);
      }
      options.dequantized?.set(t.name, written.dequantized);
      tensors.push({
        ...t,
        notes: [...t.notes, ...jointNotes, ...(g?.notes ?? []), ...(written.notes ?? [])],
        bytesAfter: written.bytesAfter,
        ...errorFromSums(signal, noise),
        ...(g ? { gptq: g.gptq } : {}),
      });
    }
    options.onProgress?.(++done, todo);
    // Let a worker see cancellation between tensors.
    await new Promise((r) => setTimeout(r, 0));
  }
  return { tensors, warnings };
}
