/**
 * The lab's sweeps and sensitivity with teacher-guided recipes (static int8, GPTQ, SparseGPT, the channel refit):
 * one calibration for every point — the original run once on the first N samples of the evaluation data (the
 * activations any static point needs, the layer-input Hessians), N the largest any recipe asks for — handed to each
 * point's compression; the points are then measured on the other samples only (`heldOut`).
 */
import { DEFAULT_CALIBRATION_SAMPLES, type QuantizeRecipe, type Recipe } from '../core/recipe';
import type { CalibrationOutcome } from '../protocol/eval';

const needsHessians = (r: Recipe) =>
  r.quantize?.gptq?.enabled === true ||
  (r.prune?.method === 'sparsegpt' && r.prune.pattern !== 'channel') ||
  (r.prune?.refit === true && r.prune.pattern === 'channel');
const isStatic = (r: Recipe) => r.quantize?.format === 'static';

/** The calibration the recipes need (undefined: none of them calibrates). */
export function labCalibrationNeeds(recipes: Recipe[]): { count: number; hessians: boolean; statics: QuantizeRecipe[] } | undefined {
  const calibrated = recipes.filter((r) => isStatic(r) || needsHessians(r));
  if (calibrated.length === 0) return undefined;
  return {
    count: Math.max(...calibrated.map((r) => r.quantize?.calibrationSamples ?? r.prune?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES)),
    hessians: calibrated.some(needsHessians),
    statics: calibrated.filter(isStatic).map((r) => r.quantize!),
  };
}

/**
 * Runs the calibration the recipes need: `staticNames` gives each static recipe's activations (their union is
 * captured once), `calibrate` is the evaluation worker's. Resolves to undefined when none is needed.
 */
export async function labCalibration(
  recipes: Recipe[],
  staticNames: (q: QuantizeRecipe) => Promise<string[]>,
  calibrate: (names: string[], count: number, hessians: boolean) => Promise<CalibrationOutcome>,
): Promise<CalibrationOutcome | undefined> {
  const needs = labCalibrationNeeds(recipes);
  if (!needs) return undefined;
  const names = new Set<string>();
  const seen = new Set<string>();
  for (const q of needs.statics) {
    const key = JSON.stringify(q);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const n of await staticNames(q)) names.add(n);
  }
  return calibrate([...names], needs.count, needs.hessians);
}
