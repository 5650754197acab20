/**
 * One recipe, one in-memory pipeline: the model is decoded once for editing, raised to the opset its formats need,
 * pruned, quantized, and encoded once at the end. Every result carries its coverage (weight bytes compressed /
 * total, and what was left by reason). Pruned-but-dense models also get their gzip size measured (zeros compress).
 */
import { EditableModel } from '../onnx/editable';
import { defaultOpset } from '../onnx/opset';
import type { OpenedModel } from '../onnx/open';
import { OpsetUpgradeError, upgradeOpset, type UpgradeReport } from '../onnx/upgrade';
import { encodeStandalone, encodeWithExternalData, standaloneTooBig, type SplitModel } from '../onnx/write';
import { ModelInputError } from '../onnx/types';
import { graphProblems } from '../onnx/validate';
import { checkMemoryBudget } from '../memory';
import type { QuantizeRecipe, PruneRecipe, Recipe } from '../recipe';
import { computeCoverage, tensorKey, type Coverage } from './coverage';
import { pruneEditable, type PruneOptions, type PruneReport } from './prune/apply';
import { limitPlanToOpset, planQuantization } from './quantize/plan';
import { gridSource, quantizeEditable, type QuantizeOptions } from './quantize/quantize';
import { summarizeTensors, type QuantReport } from './quantize/report';
import { emitStatic, foldBatchNorms, staticLayout, type StaticReport } from './quantize/static';
import type { ActivationStats } from '../teacher/histogram';
import type { GptqLayer } from '../teacher/gptq-layers';

export interface CompressResult {
  /** The .onnx file. */
  bytes: Uint8Array;
  /** When the output is too big for one file: its external-data file (named as `externalDataName` asked). */
  data?: SplitModel['data'];
  inputBytes: number;
  outputBytes: number;
  prune?: PruneReport;
  quantize?: QuantReport;
  /** The opset upgrade the formats needed, when the model was raised. */
  upgrade?: UpgradeReport;
  coverage: Coverage;
}

export interface StaticOptions {
  /** Static int8: the teacher's activation statistics by tensor name (teacher/capture.ts, `staticCalibrationNames`). */
  calibration?: Map<string, ActivationStats>;
  /** How many samples the statistics came from (for the report). */
  calibrationSamples?: number;
}

export type CompressOptions = QuantizeOptions &
  PruneOptions &
  StaticOptions & {
    /** Bytes the run may use; estimated from the catalog before any work (undefined: no limit). */
    memoryBudget?: number;
    /** Where weights go when the output would not fit one file (the name of a file beside the model); else such outputs fail. */
    externalDataName?: string;
    /** Size from which the output is split (default: protobuf's 2 GB; tests lower it). */
    standaloneLimit?: number;
    /**
     * SparseGPT with integer quantization: prune and quantize in one column pass (default true); false prunes with
     * SparseGPT first and quantizes the result afterwards (GPTQ or round to nearest), for comparison.
     */
    jointSparseGpt?: boolean;
    /**
     * GPTQ after channel pruning: the layer-input Hessians of the pruned model (the caller runs it on the calibration
     * data; `model` is the pruned, not yet quantized model). Without it GPTQ skips the layers whose shape changed.
     */
    hessiansAfterPrune?: (model: Uint8Array) => Promise<Map<string, GptqLayer>>;
  };

/** Raises a fresh copy of the model to `target` (or the highest lower opset that still helps); a failed upgrade leaves no half-converted model. */
function raiseOpset(opened: OpenedModel, target: number): { work?: EditableModel; report?: UpgradeReport; failure?: string } {
  let failure: string | undefined;
  const current = defaultOpset(opened.model);
  for (const opset of [target, 19, 13, 11, 10].filter((t, i) => t > current && (i === 0 || t < target))) {
    const work = new EditableModel(opened);
    try {
      const report = upgradeOpset(work.model, opset);
      work.refresh();
      return { work, report, failure };
    } catch (err) {
      if (!(err instanceof OpsetUpgradeError)) throw err;
      failure ??= err.message;
    }
  }
  return { failure };
}

