/** What every format's emitter gets and gives back. */
import type { CatalogEntry } from '../../../onnx/catalog';
import type { EditableModel } from '../../../onnx/editable';
import type { KernelBackend } from '../../../../kernels/types';
import type { QuantizeRecipe } from '../../../recipe';
import type { TensorPlan } from '../plan';

export interface EmitContext {
  work: EditableModel;
  recipe: QuantizeRecipe;
  backend: KernelBackend;
  /** State an emitter shares across the tensors of one run (e.g. activations already quantized dynamically). */
  shared: Map<string, unknown>;
}

export interface Written {
  /** Bytes of everything written for this tensor (codes, scales, zero points). */
  bytesAfter: number;
  /** The values the runtime will compute with, in the stored layout, as float32. */
  dequantized: Float32Array;
  /** Σx² and Σ(x−y)² over the tensor. */
  signal: number;
  noise: number;
  notes?: string[];
}

/** Writes one planned tensor into the model (replacing it, or rewriting the op that reads it). */
export type Emitter = (ctx: EmitContext, entry: CatalogEntry, plan: TensorPlan, values: Float32Array, rangeFrom?: Float32Array) => Promise<Written>;
