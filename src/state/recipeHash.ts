/**
 * The recipe in the URL hash: `#recipe=<JSON>`, holding only the fields that differ from the defaults
 * (the recipe validator fills the rest back in), so a link stays short and readable. Reading checks the
 * recipe with the same validator as recipe files and the CLI; anything it cannot use is an error in words.
 */
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, RecipeError, validateRecipe, type PruneRecipe, type QuantizeRecipe, type Recipe } from '../core/recipe';
import { recipeOf, type RecipeDraft } from './recipeEdits';

export const HASH_KEY = 'recipe';

export type HashRecipe = { kind: 'none' } | { kind: 'ok'; draft: RecipeDraft } | { kind: 'error'; message: string };

function changedFields<T extends object>(section: T, defaults: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(section) as (keyof T)[]) {
    if (JSON.stringify(section[key]) !== JSON.stringify(defaults[key])) out[key] = section[key];
  }
  return out;
}

/** The recipe with default fields left out (validateRecipe restores them). */
export function compactRecipe(recipe: Recipe): Record<string, unknown> {
  return {
    version: 1,
    ...(recipe.prune ? { prune: changedFields<PruneRecipe>(recipe.prune, DEFAULT_PRUNE) } : {}),
    ...(recipe.quantize ? { quantize: changedFields<QuantizeRecipe>(recipe.quantize, DEFAULT_QUANTIZE) } : {}),
  };
}

/** `#recipe=…` for a draft (only the steps switched on). */
export function recipeHash(draft: RecipeDraft): string {
  return `#${HASH_KEY}=${encodeURIComponent(JSON.stringify(compactRecipe(recipeOf(draft))))}`;
}

const TOP_KEYS = new Set(['version', 'prune', 'quantize']);
const PRUNE_KEYS = new Set(Object.keys(DEFAULT_PRUNE));
const QUANTIZE_KEYS = new Set(Object.keys(DEFAULT_QUANTIZE));

function unknownKeys(value: unknown, known: Set<string>, where: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((k) => !known.has(k))
    .map((k) => (where ? `${where}.${k}` : k));
}

/** Reads a location hash. No `recipe=` in it is 'none' (other hashes are left alone). */
export function readRecipeHash(hash: string): HashRecipe {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const text = params.get(HASH_KEY);
  if (text === null) return { kind: 'none' };
  try {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RecipeError('it is not valid JSON (the link may have been cut short)');
    }
    const r = json as Record<string, unknown>;
    const foreign = [...unknownKeys(json, TOP_KEYS, ''), ...unknownKeys(r?.prune, PRUNE_KEYS, 'prune'), ...unknownKeys(r?.quantize, QUANTIZE_KEYS, 'quantize')];
    if (foreign.length)
      throw new RecipeError(`it has fields this studio does not know (${foreign.join(', ')}); it may come from another tool or a newer version`);
    const recipe = validateRecipe(json);
    return {
      kind: 'ok',
      draft: {
        pruneOn: recipe.prune !== undefined,
        quantizeOn: recipe.quantize !== undefined,
        prune: recipe.prune ?? DEFAULT_PRUNE,
        quantize: recipe.quantize ?? DEFAULT_QUANTIZE,
      },
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'error', message: `The recipe in the link was not used: ${why}. The default settings apply.` };
  }
}
