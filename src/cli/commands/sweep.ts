/**
 * `cstudio sweep model.onnx`: compress a grid of recipes (bit widths × sparsities × granularities on a base
 * recipe) and/or presets, measure every point against the original in onnxruntime-node, and mark the points
 * on the quality/latency frontier.
 */
import { modelSize } from '../../core/eval/types';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { compressModel } from '../../core/compress/compress';
import type { Granularity } from '../../core/compress/quantize/math';
import { gridCandidates, PRESETS, runSweep, sweepCsv, type SweepCandidate, type SweepPoint } from '../../core/eval/sweep';
import { RecipeError, validateRecipe, type PrunePattern, type Recipe } from '../../core/recipe';
import { applyTeacherSweep, calibrationCount, checkTeacherRecipe, needsCalibration, SharedCalibration, teacherSweepFlags } from '../calibration';
import {
  candidateSetup,
  datasetJson,
  evalSettings,
  fmt,
  integerFlag,
  jsonNumbers,
  labelledCount,
  listFlag,
  loadModel,
  nodeRuntime,
  UsageError,
  type EvalDataFlags,
} from '../eval-data';
import { formatBytes, table } from '../format';
import { recipeFromFlags, type CompressFlags } from './compress';
import { checkOutputPath, writeFileSafely } from '../safe-write';

export interface SweepFlags extends EvalDataFlags {
  /** Recipe flags and --recipe: the base every grid point is built on. */
  base: CompressFlags;
  bits?: string;
  sparsity?: string;
  granularity?: string;
  pattern?: string;
  blockSize?: string;
  preset?: string;
  csv?: string;
  outDir?: string;
}

/** A preset's command-line name: its label in lower case, non-alphanumerics as '-' ("int4-blocks-of-32"). */
export const slug = (label: string) =>
  label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export const PRESET_NAMES = PRESETS.map((p) => slug(p.label)).join(', ') + ', all';

function presetsFrom(value: string): SweepCandidate[] {
  const names = listFlag(value) ?? [];
  if (names.length === 0) throw new UsageError(`--preset needs one or more of ${PRESET_NAMES}`);
  if (names.some((n) => n.toLowerCase() === 'all')) return PRESETS;
  return names.map((name) => {
    const found = PRESETS.find((p) => slug(p.label) === slug(name));
    if (!found) throw new UsageError(`--preset: unknown preset "${name}" (presets: ${PRESET_NAMES})`);
    return found;
  });
}

const GRANULARITIES: Granularity[] = ['tensor', 'channel', 'block'];
const PATTERNS: PrunePattern[] = ['unstructured', '2:4', '4:8', 'channel'];

function bitsList(value: string): number[] {
  return (listFlag(value) ?? []).map((b) => {
    if (/^(float|fp32|32)$/i.test(b)) return 32;
    const n = Number(b);
    if (!Number.isInteger(n)) throw new UsageError(`--bits takes whole numbers (2-8, or 32 for float weights) separated by commas (got "${b}")`);
    if (n < 2 || n > 8) throw new UsageError(`bits must be an integer from 2 to 8, or 32 for float weights (got ${n})`);
    return n;
  });
}

function sparsityList(value: string): number[] {
  return (listFlag(value) ?? []).map((x) => {
    const n = Number(x);
    if (!Number.isFinite(n)) throw new UsageError(`--sparsity takes numbers separated by commas (got "${x}")`);
    if (n < 0 || n > 0.95) throw new UsageError(`sparsity must be from 0 to 0.95 (got ${n})`);
    return n;
  });
}

const BASE_KEYS = [
  'recipe',
  'symmetric',
  'asymmetric',
  'range',
  'percentile',
  'format',
  'exclude',
  'excludeOp',
  'override',
  'global',
  'layerCap',
  'norm',
  // Teacher-guided settings of the base recipe (the method lists, GPTQ's settings and the sample count are applied to
  // the points afterwards: applyTeacherSweep).
  'activations',
  'calibration',
  'calibMethod',
  'staticWeights',
  'biasCorrection',
  'refit',
] as const;
/** Teacher-guided flags that make a grid of the base recipe on their own (as the base flags do). */
const TEACHER_KEYS = ['weights', 'gptq', 'pruneMethod'] as const;

