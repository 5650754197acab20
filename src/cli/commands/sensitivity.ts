/**
 * `cstudio sensitivity model.onnx`: compress one layer at a time with a recipe (flags as in `compress`),
 * measure the damage of each against the original, rank the layers. With --target-size or --max-damage,
 * plan a mixed-precision recipe (the sensitive layers keep a gentler setting), compress with it, and report
 * the measured size next to the estimate, with the fidelity of the result.
 */
import { compressModel } from '../../core/compress/compress';
import type { CandidateMeasure } from '../../core/eval/candidate';
import {
  measureSensitivity,
  planMixedPrecision,
  savingText,
  sensitivityLayers,
  type LayerSensitivity,
  type MixedPlan,
  type MixedTarget,
} from '../../core/eval/sensitivity';
import { EvalInputError, modelSize } from '../../core/eval/types';
import { validateRecipe, type Recipe } from '../../core/recipe';
import {
  candidateSetup,
  datasetJson,
  evalSettings,
  fidelityJson,
  fmt,
  headlineText,
  jsonNumbers,
  labelledCount,
  latencyJson,
  loadModel,
  nodeRuntime,
  numberFlag,
  UsageError,
  type EvalDataFlags,
} from '../eval-data';
import { formatBytes, formatCount, table } from '../format';
import { checkOutputs, recipeFromFlags, type CompressFlags } from './compress';
import { calibrationCount, checkTeacherRecipe, needsCalibration, SharedCalibration } from '../calibration';
import { writeFileSafely } from '../safe-write';

export interface SensitivityFlags extends EvalDataFlags {
  /** The recipe (flags or --recipe) whose per-layer damage is measured; also -o and --save-recipe. */
  compress: CompressFlags;
  targetSize?: string;
  maxDamage?: string;
}

