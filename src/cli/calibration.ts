/**
 * Teacher-guided compression for `sweep` and `sensitivity`: which recipes need calibration (static int8, GPTQ,
 * SparseGPT, the channel refit), how many samples, and the calibration itself — run once on samples held out of
 * every measurement and shared by every point (activation statistics by the set of activations asked for, the
 * layer-input Hessians by sample count); GPTQ after channel pruning measures each pruned model again.
 */
import type { CompressOptions } from '../core/compress/compress';
import { staticCalibrationNames } from '../core/compress/quantize/static';
import type { EvalRuntime, EvalSample, ModelFiles } from '../core/eval/types';
import type { OpenedModel } from '../core/onnx/open';
import { DEFAULT_CALIBRATION_SAMPLES, type Recipe } from '../core/recipe';
import { captureActivations } from '../core/teacher/capture';
import { collectHessians, type GptqLayer } from '../core/teacher/gptq-layers';
import type { ActivationStats } from '../core/teacher/histogram';
import { prunedHessians, type CompressFlags } from './commands/compress';
import { UsageError } from './eval-data';

const isSparseGpt = (r: Recipe) => r.prune?.method === 'sparsegpt' && r.prune.pattern !== 'channel';
const isRefit = (r: Recipe) => r.prune?.refit === true && r.prune.pattern === 'channel';
const isGptq = (r: Recipe) => r.quantize?.gptq?.enabled === true;
const isStatic = (r: Recipe) => r.quantize?.format === 'static';

/** The recipe runs the original model on calibration data before it compresses (static int8, GPTQ, SparseGPT, refit). */
export function needsCalibration(r: Recipe): boolean {
  return isStatic(r) || isGptq(r) || isSparseGpt(r) || isRefit(r);
}

/** How many calibration samples the recipe asks for (quantize's, else prune's, else the default). */
export function calibrationCount(r: Recipe): number {
  return r.quantize?.calibrationSamples ?? r.prune?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES;
}

/** Calibration settings that mean nothing for the recipe: wrong usage, as for `compress`. */
export function checkTeacherRecipe(r: Recipe, label = 'the recipe'): void {
  const q = r.quantize;
  if (isGptq(r) && q?.format === 'fp16') throw new UsageError(`${label}: GPTQ quantizes to integer codes: it does not go with --format fp16`);
  if (q && q.format !== 'static' && (q.biasCorrection || q.calibration !== undefined || q.staticWeights !== undefined))
    throw new UsageError(`${label}: --calibration, --static-weights and --bias-correction go with --activations 8 (--format static)`);
  if (r.prune?.refit && r.prune.pattern !== 'channel')
    throw new UsageError(`${label}: --refit goes with --pattern channel: it refits the layers that read the removed channels`);
}

/** `--weights rtn,gptq` and `--prune-method magnitude,sparsegpt`: comma-separated lists (sweep), one value (sensitivity). */
function methods<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of list) if (!allowed.includes(m as T)) throw new UsageError(`${flag} takes ${allowed.join(' or ')} (got "${m}")`);
  if (list.length === 0) throw new UsageError(`${flag} takes ${allowed.join(' or ')}`);
  return [...new Set(list)] as T[];
}

export interface TeacherSweep {
  /** Each point once per weights method (points that quantize to integer codes). */
  weights?: ('rtn' | 'gptq')[];
  /** Each point once per prune method (unstructured and N:M pruning). */
  pruneMethods?: ('magnitude' | 'sparsegpt')[];
  gptq: { dampening?: number; actOrder?: boolean };
  calibrationSamples?: number;
}

/** The teacher-guided flags of a sweep that are not part of its base recipe: the method lists, GPTQ's settings, the sample count. */
export function teacherSweepFlags(b: CompressFlags): TeacherSweep {
  const weights = methods(b.weights, ['rtn', 'gptq'] as const, '--weights');
  const gptq = b.gptq ? [...new Set([...(weights ?? []), 'gptq' as const])] : weights;
  if (b.gptq && b.weights !== undefined && !weights!.includes('gptq')) throw new UsageError('--weights rtn and --gptq disagree: give one of them');
  if ((b.gptqDamp !== undefined || b.actOrder) && !gptq?.includes('gptq')) throw new UsageError('--gptq-damp and --act-order go with --weights gptq');
  const damp = b.gptqDamp !== undefined ? Number(b.gptqDamp) : undefined;
  if (damp !== undefined && !(damp > 0 && damp < 10)) throw new UsageError(`--gptq-damp takes a number above 0 (got "${b.gptqDamp}")`);
  if (b.calibSamples !== undefined && b.calibrationSamples !== undefined && b.calibSamples !== b.calibrationSamples)
    throw new UsageError('--calibration-samples and --calib-samples disagree: give one of them');
  const countText = b.calibrationSamples ?? b.calibSamples;
  const count = countText !== undefined ? Number(countText) : undefined;
  if (count !== undefined && !(Number.isInteger(count) && count >= 1 && count <= 100000))
    throw new UsageError(`--calibration-samples takes a whole number from 1 to 100000 (got "${countText}")`);
  return {
    ...(gptq ? { weights: gptq } : {}),
    ...(b.pruneMethod !== undefined ? { pruneMethods: methods(b.pruneMethod, ['magnitude', 'sparsegpt'] as const, '--prune-method') } : {}),
    gptq: { ...(damp !== undefined ? { dampening: damp } : {}), ...(b.actOrder ? { actOrder: true } : {}) },
    ...(count !== undefined ? { calibrationSamples: count } : {}),
  };
}