/** The sweep's candidates: the grid (when grid or base flags are given), the presets asked for, or every preset. */
export async function sweepCandidates(flags: SweepFlags): Promise<SweepCandidate[]> {
  const b = flags.base;
  const baseGiven = [...BASE_KEYS, ...TEACHER_KEYS].some((k) => b[k] !== undefined && !(Array.isArray(b[k]) && (b[k] as unknown[]).length === 0));
  const teacher = teacherSweepFlags(b);
  const gridGiven = [flags.bits, flags.sparsity, flags.granularity, flags.pattern, flags.blockSize].some((v) => v !== undefined);
  const candidates: SweepCandidate[] = [];
  if (gridGiven || baseGiven) {
    // --refit and --prune-method describe the grid's pruning: the base recipe gets the grid's pattern with them.
    const prunePattern = b.refit || b.pruneMethod !== undefined ? { pattern: flags.pattern ?? (b.refit ? 'channel' : undefined) } : {};
    const base = await recipeFromFlags({ ...Object.fromEntries(BASE_KEYS.map((k) => [k, b[k]])), ...prunePattern, json: false } as CompressFlags);
    const granularities = listFlag(flags.granularity) ?? [base.quantize?.granularity ?? 'channel'];
    for (const g of granularities)
      if (!GRANULARITIES.includes(g as Granularity)) throw new UsageError(`granularity must be one of ${GRANULARITIES.join(', ')} (got "${g}")`);
    if (flags.pattern !== undefined && !PATTERNS.includes(flags.pattern as PrunePattern))
      throw new UsageError(`pattern must be one of ${PATTERNS.join(', ')} (got "${flags.pattern}")`);
    const bits = flags.bits !== undefined ? bitsList(flags.bits) : [base.quantize ? base.quantize.bits : 32];
    // A pattern without sparsities compares dense with sparse at 50 %.
    const sparsities = flags.sparsity !== undefined ? sparsityList(flags.sparsity) : flags.pattern !== undefined ? [0, 0.5] : [base.prune?.sparsity ?? 0];
    candidates.push(
      ...gridCandidates(
        {
          bits,
          sparsities,
          granularities: granularities as Granularity[],
          ...(flags.pattern !== undefined ? { pattern: flags.pattern as PrunePattern } : {}),
          ...(flags.blockSize !== undefined ? { blockSize: integerFlag(flags.blockSize, '--block-size', 1)! } : {}),
        },
        base,
      ),
    );
  }
  if (flags.preset !== undefined) candidates.push(...presetsFrom(flags.preset));
  else if (!gridGiven && !baseGiven) candidates.push(...PRESETS);
  const seen = new Set<string>();
  const unique = applyTeacherSweep(candidates, teacher).filter((c) => {
    const key = JSON.stringify(c.recipe);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length === 0) throw new UsageError('nothing to sweep: every point of the grid is the unchanged model (32-bit, no sparsity)');
  // Each point's recipe is checked before anything runs, so a bad value stops the sweep at once.
  return unique.map((c) => {
    try {
      const recipe = validateRecipe(c.recipe);
      checkTeacherRecipe(recipe, c.label);
      return { label: recipe.quantize?.format === 'static' && !/static/.test(c.label) ? `static ${c.label}` : c.label, recipe };
    } catch (err) {
      throw err instanceof RecipeError ? new RecipeError(`${c.label}: ${err.message}`) : err;
    }
  });
}

function etaText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  if (s < 1) return '';
  return `, about ${s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`} left`;
}

export async function sweepCommand(modelPath: string, flags: SweepFlags): Promise<string> {
  const settings = evalSettings(flags);
  const candidates = await sweepCandidates(flags);
  if (flags.csv !== undefined) await checkOutputPath(flags.csv, '--csv', [modelPath]);
  const model = await loadModel(modelPath);
  // Teacher-guided points (static int8, GPTQ, SparseGPT, refit) calibrate once, on samples held out of every measurement.
  const calibrated = candidates.filter((c) => needsCalibration(c.recipe));
  const calibrationSamples = calibrated.length ? Math.max(...calibrated.map((c) => calibrationCount(c.recipe))) : undefined;
  const { data, progress, evaluator, calibration } = await candidateSetup(flags, settings, model, calibrationSamples);
  const shared = calibration
    ? new SharedCalibration(nodeRuntime(settings), model.opened, model.files, calibration.samples, calibration.synthetic, progress)
    : undefined;
  if (flags.outDir) await mkdir(flags.outDir, { recursive: true });
  const files = new Map<Recipe, string>();
  let points: SweepPoint[];
  try {
    points = await runSweep(
      candidates,
      {
        compress: async (recipe) => {
          const bytes = (await compressModel(model.opened, recipe, (await shared?.optionsFor(recipe)) ?? {})).bytes;
          if (flags.outDir) {
            const index = candidates.findIndex((c) => c.recipe === recipe) + 1;
            const label = candidates[index - 1]?.label ?? 'point';
            const file = path.join(flags.outDir, `${String(index).padStart(2, '0')}-${slug(label)}.onnx`);
            await writeFileSafely(file, bytes);
            files.set(recipe, file);
          }
          return bytes;
        },
        measure: (bytes) => evaluator.evaluate(bytes),
        original: async () => ({ sizeBytes: modelSize(model.files), latency: await evaluator.originalLatency(), accuracy: evaluator.originalAccuracy?.value }),
      },
      {
        onProgress: (p) => {
          if (p.point?.error) progress(`sweep: ${p.point.label} failed: ${p.point.error}`);
          if (p.done < p.total) progress(`sweep: point ${p.done + 1}/${p.total}: ${p.current ?? ''}${etaText(p.etaSeconds)}`);
        },
      },
    );
  } finally {
    await evaluator.release();
  }
  if (flags.csv) await writeFileSafely(flags.csv, sweepCsv(points));
  const used = evaluator.sampleCount;
  if (flags.json) {
    const json = {
      model: modelPath,
      samples: used,
      ...(shared ? { calibrationSamples: shared.sampleCount } : {}),
      points: points.map((p) => (files.has(p.recipe) ? { ...p, file: files.get(p.recipe) } : p)),
      dataset: datasetJson(data, used, labelledCount(data, used)),
      runtime: evaluator.runtime.name,
      ...(evaluator.originalAccuracy ? { accuracyFrom: evaluator.originalAccuracy.output } : {}),
      ...(flags.csv ? { csv: flags.csv } : {}),
      ...(flags.outDir ? { outDir: flags.outDir } : {}),
    };
    return JSON.stringify(json, jsonNumbers, 2);
  }
  return renderSweep(points, {
    modelPath,
    data: data.name,
    runtime: evaluator.runtime.name,
    labelled: !!evaluator.originalAccuracy,
    calibrationSamples: shared?.sampleCount,
    csv: flags.csv,
    outDir: flags.outDir,
  });
}

function renderSweep(
  points: SweepPoint[],
  info: { modelPath: string; data: string; runtime: string; labelled: boolean; calibrationSamples?: number; csv?: string; outDir?: string },
): string {
  const original = points[0]!;
  const metric = info.labelled ? 'accuracy' : (points.find((p) => p.headline && !p.isOriginal)?.headline?.metric ?? 'quality');
  const quality = (p: SweepPoint) => (info.labelled ? p.accuracy : p.headline?.value);
  const lines = [
    `${info.modelPath}: ${points.length - 1} point${points.length === 2 ? '' : 's'} and the original; data: ${info.data}; ${info.runtime}`,
    '',
    table(
      ['', 'point', 'size', 'saved', 'latency ms', 'vs original', metric, 'cosine', 'SQNR dB'],
      points.map((p) =>
        p.error
          ? ['', p.label, '', '', '', '', `failed: ${p.error}`, '', '']
          : [
              p.frontier ? '★' : '',
              p.label,
              formatBytes(p.sizeBytes),
              p.isOriginal ? '' : fmt.shrink(original.sizeBytes, p.sizeBytes),
              fmt.ms(p.latency?.medianMs),
              p.isOriginal ? '' : fmt.ratio(p.latency?.medianMs, p.originalLatency?.medianMs),
              fmt.pct(quality(p)),
              fmt.cosine(p.cosine),
              fmt.sqnr(p.sqnrDb),
            ],
      ),
      [false, false, true, true, true, true, true, true, true],
    ),
    '',
    `★ frontier: no other point has ${metric} as high with latency as low. Latency is the median; "vs original" compares it with the original timed alongside (interleaved).`,
  ];
  if (info.calibrationSamples !== undefined)
    lines.push(`teacher-guided points calibrated on ${info.calibrationSamples} other samples, never measured on (static int8, GPTQ, SparseGPT, refit)`);
  if (info.csv) lines.push(`table written to ${info.csv}`);
  if (info.outDir) lines.push(`models written to ${info.outDir}`);
  return lines.join('\n');
}
