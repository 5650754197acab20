/**
 * Per-layer sensitivity: compress one layer at a time at the current settings, measure the damage,
 * rank the layers; then turn the ranking into a mixed-precision recipe that meets a size (or damage)
 * target with the least damage — the sensitive layers keep a gentler setting.
 */
import { pruneCandidates } from '../compress/prune/apply';
import { planQuantization } from '../compress/quantize/plan';
import type { OpenedModel } from '../onnx/open';
import { DEFAULT_PRUNE, exactGlob, type Recipe } from '../recipe';
import type { CandidateMeasure } from './candidate';

export interface SensitivityLayer {
  /** The weight tensor's name (what the recipe's globs match). */
  name: string;
  layer: string;
  op: string;
  elements: number;
}

export interface LayerSensitivity extends SensitivityLayer {
  /** (1 − headline metric) + (1 − cosine) of the first output, with only this layer compressed. 0 = no damage. */
  damage: number;
  headline?: { metric: string; value: number };
  cosine?: number;
  sqnrDb?: number | null;
  accuracy?: number;
  /** Size of the model with only this layer compressed. */
  sizeBytes: number;
  /** Bytes the whole file shrinks by with only this layer compressed (negative: it grows, see `savingText`). */
  savedBytes: number;
  error?: string;
}

/** The weights the recipe would change, in graph order: those it quantizes and those it prunes. */
export function sensitivityLayers(opened: OpenedModel, recipe: Recipe): SensitivityLayer[] {
  const byId = new Map<number, SensitivityLayer>();
  const q = recipe.quantize;
  if (q && q.format !== 'fp16') {
    for (const t of planQuantization(opened, q).tensors)
      if (t.action === 'quantize') byId.set(t.entryId, { name: t.name, layer: t.layer, op: t.op, elements: t.elements });
  }
  // fp16 converts every float weight of Conv / Gemm / MatMul its exclusions leave: the same set pruning would consider.
  const steps = [recipe.prune, q?.format === 'fp16' ? { ...DEFAULT_PRUNE, exclude: q.exclude, excludeOps: q.excludeOps } : undefined];
  for (const step of steps) {
    if (!step) continue;
    for (const c of pruneCandidates(opened.catalog, step)) byId.set(c.entry.id, { name: c.entry.name, layer: c.layer, op: c.op, elements: c.entry.elements });
  }
  return [...byId.entries()].sort((x, y) => x[0] - y[0]).map(([, layer]) => layer);
}

/** The recipe restricted to one layer: every other layer is excluded by its exact name. */
export function recipeForOnly(recipe: Recipe, layers: SensitivityLayer[], only: SensitivityLayer): Recipe {
  const others = layers.filter((l) => l !== only).map((l) => exactGlob(l.name));
  const out: Recipe = { version: 1 };
  if (recipe.prune) out.prune = { ...recipe.prune, global: false, exclude: [...recipe.prune.exclude, ...others] };
  if (recipe.quantize) out.quantize = { ...recipe.quantize, exclude: [...recipe.quantize.exclude, ...others] };
  return out;
}

export function damageOf(m: Pick<CandidateMeasure, 'fidelity'>): number {
  const f = m.fidelity[0];
  if (!f) return 0;
  const headlineLoss = f.headline.metric === 'cosine' ? 0 : 1 - f.headline.value;
  return Math.max(0, headlineLoss) + Math.max(0, 1 - f.cosine);
}

/** `C`: how a compressed candidate reaches `measure` (its bytes, or a handle such as the studio's candidate id). */
export interface SensitivityDeps<C = Uint8Array> {
  compress(recipe: Recipe, signal?: AbortSignal): Promise<C>;
  measure(candidate: C, signal?: AbortSignal): Promise<CandidateMeasure>;
  originalBytes: number;
}

/** Measures every layer alone; returns them ranked, most sensitive first. */
export async function measureSensitivity<C = Uint8Array>(
  recipe: Recipe,
  layers: SensitivityLayer[],
  deps: SensitivityDeps<C>,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number, layer?: string) => void } = {},
): Promise<LayerSensitivity[]> {
  const out: LayerSensitivity[] = [];
  for (const [i, layer] of layers.entries()) {
    if (options.signal?.aborted) throw new DOMException('Sensitivity cancelled', 'AbortError');
    options.onProgress?.(i, layers.length, layer.name);
    try {
      const bytes = await deps.compress(recipeForOnly(recipe, layers, layer), options.signal);
      const m = await deps.measure(bytes, options.signal);
      const f = m.fidelity[0];
      out.push({
        ...layer,
        damage: damageOf(m),
        headline: f?.headline,
        cosine: f?.cosine,
        sqnrDb: f?.sqnrDb,
        accuracy: m.accuracy?.candidate,
        sizeBytes: m.sizeBytes,
        savedBytes: deps.originalBytes - m.sizeBytes,
      });
    } catch (err) {
      if ((err instanceof Error || err instanceof DOMException) && err.name === 'AbortError') throw err;
      out.push({ ...layer, damage: 0, sizeBytes: deps.originalBytes, savedBytes: 0, error: err instanceof Error ? err.message : String(err) });
    }
  }
  options.onProgress?.(layers.length, layers.length);
  return out.sort((a, b) => b.damage - a.damage);
}