/**
 * The sweep's points with the teacher-guided methods applied: every integer-quantizing point once per weights
 * method ("+ GPTQ" in its label), every unstructured / N:M point once per prune method ("SparseGPT"), and the
 * calibration sample count on the steps that calibrate.
 */
export function applyTeacherSweep<C extends { label: string; recipe: Recipe }>(candidates: C[], t: TeacherSweep): C[] {
  const out: C[] = [];
  for (const c of candidates) {
    const q = c.recipe.quantize;
    const p = c.recipe.prune;
    const weightsOptions = q && q.format !== 'fp16' && t.weights ? t.weights : [undefined];
    const pruneOptions = p && p.pattern !== 'channel' && t.pruneMethods ? t.pruneMethods : [undefined];
    if (p?.pattern === 'channel' && t.pruneMethods?.includes('sparsegpt') && !t.pruneMethods.includes('magnitude'))
      throw new UsageError('--prune-method sparsegpt chooses unstructured and N:M masks; channel pruning ranks channels by norm (leave --prune-method out)');
    for (const pm of pruneOptions)
      for (const w of weightsOptions) {
        const recipe: Recipe = { ...c.recipe };
        const parts = [c.label];
        if (p && pm) {
          recipe.prune = { ...p, method: pm };
          if (pm === 'sparsegpt') parts.push('SparseGPT');
        }
        if (q && w) {
          recipe.quantize = { ...q, gptq: w === 'gptq' ? { ...(q.gptq ?? {}), ...t.gptq, enabled: true } : { ...(q.gptq ?? {}), enabled: false } };
          if (recipe.quantize.gptq && !recipe.quantize.gptq.enabled && Object.keys(recipe.quantize.gptq).length === 1) delete recipe.quantize.gptq;
          if (w === 'gptq') parts.push('GPTQ');
        }
        if (t.calibrationSamples !== undefined) {
          if (recipe.quantize && (isStatic(recipe) || isGptq(recipe))) recipe.quantize = { ...recipe.quantize, calibrationSamples: t.calibrationSamples };
          if (recipe.prune && (isSparseGpt(recipe) || isRefit(recipe))) recipe.prune = { ...recipe.prune, calibrationSamples: t.calibrationSamples };
        }
        out.push({ ...c, label: parts.length > 1 ? `${parts[0]} (${parts.slice(1).join(', ')})` : parts[0]!, recipe });
      }
  }
  return out;
}

/**
 * One run's calibration: the samples held out of every measurement, the original model, onnxruntime-node. Each
 * recipe's compress options are built from captures made once and shared (a recipe uses the first N samples).
 */
export class SharedCalibration {
  private readonly stats = new Map<string, Promise<Map<string, ActivationStats>>>();
  private readonly hessians = new Map<number, Promise<Map<string, GptqLayer>>>();
  private warned = false;

  constructor(
    private readonly runtime: EvalRuntime,
    private readonly opened: OpenedModel,
    private readonly files: ModelFiles,
    private readonly samples: EvalSample[],
    private readonly synthetic: boolean,
    private readonly progress: (line: string) => void,
    /** Sensitivity: the recipe every per-layer recipe comes from (its activations, captured once, serve them all). */
    private readonly base?: Recipe,
  ) {}

  get sampleCount(): number {
    return this.samples.length;
  }

  async optionsFor(recipe: Recipe): Promise<CompressOptions> {
    if (!needsCalibration(recipe)) return {};
    const samples = this.samples.slice(0, calibrationCount(recipe));
    if (samples.length === 0) throw new UsageError('no samples are left to calibrate on: give more --data or --samples');
    if (this.synthetic && !this.warned) {
      this.warned = true;
      this.progress(
        `note: teacher-guided points are calibrated on ${samples.length} synthetic inputs; pass --data with real inputs for statistics that mean something`,
      );
    }
    const q = recipe.quantize;
    const out: CompressOptions = { calibrationSamples: samples.length };
    if (q && isStatic(recipe)) {
      const names = await staticCalibrationNames(this.opened, this.base?.quantize?.format === 'static' ? this.base.quantize : q);
      const key = JSON.stringify([samples.length, names]);
      let found = this.stats.get(key);
      if (!found) {
        found = captureActivations(this.runtime, this.files, names, samples).then((c) => {
          if (c.unreachable.length)
            this.progress(`note: ${c.unreachable.length} activation(s) could not be captured and stay float: ${c.unreachable.slice(0, 3).join(', ')}`);
          return c.stats;
        });
        this.stats.set(key, found);
      }
      out.calibration = await found;
    }
    if (isGptq(recipe) || isSparseGpt(recipe) || isRefit(recipe)) {
      let found = this.hessians.get(samples.length);
      if (!found) {
        found = collectHessians(this.runtime, this.files, samples, { maxTensorsPerRun: 16 }).then((h) => {
          if (h.unreachable.length)
            this.progress(
              `note: ${h.unreachable.length} layer input(s) could not be captured: those layers are compressed without calibration: ${h.unreachable.slice(0, 3).join(', ')}`,
            );
          return h.layers;
        });
        this.hessians.set(samples.length, found);
      }
      const layers = await found;
      const g = q?.gptq;
      if (g?.enabled) out.gptq = { layers, options: { dampening: g.dampening, blockSize: g.blockSize, actOrder: g.actOrder } };
      if (isSparseGpt(recipe)) out.sparsegpt = { layers, options: {} };
      if (isRefit(recipe)) out.refit = { layers };
      if (g?.enabled && recipe.prune?.pattern === 'channel')
        out.hessiansAfterPrune = prunedHessians({ samples, runtime: this.runtime }, (line) => this.progress(line.trimEnd()));
    }
    return out;
  }
}