export async function compressModel(opened: OpenedModel, recipe: Recipe, options: CompressOptions = {}): Promise<CompressResult> {
  if (!recipe.prune && !recipe.quantize) throw new Error('The recipe has neither a prune nor a quantize step: nothing to do.');
  checkMemoryBudget(opened, 'compress', options.memoryBudget);
  // A graph that reads undefined values cannot be made valid by compressing it: say so rather than write it.
  const { undefinedValues } = graphProblems(opened.model);
  if (undefinedValues.length > 0) {
    throw new ModelInputError(
      `${opened.fileName} cannot be compressed: ${undefinedValues[0]}${undefinedValues.length > 1 ? ` (and ${undefinedValues.length - 1} more)` : ''}; onnxruntime would refuse it as well.`,
    );
  }
  const inputBytes = opened.fileBytes + [...opened.dataFiles.values()].reduce((n, f) => n + f.size, 0);
  let work = new EditableModel(opened);
  const warnings: string[] = [];
  let upgrade: UpgradeReport | undefined;
  const needed = recipe.quantize ? planQuantization(work, recipe.quantize).opset : 0;
  let upgradeFailure: string | undefined;
  if (needed > work.opset) {
    const raised = raiseOpset(opened, needed);
    upgradeFailure = raised.failure;
    if (raised.work) {
      work = raised.work;
      upgrade = raised.report;
    }
  }

  if (recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel' && !options.sparsegpt)
    throw new Error('SparseGPT needs calibration: run the original model on calibration data first (teacher/gptq-layers.ts collectHessians).');
  const joint = jointQuantize(work, recipe, options, upgradeFailure);
  const prune = recipe.prune ? await pruneEditable(work, recipe.prune, { ...options, ...(joint ? { jointQuantize: joint } : {}) }) : undefined;
  if (joint?.originals.size) options = { ...options, jointOriginals: joint.originals };

  // Hessians passed in do not switch GPTQ on: the recipe does (off: plain rounding, bit for bit).
  if (options.gptq && !recipe.quantize?.gptq?.enabled) options = { ...options, gptq: undefined };

  // GPTQ after channel pruning: the pruned layers' inputs differ from the original's, so their Hessians are measured
  // again on the pruned model.
  if (recipe.prune?.pattern === 'channel' && recipe.quantize?.gptq?.enabled && options.hessiansAfterPrune) {
    const layers = await options.hessiansAfterPrune(await encodeStandalone(opened, work.model));
    const g = recipe.quantize.gptq;
    options = { ...options, gptq: { layers, options: options.gptq?.options ?? { dampening: g.dampening, blockSize: g.blockSize, actOrder: g.actOrder } } };
  }

  // GPTQ after pruning keeps the pruned weights at zero (its error feedback would otherwise refill them).
  if (options.gptq && recipe.prune) options = { ...options, gptq: { ...options.gptq, options: { ...options.gptq.options, keepZeros: true } } };

  let quantize: QuantReport | undefined;
  let quantized: Awaited<ReturnType<typeof quantizeEditable>> | undefined;
  let staticReport: StaticReport | undefined;
  if (recipe.quantize) {
    const isStatic = recipe.quantize.format === 'static';
    if (recipe.quantize.gptq?.enabled && !options.gptq)
      throw new Error('GPTQ needs calibration: run the original model on calibration data first (teacher/gptq-layers.ts collectHessians).');
    if (isStatic && !options.calibration)
      throw new Error('Static int8 needs calibration: run the original model on calibration data first (captureActivations with staticCalibrationNames).');
    const folded = isStatic ? await foldBatchNorms(work) : 0;
    const plan = planQuantization(work, recipe.quantize);
    if (plan.opset > work.opset) {
      const why = `the model cannot move past opset ${work.opset}${upgradeFailure ? ` (${upgradeFailure})` : ''}`;
      limitPlanToOpset(plan, work.opset, why, work.catalog);
      warnings.push(`Some weights are stored less compactly than asked: ${why}.`);
    }
    if (isStatic) {
      const written = await emitStatic(
        work,
        recipe.quantize,
        plan,
        staticLayout(work, recipe.quantize),
        options.calibration!,
        recipe.quantize.calibration ?? 'minmax',
        options.gptq,
      );
      staticReport = {
        ...written.report,
        foldedBatchNorms: folded,
        ...(options.calibrationSamples !== undefined ? { calibrationSamples: options.calibrationSamples } : {}),
      };
      const rest = await quantizeEditable(
        work,
        { ...recipe.quantize, format: 'qdq', bits: 8, granularity: 'channel', symmetric: true, overrides: [] },
        { ...plan, tensors: plan.tensors.filter((t) => !written.handled.has(t.entryId)) },
        options,
      );
      const weightOnly = 'weight-only int8 (DequantizeLinear): its op is not run on integer kernels';
      const rows = [...written.tensors, ...rest.tensors.map((t) => (t.action === 'quantize' ? { ...t, notes: [...t.notes, weightOnly] } : t))];
      quantized = { tensors: rows, warnings: [...written.warnings, ...rest.warnings] };
    } else quantized = await quantizeEditable(work, recipe.quantize, plan, options);
  }

  const split =
    options.externalDataName && standaloneTooBig(work.model, options.standaloneLimit)
      ? await encodeWithExternalData(opened, work.model, options.externalDataName)
      : undefined;
  const bytes = split ? split.bytes : await encodeStandalone(opened, work.model);
  const outputBytes = bytes.byteLength + (split?.data.size ?? 0);
  if (quantized)
    quantize = {
      inputBytes,
      outputBytes,
      tensors: quantized.tensors,
      ...summarizeTensors(quantized.tensors),
      opset: work.opset,
      warnings: [...warnings, ...quantized.warnings],
      ...(staticReport ? { static: staticReport } : {}),
    };
  else if (prune) prune.warnings.unshift(...warnings);
  return {
    bytes,
    ...(split ? { data: split.data } : {}),
    inputBytes,
    outputBytes,
    prune,
    quantize,
    upgrade,
    coverage: coverageOf(opened, work, prune, quantize),
  };
}

/**
 * SparseGPT with integer quantization (not fp16, not static int8, whose emitter chooses its own layout): the grid of
 * every weight the quantizer will write, planned before pruning (unstructured and N:M masks keep shapes), so the
 * pruning pass can quantize the kept weights in the same column loop.
 */
function jointQuantize(work: EditableModel, recipe: Recipe, options: CompressOptions, upgradeFailure: string | undefined): PruneOptions['jointQuantize'] {
  const q = recipe.quantize;
  const p = recipe.prune;
  if (!q || !p || p.method !== 'sparsegpt' || p.pattern === 'channel' || !options.sparsegpt || options.jointSparseGpt === false) return undefined;
  if (q.format === 'fp16' || q.format === 'static') return undefined;
  const plan = planQuantization(work, q);
  if (plan.opset > work.opset)
    limitPlanToOpset(plan, work.opset, `the model cannot move past opset ${work.opset}${upgradeFailure ? ` (${upgradeFailure})` : ''}`, work.catalog);
  const byName = new Map(plan.tensors.filter((t) => t.action === 'quantize' && t.graphPath === 'main' && t.format !== 'fp16').map((t) => [t.name, t]));
  return {
    gridFor: (name, shape, op, transB) => {
      const t = byName.get(name);
      return t && t.op === op
        ? gridSource(
            q,
            t,
            shape,
            shape.reduce((a, b) => a * b, 1),
            op,
            transB,
          )
        : undefined;
    },
    originals: new Map(),
  };
}

function coverageOf(opened: OpenedModel, work: EditableModel, prune: PruneReport | undefined, quantize: QuantReport | undefined): Coverage {
  const compressed = new Set<string>();
  const reasons = new Map<string, string>();
  for (const t of quantize?.tensors ?? []) {
    const key = tensorKey(t.graphPath, t.name);
    if (t.action === 'quantize') compressed.add(key);
    else if (t.reason && !reasons.has(key)) reasons.set(key, t.reason);
  }
  for (const l of prune?.layers ?? []) {
    const key = tensorKey(l.graphPath ?? work.catalog.entries[l.entryId]?.graphPath ?? 'main', l.name);
    if (l.action === 'prune') compressed.add(key);
    else if (l.reason && !reasons.has(key)) reasons.set(key, l.reason);
  }
  return computeCoverage(opened.catalog, compressed, reasons);
}

/** Quantization alone (tests and tools): the written file and the quantization report. */
export async function quantizeModel(
  opened: OpenedModel,
  recipe: QuantizeRecipe,
  options: CompressOptions = {},
): Promise<{ bytes: Uint8Array; report: QuantReport; coverage: Coverage; upgrade?: UpgradeReport }> {
  const r = await compressModel(opened, { version: 1, quantize: recipe }, options);
  return { bytes: r.bytes, report: r.quantize!, coverage: r.coverage, upgrade: r.upgrade };
}

/** Pruning alone (tests and tools): the written file and the pruning report. */
export async function pruneModel(
  opened: OpenedModel,
  recipe: PruneRecipe,
  options: CompressOptions = {},
): Promise<{ bytes: Uint8Array; report: PruneReport; coverage: Coverage }> {
  const r = await compressModel(opened, { version: 1, prune: recipe }, options);
  return { bytes: r.bytes, report: r.prune!, coverage: r.coverage };
}

/** Size of the file when gzip-compressed (measured), so pruning's zeros show up honestly. */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}