/**
 * A layer's saving in words: "saves 1.7 kB", or "grows the file by 1.1 kB" where the whole file is larger with it
 * compressed (static int8 adds activation Q/DQ nodes and scales, which can outweigh a small layer's weights).
 */
export function savingText(savedBytes: number, formatBytes: (n: number) => string): string {
  return savedBytes < 0 ? `grows the file by ${formatBytes(-savedBytes)}` : `saves ${formatBytes(savedBytes)}`;
}

export type MixedTarget = { sizeBytes: number } | { maxDamage: number };

export interface MixedPlan {
  recipe: Recipe;
  /** Layers compressed at the current settings. */
  compressed: string[];
  /** Sensitive layers given the gentler setting. */
  protectedLayers: string[];
  /** What protection means here ("8-bit", "kept in float", "not pruned"). */
  protection: string;
  /** Estimated size of the result (the caller measures the real one) and summed damage of the compressed layers. */
  estimatedBytes: number;
  estimatedDamage: number;
  /** False when even compressing every layer does not reach the size target. */
  targetMet: boolean;
}

/**
 * Greedy: start with every layer protected; compress layers in order of damage per byte saved (least
 * first) until the estimated size meets the target, or while the summed damage stays within budget.
 * Protection: 8-bit for layers quantized below 8 bits, float (excluded) for 8-bit quantization, and
 * no pruning for pruned layers.
 */
export function planMixedPrecision(recipe: Recipe, sensitivities: LayerSensitivity[], originalBytes: number, target: MixedTarget): MixedPlan {
  const q = recipe.quantize;
  const lowBits = q?.bits ?? 32;
  const toEight = !!q && q.format !== 'fp16' && lowBits < 8;
  // Bytes a protected layer still saves: an 8-bit layer saves (32 − 8) / (32 − stored) of what the low setting saves
  // (2- and 3-bit levels are stored in 4-bit containers).
  const storedLow = lowBits <= 4 ? 4 : 8;
  const protectedSaving = (s: LayerSensitivity) => (toEight && !recipe.prune ? (s.savedBytes * (32 - 8)) / (32 - storedLow) : 0);
  const usable = sensitivities.filter((s) => !s.error);
  const order = [...usable].sort(
    (a, b) => a.damage / Math.max(1, a.savedBytes - protectedSaving(a)) - b.damage / Math.max(1, b.savedBytes - protectedSaving(b)),
  );
  let size = originalBytes - usable.reduce((n, s) => n + protectedSaving(s), 0);
  let damage = 0;
  const compressed = new Set<string>();
  for (const s of order) {
    // Static int8's Q/DQ overhead can outweigh a small layer's weights: compressing it would only grow the file.
    if (s.savedBytes - protectedSaving(s) < 0) continue;
    if ('sizeBytes' in target) {
      if (size <= target.sizeBytes) break;
    } else if (damage + s.damage > target.maxDamage) break;
    compressed.add(s.name);
    size -= s.savedBytes - protectedSaving(s);
    damage += s.damage;
  }
  const protectedLayers = usable.filter((s) => !compressed.has(s.name)).map((s) => s.name);
  const out: Recipe = { version: 1 };
  const globs = protectedLayers.map(exactGlob);
  if (recipe.prune) out.prune = { ...recipe.prune, overrides: [...globs.map((match) => ({ match, sparsity: 0 })), ...recipe.prune.overrides] };
  if (q) {
    out.quantize =
      toEight && !recipe.prune
        ? { ...q, overrides: [...globs.map((match) => ({ match, bits: 8 })), ...q.overrides] }
        : recipe.prune
          ? { ...q }
          : { ...q, exclude: [...q.exclude, ...globs] };
  }
  return {
    recipe: out,
    compressed: [...compressed],
    protectedLayers,
    protection: recipe.prune ? 'not pruned' : toEight ? '8-bit' : 'kept in float',
    estimatedBytes: Math.round(size),
    estimatedDamage: damage,
    targetMet: 'sizeBytes' in target ? size <= target.sizeBytes : true,
  };
}
