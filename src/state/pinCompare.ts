/**
 * Pin and compare: the numbers that set a pinned compression result beside the current one — size,
 * coverage, per-layer error (SQNR) deltas, and latency / accuracy where the lab measured that recipe.
 * Pure functions over the results the worker returned.
 */
import type { EvaluationReport } from '../core/eval/evaluate';
import type { SweepPoint } from '../core/eval/sweep';
import type { Recipe } from '../core/recipe';
import type { CompressOutcome } from '../protocol/model';
import { canonicalJson, matchingPreset } from '../core/presets';
import type { Step } from './recipeEdits';

export interface LayerDelta {
  step: Step;
  name: string;
  /** SQNR (dB) of the weight in each result; undefined when that result did not touch it. */
  pinnedDb?: number;
  currentDb?: number;
  /** current − pinned (dB): negative means the current result damages this weight more. */
  deltaDb?: number;
}

export interface Measured {
  /** Median latency as a multiple of the original's (timed interleaved). */
  latencyRatio?: number;
  medianMs?: number;
  accuracy?: number;
  /** Where the numbers come from: the last evaluation or a trade-off point. */
  source: 'evaluation' | 'sweep';
}

export interface ResultComparison {
  sizes: { pinned: number; current: number; original: number };
  coverage: { pinned: number; current: number };
  layers: LayerDelta[];
}

function finite(x: number | undefined): number | undefined {
  return x !== undefined && Number.isFinite(x) ? x : undefined;
}

function sqnrByName(result: CompressOutcome, step: Step): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  if (step === 'quantize') for (const t of result.quantize?.tensors ?? []) if (t.action === 'quantize') out.set(t.name, finite(t.sqnrDb));
  if (step === 'prune') for (const l of result.prune?.layers ?? []) if (l.action === 'prune') out.set(l.name, finite(l.sqnrDb));
  return out;
}

/** Pinned beside current; layers sorted by how much worse the current one is (largest loss first). */
export function compareResults(pinned: CompressOutcome, current: CompressOutcome): ResultComparison {
  const layers: LayerDelta[] = [];
  for (const step of ['prune', 'quantize'] as Step[]) {
    const a = sqnrByName(pinned, step);
    const b = sqnrByName(current, step);
    for (const name of new Set([...a.keys(), ...b.keys()])) {
      const pinnedDb = a.get(name);
      const currentDb = b.get(name);
      layers.push({ step, name, pinnedDb, currentDb, deltaDb: pinnedDb !== undefined && currentDb !== undefined ? currentDb - pinnedDb : undefined });
    }
  }
  // Rows in only one result first (a layer newly compressed or left out), then the largest loss.
  const rank = (l: LayerDelta) => (l.deltaDb === undefined ? -Infinity : l.deltaDb);
  layers.sort((x, y) => rank(x) - rank(y) || x.name.localeCompare(y.name));
  return {
    sizes: { pinned: pinned.outputBytes, current: current.outputBytes, original: current.inputBytes },
    coverage: { pinned: pinned.coverage.fraction, current: current.coverage.fraction },
    layers,
  };
}

/** Latency and accuracy the lab measured for exactly this recipe (the last evaluation, else a sweep point). */
export function measuredFor(
  recipe: Recipe,
  evaluation: { report: EvaluationReport | null; recipe: Recipe | null },
  sweepPoints: readonly SweepPoint[],
): Measured | undefined {
  const key = canonicalJson(recipe);
  if (evaluation.report && evaluation.recipe && canonicalJson(evaluation.recipe) === key) {
    const b = evaluation.report.backends.find((x) => x.available && !x.error && x.latency) ?? evaluation.report.backends.find((x) => x.available && !x.error);
    if (b) {
      const lat = b.latency;
      return {
        source: 'evaluation',
        medianMs: lat?.candidate.medianMs,
        latencyRatio: lat && lat.original.medianMs > 0 ? lat.candidate.medianMs / lat.original.medianMs : undefined,
        accuracy: b.accuracy?.candidate,
      };
    }
  }
  const point = sweepPoints.find((p) => !p.error && !p.isOriginal && canonicalJson(p.recipe) === key);
  if (point) return { source: 'sweep', latencyRatio: point.relativeLatency, medianMs: point.latency?.medianMs, accuracy: point.accuracy };
  return undefined;
}

/** A short name for a recipe: its preset's label, else its main settings ("int4 blocks of 32 + 30% channels pruned"). */
export function recipeLabel(recipe: Recipe): string {
  const preset = matchingPreset(recipe);
  if (preset) return preset.label;
  const parts: string[] = [];
  const p = recipe.prune;
  if (p)
    parts.push(
      p.pattern === '2:4' || p.pattern === '4:8'
        ? `${p.pattern} sparse`
        : `${Math.round(p.sparsity * 100)}% ${p.pattern === 'channel' ? 'channels pruned' : 'pruned'}`,
    );
  const q = recipe.quantize;
  if (q) {
    const kind =
      q.format === 'fp16'
        ? 'fp16'
        : `${q.format === 'dynamic' ? 'dynamic ' : ''}int${q.bits} ${q.granularity === 'block' ? `blocks of ${q.blockSize}` : `per ${q.granularity}`}`;
    parts.push(kind);
  }
  const custom =
    (q && (q.exclude.length || q.excludeOps.length || q.overrides.length)) || (p && (p.exclude.length || p.excludeOps.length || p.overrides.length));
  return (parts.join(' + ') || 'no compression') + (custom ? ' (with exclusions)' : '');
}
