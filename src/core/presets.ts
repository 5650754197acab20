/**
 * Named recipes for the common cases, each with a one-line description in plain words. The Compress panel
 * offers all of them; the trade-off explorer and `cstudio sweep --presets` measure the ones marked `sweep`.
 */
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type Recipe } from './recipe';

export interface RecipePreset {
  /** Stable identifier (URL-safe). */
  id: string;
  label: string;
  /** One line, plain language: what it does and when to pick it. */
  description: string;
  recipe: Recipe;
  /** Part of the trade-off explorer's preset list. */
  sweep: boolean;
}

const int8 = { ...DEFAULT_QUANTIZE };

export const RECIPE_PRESETS: readonly RecipePreset[] = [
  {
    id: 'int8-channel',
    label: 'int8 per channel',
    description: 'About 4× smaller with one scale per output channel; the safe default for almost any model.',
    recipe: { version: 1, quantize: int8 },
    sweep: true,
  },
  {
    id: 'int8-tensor',
    label: 'int8 per tensor',
    description: 'About 4× smaller with one scale per weight; simplest for runtimes, but loses more on layers with uneven channels.',
    recipe: { version: 1, quantize: { ...int8, granularity: 'tensor' } },
    sweep: true,
  },
  {
    id: 'int4-block32',
    label: 'int4 blocks of 32',
    description: 'About 6–8× smaller with a scale per 32 weights; the usual choice for large language-model weights.',
    recipe: { version: 1, quantize: { ...int8, bits: 4, granularity: 'block', blockSize: 32 } },
    sweep: true,
  },
  {
    id: 'fp16',
    label: 'fp16',
    description: 'Half the size with almost no change in outputs; weights and compute in float16.',
    recipe: { version: 1, quantize: { ...int8, format: 'fp16' } },
    sweep: true,
  },
  {
    id: 'dynamic-int8',
    label: 'dynamic int8',
    description: 'int8 weights with activations quantized at run time; often fastest on CPUs for MatMul-heavy models.',
    recipe: { version: 1, quantize: { ...int8, format: 'dynamic' } },
    sweep: true,
  },
  {
    id: '2of4-int8',
    label: '2:4 sparse + int8',
    description: 'Zeroes 2 of every 4 weights, then int8; for hardware with sparse kernels, and smaller once zipped.',
    recipe: { version: 1, prune: { ...DEFAULT_PRUNE, pattern: '2:4', sparsity: 0.5 }, quantize: int8 },
    sweep: true,
  },
  {
    id: 'channels30-int8',
    label: '30% channels pruned + int8',
    description: 'Removes 30 % of the channels (a genuinely smaller, faster net), then int8; check the accuracy.',
    recipe: { version: 1, prune: { ...DEFAULT_PRUNE, pattern: 'channel', sparsity: 0.3 }, quantize: int8 },
    sweep: false,
  },
  {
    id: 'channels50-int8',
    label: '50% channels pruned + int8',
    description: 'Removes half the channels, then int8: the biggest speed-up here, usually needs fine-tuning afterwards.',
    recipe: { version: 1, prune: { ...DEFAULT_PRUNE, pattern: 'channel', sparsity: 0.5 }, quantize: int8 },
    sweep: true,
  },
];

export function presetById(id: string): RecipePreset | undefined {
  return RECIPE_PRESETS.find((p) => p.id === id);
}

/** The preset whose recipe is exactly `recipe` (as JSON), or undefined (a custom recipe). */
export function matchingPreset(recipe: Recipe): RecipePreset | undefined {
  const key = canonicalJson(recipe);
  return RECIPE_PRESETS.find((p) => canonicalJson(p.recipe) === key);
}

/** JSON with object keys sorted, so two equal recipes built in a different key order read the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