const UNITS: Record<string, number> = { b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "250000", "300kB", "1.5MB", "200KiB", "40%" (of the original) → bytes. */
export function parseSize(value: string, originalBytes: number, flag = '--target-size'): number {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw new UsageError(`${flag}: a percentage must be above 0 and at most 100 (got "${value}")`);
    return Math.round((originalBytes * p) / 100);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) > 0)) {
    throw new UsageError(`${flag} takes bytes, a size with kB / MB / GB (1000) or KiB / MiB / GiB (1024), or a percentage (got "${value}")`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** The recipe in a few words ("int2 per tensor", "50% 2:4 + int8 per channel"). */
export function describeRecipe(r: Recipe): string {
  const parts: string[] = [];
  if (r.prune) parts.push(`${Math.round(r.prune.sparsity * 100)}% ${r.prune.pattern === 'channel' ? 'channels pruned' : `${r.prune.pattern} pruned`}`);
  const q = r.quantize;
  if (q)
    parts.push(
      q.format === 'fp16'
        ? 'fp16'
        : `int${q.bits} ${q.granularity === 'block' ? `blocks of ${q.blockSize}` : `per ${q.granularity}`}${q.format === 'dynamic' ? ' (dynamic)' : ''}`,
    );
  return parts.join(' + ') || 'no change';
}

/** The teacher-guided methods of a recipe, in words. */
function teacherText(r: Recipe): string {
  const parts: string[] = [];
  if (r.prune?.method === 'sparsegpt' && r.prune.pattern !== 'channel')
    parts.push(r.quantize && r.quantize.format !== 'fp16' && r.quantize.format !== 'static' ? 'SparseGPT, pruned and quantized in one pass' : 'SparseGPT');
  if (r.prune?.refit && r.prune.pattern === 'channel') parts.push('refit');
  if (r.quantize?.gptq?.enabled) parts.push('GPTQ');
  if (r.quantize?.format === 'static') parts.push(`static int8 (${r.quantize.calibration ?? 'minmax'}${r.quantize.biasCorrection ? ', bias correction' : ''})`);
  return parts.join(', ');
}

function measureJson(m: CandidateMeasure) {
  return {
    sizeBytes: m.sizeBytes,
    outputs: m.fidelity.map(fidelityJson),
    ...(m.accuracy ? { accuracy: m.accuracy } : {}),
    ...(m.latency ? { latencyMs: { original: latencyJson(m.latency.original), candidate: latencyJson(m.latency.candidate) } } : {}),
  };
}

export async function sensitivityCommand(modelPath: string, flags: SensitivityFlags): Promise<string> {
  const settings = evalSettings(flags);
  if (flags.targetSize !== undefined && flags.maxDamage !== undefined) throw new UsageError('give --target-size or --max-damage, not both');
  const hasTarget = flags.targetSize !== undefined || flags.maxDamage !== undefined;
  if (!hasTarget && flags.compress.saveRecipe) throw new UsageError('--save-recipe needs a target (--target-size or --max-damage) to plan a recipe');
  if (!hasTarget && flags.compress.output) throw new UsageError('-o needs a target (--target-size or --max-damage) to plan a recipe');
  const maxDamage = numberFlag(flags.maxDamage, '--max-damage', 0);
  const recipe = await recipeFromFlags(flags.compress);
  checkTeacherRecipe(recipe);
  if ((flags.compress.gptqDamp !== undefined || flags.compress.actOrder) && !recipe.quantize?.gptq?.enabled)
    throw new UsageError('--gptq-damp and --act-order go with --weights gptq');
  await checkOutputs(modelPath, flags.compress, flags.compress.output);
  const model = await loadModel(modelPath);
  const originalBytes = modelSize(model.files);
  const target: MixedTarget | undefined =
    flags.targetSize !== undefined ? { sizeBytes: parseSize(flags.targetSize, originalBytes) } : maxDamage !== undefined ? { maxDamage } : undefined;
  const layers = sensitivityLayers(model.opened, recipe);
  if (layers.length === 0) throw new EvalInputError(`the recipe (${describeRecipe(recipe)}) changes no layer of ${modelPath}`);
  // Teacher-guided recipes (static int8, GPTQ, SparseGPT, refit) calibrate once, on samples held out of every measurement:
  // each layer's damage is measured under the calibrated method.
  const { data, progress, evaluator, calibration } = await candidateSetup(
    flags,
    settings,
    model,
    needsCalibration(recipe) ? calibrationCount(recipe) : undefined,
  );
  const shared = calibration
    ? new SharedCalibration(nodeRuntime(settings), model.opened, model.files, calibration.samples, calibration.synthetic, progress, recipe)
    : undefined;
  const compress = async (r: Recipe) => (await compressModel(model.opened, r, (await shared?.optionsFor(r)) ?? {})).bytes;
  let ranked: LayerSensitivity[];
  let planned: { plan: MixedPlan; recipe: Recipe; measure: CandidateMeasure; uniform: CandidateMeasure } | undefined;
  try {
    ranked = await measureSensitivity(
      recipe,
      layers,
      // Latency is not part of the damage: the per-layer runs skip it.
      { compress, measure: (bytes) => evaluator.evaluate(bytes, undefined, 0), originalBytes },
      { onProgress: (done, total, layer) => layer && progress(`sensitivity: layer ${done + 1}/${total}: ${layer}`) },
    );
    if (target) {
      const plan = planMixedPrecision(recipe, ranked, originalBytes, target);
      const planRecipe = validateRecipe(plan.recipe);
      progress('sensitivity: compressing with the planned recipe');
      const bytes = await compress(planRecipe);
      const measure = await evaluator.evaluate(bytes);
      if (flags.compress.output) await writeFileSafely(flags.compress.output, bytes);
      if (flags.compress.saveRecipe) await writeFileSafely(flags.compress.saveRecipe, JSON.stringify(planRecipe, null, 2) + '\n');
      // The recipe on every layer, for comparison.
      const uniform = await evaluator.evaluate(await compress(recipe), undefined, 0);
      planned = { plan, recipe: planRecipe, measure, uniform };
    }
  } finally {
    await evaluator.release();
  }
  const used = evaluator.sampleCount;
  if (flags.json) {
    const p = planned;
    const json = {
      model: modelPath,
      recipe,
      samples: used,
      ...(shared ? { calibrationSamples: shared.sampleCount } : {}),
      originalBytes,
      ...(evaluator.originalAccuracy ? { originalAccuracy: evaluator.originalAccuracy.value } : {}),
      layers: ranked,
      ...(p && target
        ? {
            plan: {
              target,
              recipe: p.recipe,
              protection: p.plan.protection,
              compressed: p.plan.compressed,
              protectedLayers: p.plan.protectedLayers,
              estimatedBytes: p.plan.estimatedBytes,
              measuredBytes: p.measure.sizeBytes,
              estimatedDamage: p.plan.estimatedDamage,
              targetMet: p.plan.targetMet,
              ...('sizeBytes' in target ? { measuredTargetMet: p.measure.sizeBytes <= target.sizeBytes } : {}),
              ...measureJson(p.measure),
              ...(flags.compress.output ? { output: flags.compress.output } : {}),
              ...(flags.compress.saveRecipe ? { savedRecipe: flags.compress.saveRecipe } : {}),
            },
            uniform: measureJson(p.uniform),
          }
        : {}),
      dataset: datasetJson(data, used, labelledCount(data, used)),
      runtime: evaluator.runtime.name,
    };
    return JSON.stringify(json, jsonNumbers, 2);
  }
  const lines = [
    `${modelPath} (${formatBytes(originalBytes)}): ${layers.length} layer${layers.length === 1 ? '' : 's'} compressed one at a time with ${describeRecipe(recipe)}; data: ${data.name}, ${used} samples`,
    '',
    table(
      ['rank', 'tensor', 'op', 'elements', 'damage', 'headline', 'cosine', 'SQNR dB', ...(evaluator.originalAccuracy ? ['accuracy'] : []), 'file size'],
      ranked.map((l, i) =>
        l.error
          ? [String(i + 1), l.name, l.op, formatCount(l.elements), 'failed', l.error, '', '', ...(evaluator.originalAccuracy ? [''] : []), '']
          : [
              String(i + 1),
              l.name,
              l.op,
              formatCount(l.elements),
              l.damage.toExponential(2),
              headlineText(l.headline),
              fmt.cosine(l.cosine),
              fmt.sqnr(l.sqnrDb),
              ...(evaluator.originalAccuracy ? [fmt.pct(l.accuracy)] : []),
              savingText(l.savedBytes, formatBytes),
            ],
      ),
      [true, false, false, true, true, false, true, true, ...(evaluator.originalAccuracy ? [true] : []), true],
    ),
    '',
    'damage = (1 − headline) + (1 − cosine) of the first output with only that layer compressed; most sensitive first.',
  ];
  if (ranked.some((l) => !l.error && l.savedBytes < 0))
    lines.push(
      "file size: the whole file with only that layer compressed; static int8 adds activation Q/DQ nodes and scales, which can outweigh a small layer's weights.",
    );
  if (shared) lines.push(`calibrated on ${shared.sampleCount} other samples (never measured on): ${teacherText(recipe)}`);
  if (evaluator.originalAccuracy)
    lines.push(`original accuracy: ${fmt.pct(evaluator.originalAccuracy.value)} on ${evaluator.originalAccuracy.labelled} labelled samples`);
  if (planned && target) {
    const { plan, measure, uniform } = planned;
    const goal =
      'sizeBytes' in target
        ? `size ≤ ${formatBytes(target.sizeBytes)} (${((target.sizeBytes / originalBytes) * 100).toFixed(1)}% of the original)`
        : `summed damage ≤ ${target.maxDamage}`;
    const quality = (m: CandidateMeasure) => {
      const f = m.fidelity[0];
      const parts = f ? [headlineText(f.headline), `cosine ${fmt.cosine(f.cosine)}`] : [];
      if (m.accuracy) parts.push(`accuracy ${fmt.pct(m.accuracy.candidate)}`);
      return parts.filter(Boolean).join(', ');
    };
    lines.push(
      '',
      `mixed-precision plan for ${goal}:`,
      `  ${plan.compressed.length} layer${plan.compressed.length === 1 ? '' : 's'} at ${describeRecipe(recipe)}; ${plan.protectedLayers.length} protected, ${plan.protection}${plan.protectedLayers.length ? ` (${plan.protectedLayers.join(', ')})` : ''}`,
      `  size: estimated ${formatBytes(plan.estimatedBytes)}, measured ${formatBytes(measure.sizeBytes)} (${fmt.shrink(originalBytes, measure.sizeBytes)})${'sizeBytes' in target ? (measure.sizeBytes <= target.sizeBytes ? '; target met' : plan.targetMet ? '; target missed by the measured size' : '; target not reachable even with every layer compressed') : ''}`,
      `  fidelity: ${quality(measure)}`,
    );
    if (measure.latency)
      lines.push(
        `  latency: median ${fmt.ms(measure.latency.candidate.medianMs)} ms vs original ${fmt.ms(measure.latency.original.medianMs)} ms (${fmt.ratio(measure.latency.candidate.medianMs, measure.latency.original.medianMs)})`,
      );
    lines.push(`  for comparison, ${describeRecipe(recipe)} on every layer: ${formatBytes(uniform.sizeBytes)}, ${quality(uniform)}`);
    if (flags.compress.output) lines.push(`model written to ${flags.compress.output}`);
    if (flags.compress.saveRecipe)
      lines.push(`recipe saved to ${flags.compress.saveRecipe} (use it with: cstudio compress ${modelPath} --recipe ${flags.compress.saveRecipe})`);
  } else {
    lines.push('add --target-size SIZE or --max-damage X to plan a mixed-precision recipe from this ranking');
  }
  return lines.join('\n');
}
