import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelSummary } from '../core/onnx/types';
import { presetById } from '../core/presets';
import { DEFAULT_QUANTIZE, type Recipe } from '../core/recipe';
import type { CompressOutcome } from './bridge';

// The model worker is a Web Worker (not available in vitest); its calls are recorded and answered here.
const compressCalls: { recipe: Recipe; id: number; resolve(v: CompressOutcome | null): void }[] = [];
vi.mock('./bridge', () => ({
  modelWorker: {
    onCrash: () => () => true,
    compress: (recipe: Recipe, id: number) => new Promise((resolve) => compressCalls.push({ recipe, id, resolve })),
    cancelCompress: () => Promise.resolve(),
    layerPreview: () => new Promise(() => undefined),
    analyzeTensor: () => new Promise(() => undefined),
    layerSparsity: () => Promise.resolve({ layers: [], backend: 'ts', ms: 1 }),
    backendStatus: () => Promise.resolve([]),
  },
}));

const { useStudio } = await import('./store');
const { recipeOf } = await import('./recipeEdits');
const { recipeHash } = await import('./recipeHash');

const initial = useStudio.getState();
const recipeNow = () => recipeOf(useStudio.getState());
const settle = () => vi.advanceTimersByTimeAsync(200);

function outcome(call: (typeof compressCalls)[number], outputBytes: number): CompressOutcome {
  return {
    requestId: call.id,
    recipe: call.recipe,
    inputBytes: 4000,
    outputBytes,
    coverage: { totalBytes: 4000, compressedBytes: 4000, fraction: 1, left: [] },
    runtime: [],
    backend: 'ts',
    ms: 1,
  };
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  compressCalls.length = 0;
  useStudio.setState({
    pruneOn: initial.pruneOn,
    quantizeOn: initial.quantizeOn,
    prune: initial.prune,
    quantize: initial.quantize,
    recipeHistory: initial.recipeHistory,
    urlRecipeError: null,
    summary: { tensors: [], weightBytes: 1000 } as unknown as ModelSummary,
    fileName: 'm.onnx',
  });
  useStudio.getState().resetCompression(true);
  await settle();
  compressCalls[0]!.resolve(outcome(compressCalls[0]!, 1000));
  await settle();
  compressCalls.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('presets, undo and the URL recipe in the store', () => {
  it('a preset replaces the recipe, recompresses, and undo / redo step through it', async () => {
    const before = recipeNow();
    useStudio.getState().applyPreset('2of4-int8');
    expect(recipeNow()).toEqual(presetById('2of4-int8')!.recipe);
    await settle();
    expect(compressCalls.at(-1)!.recipe).toEqual(presetById('2of4-int8')!.recipe);
    useStudio.getState().undoRecipe();
    expect(recipeNow()).toEqual(before);
    await settle();
    expect(compressCalls.at(-1)!.recipe).toEqual(before);
    useStudio.getState().redoRecipe();
    expect(recipeNow()).toEqual(presetById('2of4-int8')!.recipe);
    useStudio.getState().applyPreset('no-such-preset');
    expect(useStudio.getState().recipeHistory.past).toHaveLength(1);
  });

  it('a slider drag is one undo step; clicks are one each', () => {
    const s = useStudio.getState();
    for (const bits of [7, 6, 5, 4]) s.setQuantize({ bits }, { debounce: true });
    s.setQuantize({ granularity: 'tensor' });
    s.setStepOn('prune', true);
    expect(useStudio.getState().recipeHistory.past).toHaveLength(3);
    s.undoRecipe();
    expect(useStudio.getState().pruneOn).toBe(false);
    s.undoRecipe();
    expect(useStudio.getState().quantize.granularity).toBe('channel');
    expect(useStudio.getState().quantize.bits).toBe(4);
    s.undoRecipe();
    expect(useStudio.getState().quantize.bits).toBe(8);
  });

  it('exclusions and overrides are undoable', () => {
    const s = useStudio.getState();
    s.addExcludePattern('quantize', 'conv*');
    s.setOwnOverride('quantize', 'fc.weight', 4);
    expect(useStudio.getState().quantize.overrides).toHaveLength(1);
    s.undoRecipe();
    expect(useStudio.getState().quantize.overrides).toHaveLength(0);
    expect(useStudio.getState().quantize.exclude).toEqual(['conv*']);
    s.undoRecipe();
    expect(useStudio.getState().quantize.exclude).toEqual([]);
  });

  it('a recipe link sets the draft; a bad one gives the defaults and a message', () => {
    const s = useStudio.getState();
    s.applyHashRecipe(
      recipeHash({
        pruneOn: true,
        quantizeOn: true,
        prune: { ...initial.prune, pattern: 'channel', sparsity: 0.3 },
        quantize: { ...DEFAULT_QUANTIZE, bits: 4 },
      }),
    );
    expect(recipeNow().prune?.pattern).toBe('channel');
    expect(recipeNow().quantize?.bits).toBe(4);
    expect(useStudio.getState().urlRecipeError).toBeNull();
    s.applyHashRecipe('#recipe=' + encodeURIComponent('{"version":1,"quantize":{"bits":"four"}}'));
    expect(recipeNow()).toEqual({ version: 1, quantize: DEFAULT_QUANTIZE });
    expect(useStudio.getState().urlRecipeError).toMatch(/quantize\.bits/);
    s.dismissUrlRecipeError();
    expect(useStudio.getState().urlRecipeError).toBeNull();
    // A hash without a recipe changes nothing.
    s.setQuantize({ bits: 6 });
    s.applyHashRecipe('#about');
    expect(recipeNow().quantize?.bits).toBe(6);
  });

  it('pins a result and forgets the pin when another model opens', async () => {
    const s = useStudio.getState();
    s.pinResult();
    const pinned = useStudio.getState().pinned;
    expect(pinned?.outputBytes).toBe(1000);
    s.setQuantize({ bits: 4 });
    await settle();
    compressCalls.at(-1)!.resolve(outcome(compressCalls.at(-1)!, 600));
    await settle();
    expect(useStudio.getState().compression.result?.outputBytes).toBe(600);
    expect(useStudio.getState().pinned).toBe(pinned);
    s.resetCompression(false);
    expect(useStudio.getState().pinned).toBeNull();
  });
});
