import { describe, expect, it } from 'vitest';
import { RECIPE_PRESETS } from '../core/presets';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE } from '../core/recipe';
import { readRecipeHash, recipeHash } from './recipeHash';
import type { RecipeDraft } from './recipeEdits';

describe('recipe in the URL hash', () => {
  it('round-trips every preset and an edited draft, with defaults left out of the link', () => {
    for (const p of RECIPE_PRESETS) {
      const draft: RecipeDraft = {
        pruneOn: !!p.recipe.prune,
        quantizeOn: !!p.recipe.quantize,
        prune: p.recipe.prune ?? DEFAULT_PRUNE,
        quantize: p.recipe.quantize ?? DEFAULT_QUANTIZE,
      };
      expect(readRecipeHash(recipeHash(draft))).toEqual({ kind: 'ok', draft });
    }
    const edited: RecipeDraft = {
      pruneOn: true,
      quantizeOn: true,
      prune: { ...DEFAULT_PRUNE, sparsity: 0.3, pattern: 'channel', exclude: ['conv1*'], overrides: [{ match: 'fc&x=1#', sparsity: 0.1 }] },
      quantize: { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 64, excludeOps: ['Gemm'], overrides: [{ match: 'a+b %', bits: 8 }] },
    };
    const hash = recipeHash(edited);
    expect(hash.startsWith('#recipe=')).toBe(true);
    expect(decodeURIComponent(hash)).not.toContain('"symmetric"');
    expect(readRecipeHash(hash)).toEqual({ kind: 'ok', draft: edited });
  });

  it('keeps the settings of a step switched off out of the link (both off: no steps)', () => {
    const off: RecipeDraft = { pruneOn: false, quantizeOn: false, prune: DEFAULT_PRUNE, quantize: { ...DEFAULT_QUANTIZE, bits: 3 } };
    const read = readRecipeHash(recipeHash(off));
    expect(read).toEqual({ kind: 'ok', draft: { ...off, quantize: DEFAULT_QUANTIZE } });
  });

  it('ignores hashes without a recipe', () => {
    expect(readRecipeHash('')).toEqual({ kind: 'none' });
    expect(readRecipeHash('#section-2')).toEqual({ kind: 'none' });
  });

  it('reports bad and foreign recipes in words', () => {
    const bad = (h: string) => {
      const r = readRecipeHash(h);
      expect(r.kind).toBe('error');
      return r.kind === 'error' ? r.message : '';
    };
    expect(bad('#recipe=%7B%22version')).toMatch(/not valid JSON/);
    expect(bad(`#recipe=${encodeURIComponent('{"version":2,"quantize":{}}')}`)).toMatch(/version must be 1/);
    expect(bad(`#recipe=${encodeURIComponent('{"version":1,"quantize":{"bits":12}}')}`)).toMatch(/quantize\.bits must be an integer from 2 to 8/);
    expect(bad(`#recipe=${encodeURIComponent('{"version":1,"quantization":{"bits":4}}')}`)).toMatch(/does not know \(quantization\)/);
    expect(bad(`#recipe=${encodeURIComponent('{"version":1,"quantize":{"dtype":"int8"}}')}`)).toMatch(/quantize\.dtype/);
    expect(bad('#recipe=')).toMatch(/The default settings apply/);
  });
});
