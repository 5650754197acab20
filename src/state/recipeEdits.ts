/**
 * Pure helpers for editing a recipe from the UI: the steps switched on, exclusions and per-layer overrides,
 * file names. The recipe itself (src/core/recipe.ts) stays the one source of truth; these only build views
 * of it and small edits to it.
 */
import type { TensorInfo } from '../core/onnx/types';
import {
  compressedFileName,
  externalDataFileName,
  exactGlob,
  globToRegExp,
  matchesAny,
  type PruneRecipe,
  type QuantizeRecipe,
  type Recipe,
} from '../core/recipe';

export type Step = 'prune' | 'quantize';

export interface RecipeDraft {
  pruneOn: boolean;
  quantizeOn: boolean;
  prune: PruneRecipe;
  quantize: QuantizeRecipe;
}

/** The recipe the draft stands for: only the steps switched on, prune first. */
export function recipeOf(draft: RecipeDraft): Recipe {
  return {
    version: 1,
    ...(draft.pruneOn ? { prune: draft.prune } : {}),
    ...(draft.quantizeOn ? { quantize: draft.quantize } : {}),
  };
}

export function hasSteps(recipe: Recipe): boolean {
  return recipe.prune !== undefined || recipe.quantize !== undefined;
}

/** Recipes are small plain objects: their JSON text is a fine identity. */
export function recipeKey(recipe: Recipe): string {
  return JSON.stringify(recipe);
}

export { compressedFileName, externalDataFileName };

/** name.onnx → name.recipe.json */
export function recipeFileName(input: string): string {
  return `${input.replace(/\.onnx$/i, '')}.recipe.json`;
}

/** The weights compression works on: the ones a Conv, Gemm, MatMul (…) multiplies. */
export function compressibleWeights(tensors: TensorInfo[]): TensorInfo[] {
  return tensors.filter((t) => t.multiplied);
}

/** Op types of those weights' layers, most common first. */
export function weightOpTypes(tensors: TensorInfo[]): { op: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const t of compressibleWeights(tensors)) {
    const op = t.layerOp ?? t.consumers[0] ?? '?';
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

/** Weights whose tensor name or layer name a glob matches (the rule the core applies). */
export function globMatches(glob: string, tensors: TensorInfo[]): TensorInfo[] {
  if (!glob.trim()) return [];
  const re = globToRegExp(glob.trim());
  return compressibleWeights(tensors).filter((t) => re.test(t.name) || (t.layer !== undefined && re.test(t.layer)));
}

export interface Exclusion {
  /** 'name': the row's own exact entry; 'pattern': a glob that matches more than its name; 'op': its op type. */
  kind: 'name' | 'pattern' | 'op';
  by: string;
}

interface StepRules {
  exclude: string[];
  excludeOps: string[];
}

/** Why a weight is left out by a step's rules, or null. The row's exact name counts as 'name', not 'pattern'. */
export function exclusionOf(rules: StepRules, name: string, layer: string | undefined, op: string | undefined): Exclusion | null {
  if (rules.exclude.includes(exactGlob(name))) return { kind: 'name', by: name };
  const glob = matchesAny(rules.exclude, name, layer);
  if (glob !== undefined) return { kind: 'pattern', by: glob };
  if (op !== undefined && rules.excludeOps.includes(op)) return { kind: 'op', by: op };
  return null;
}

/** Adds `item` when absent, removes it when present. */
export function toggled<T>(list: readonly T[], item: T): T[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}

/** The override a row set for itself (match is exactly its name), or undefined. */
export function ownOverride<O extends { match: string }>(overrides: readonly O[], name: string): O | undefined {
  return overrides.find((o) => o.match === exactGlob(name));
}

/**
 * Gives the row named `name` its own value (bits or sparsity), or removes it (null). Its own override goes
 * first so it wins over pattern overrides (the core takes the first match).
 */
export function withOwnOverride<K extends 'bits' | 'sparsity'>(
  overrides: readonly ({ match: string } & Record<K, number>)[],
  name: string,
  key: K,
  value: number | null,
): ({ match: string } & Record<K, number>)[] {
  const own = exactGlob(name);
  const rest = overrides.filter((o) => o.match !== own);
  if (value === null) return rest;
  return [{ match: own, [key]: value } as { match: string } & Record<K, number>, ...rest];
}

/** N:M patterns fix sparsity at N/M. */
export function fixedSparsity(pattern: PruneRecipe['pattern']): number | null {
  return pattern === '2:4' || pattern === '4:8' ? 0.5 : null;
}
