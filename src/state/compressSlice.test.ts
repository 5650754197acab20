import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelSummary } from '../core/onnx/types';
import type { Recipe } from '../core/recipe';
import type { CompressOutcome, PreviewResult } from './bridge';

/** Worker calls wait until the test resolves them, so their order can be scripted. */
const compressCalls: {
  recipe: Recipe;
  id: number;
  signal: AbortSignal;
  progress(done: number, total: number): void;
  resolve(v: CompressOutcome): void;
  reject(e: Error): void;
}[] = [];
const previewCalls: { id: number; signal: AbortSignal; resolve(v: PreviewResult): void }[] = [];
let jobId = 0;

vi.mock('./bridge', () => ({
  modelWorker: {
    onCrash: () => () => true,
    compress: (recipe: Recipe, _pref: string, progress: (d: number, t: number) => void, _calibration: unknown, _output: unknown, signal: AbortSignal) =>
      new Promise((resolve, reject) => compressCalls.push({ recipe, id: ++jobId, signal, progress, resolve, reject })),
    layerPreview: (id: number, _recipe: unknown, _bins: number, _pref: string, signal: AbortSignal) =>
      new Promise((resolve) => previewCalls.push({ id, signal, resolve })),
    analyzeTensor: () => new Promise(() => undefined),
    layerSparsity: () => Promise.resolve({ layers: [], backend: 'ts', ms: 1 }),
    backendStatus: () => Promise.resolve([]),
  },
}));

const { useStudio, resultIsCurrent } = await import('./store');

function outcome(call: (typeof compressCalls)[number], outputBytes = 1000): CompressOutcome {
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

const initial = useStudio.getState();

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  compressCalls.length = 0;
  previewCalls.length = 0;
  useStudio.setState({
    pruneOn: initial.pruneOn,
    quantizeOn: initial.quantizeOn,
    prune: initial.prune,
    quantize: initial.quantize,
    recipeError: null,
    summary: { tensors: [], weightBytes: 1000 } as unknown as ModelSummary,
    fileName: 'm.onnx',
  });
  // A small model: compressed on open, then every control change recompresses.
  useStudio.getState().resetCompression(true);
  await settle();
  compressCalls[0]!.resolve(outcome(compressCalls[0]!));
  await settle();
  compressCalls.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

async function settle() {
  await vi.advanceTimersByTimeAsync(0);
}

describe('compression slice', () => {
  it('waits for the slider to rest before compressing, then runs once with the last value', async () => {
    const s = useStudio.getState();
    s.setQuantize({ bits: 6 }, { debounce: true });
    s.setQuantize({ bits: 5 }, { debounce: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(compressCalls).toHaveLength(0);
    expect(useStudio.getState().compression.status).toBe('waiting');
    await vi.advanceTimersByTimeAsync(30);
    expect(compressCalls).toHaveLength(1);
    expect(compressCalls[0]!.recipe.quantize?.bits).toBe(5);
    compressCalls[0]!.resolve(outcome(compressCalls[0]!));
    await settle();
    const { compression } = useStudio.getState();
    expect(compression.status).toBe('ready');
    expect(compression.latencyMs).not.toBeNull();
    expect(resultIsCurrent(useStudio.getState())).toBe(true);
  });

  it('clicks (no debounce) run on the next task', async () => {
    useStudio.getState().setQuantize({ granularity: 'block' });
    await settle();
    expect(compressCalls).toHaveLength(1);
  });

  it('aborts the request a newer one overtook, and drops its answer', async () => {
    const s = useStudio.getState();
    s.setQuantize({ bits: 4 });
    await settle();
    s.setQuantize({ bits: 3 });
    await settle();
    expect(compressCalls.map((c) => c.recipe.quantize?.bits)).toEqual([4, 3]);
    expect(compressCalls.map((c) => c.signal.aborted)).toEqual([true, false]);
    compressCalls[0]!.reject(Object.assign(new Error('Cancelled'), { name: 'AbortError' }));
    compressCalls[1]!.resolve(outcome(compressCalls[1]!, 500));
    await settle();
    expect(useStudio.getState().compression.result?.outputBytes).toBe(500);
    // A late answer of the first request (had it not been aborted) still cannot replace it.
    compressCalls[0]!.resolve(outcome(compressCalls[0]!, 900));
    await settle();
    expect(useStudio.getState().compression.result?.recipe.quantize?.bits).toBe(3);
  });

  it('marks the shown result as outdated while the controls have moved on', async () => {
    const s = useStudio.getState();
    s.compressNow();
    await settle();
    compressCalls[0]!.resolve(outcome(compressCalls[0]!));
    await settle();
    expect(resultIsCurrent(useStudio.getState())).toBe(true);
    s.setQuantize({ symmetric: false });
    expect(resultIsCurrent(useStudio.getState())).toBe(false);
  });

  it('reports progress of the run in flight only, and cancels', async () => {
    const s = useStudio.getState();
    s.compressNow();
    await settle();
    compressCalls[0]!.progress(2, 5);
    expect(useStudio.getState().compression.progress).toEqual({ done: 2, total: 5 });
    s.cancelCompression();
    expect(compressCalls[0]!.signal.aborted).toBe(true);
    expect(useStudio.getState().compression.status).toBe('cancelled');
    compressCalls[0]!.progress(3, 5);
    compressCalls[0]!.resolve(outcome(compressCalls[0]!, 222));
    await settle();
    expect(useStudio.getState().compression).toMatchObject({ status: 'cancelled', progress: null });
    expect(useStudio.getState().compression.result?.outputBytes).toBe(1000); // the earlier result, kept
  });

  it('shows worker errors, and does not call the worker without a step', async () => {
    const s = useStudio.getState();
    s.compressNow();
    await settle();
    compressCalls[0]!.reject(new Error('Could not compress the model: boom'));
    await settle();
    expect(useStudio.getState().compression).toMatchObject({ status: 'error', error: 'Could not compress the model: boom' });
    s.setStepOn('quantize', false);
    await settle();
    expect(compressCalls).toHaveLength(1);
    expect(useStudio.getState().compression.status).toBe('idle');
  });

  it('edits exclusions and own overrides into the recipe', async () => {
    const s = useStudio.getState();
    s.addExcludePattern('quantize', ' fc* ');
    s.toggleExcludedName('quantize', 'conv1.weight');
    s.setExcludedOp('quantize', 'Gemm', true);
    s.setOwnOverride('quantize', 'conv2.weight', 4);
    s.setOwnOverride('prune', 'fc1.weight', 0.3);
    await settle();
    const q = useStudio.getState().quantize;
    expect(q.exclude).toEqual(['fc*', 'conv1.weight']);
    expect(q.excludeOps).toEqual(['Gemm']);
    expect(q.overrides).toEqual([{ match: 'conv2.weight', bits: 4 }]);
    expect(useStudio.getState().prune.overrides).toEqual([{ match: 'fc1.weight', sparsity: 0.3 }]);
    // Prune is off: its edits do not ask for a run; the quantize edits were batched into one.
    expect(compressCalls).toHaveLength(1);
    s.removeExcludePattern('quantize', 'fc*');
    s.toggleExcludedName('quantize', 'conv1.weight');
    expect(useStudio.getState().quantize.exclude).toEqual([]);
  });

  it('keeps the settings when a recipe file is invalid, and takes a valid one whole', async () => {
    const s = useStudio.getState();
    s.setQuantize({ bits: 6 });
    expect(s.loadRecipeText('{"version":1,"quantize":{"bits":12}}', 'bad.json')).toBe(false);
    expect(useStudio.getState().recipeError).toMatch(/^bad\.json was not loaded: quantize\.bits must be an integer from 2 to 8 \(got 12\)/);
    expect(useStudio.getState().quantize.bits).toBe(6);
    expect(s.loadRecipeText('{oops', 'x.json')).toBe(false);
    expect(useStudio.getState().recipeError).toMatch(/not valid JSON/);
    expect(s.loadRecipeText('{"version":1}', 'empty.json')).toBe(false);
    expect(useStudio.getState().recipeError).toMatch(/neither/);

    expect(s.loadRecipeText(JSON.stringify({ version: 1, prune: { sparsity: 0.3, pattern: 'channel' } }), 'ok.json')).toBe(true);
    const after = useStudio.getState();
    expect(after.recipeError).toBeNull();
    expect(after).toMatchObject({ pruneOn: true, quantizeOn: false, resultsTab: 'prune' });
    expect(after.prune).toMatchObject({ sparsity: 0.3, pattern: 'channel', norm: 'l2' });
    // The quantize settings are kept (switched off), ready to come back.
    expect(after.quantize.bits).toBe(6);
  });

  it('forgets results when another model opens; a large one waits for Compress, then follows the controls', async () => {
    const s = useStudio.getState();
    s.compressNow();
    await settle();
    s.resetCompression(false);
    compressCalls[0]!.resolve(outcome(compressCalls[0]!));
    await settle();
    expect(useStudio.getState().compression.result).toBeNull();
    s.setQuantize({ bits: 4 });
    await vi.advanceTimersByTimeAsync(500);
    expect(compressCalls).toHaveLength(1);
    expect(useStudio.getState().compression.status).toBe('idle');
    s.compressNow();
    await settle();
    expect(compressCalls).toHaveLength(2);
    s.setQuantize({ bits: 5 });
    await settle();
    expect(compressCalls).toHaveLength(3);
    // After a Cancel, controls wait for the next Compress again.
    s.cancelCompression();
    s.setQuantize({ bits: 6 });
    await vi.advanceTimersByTimeAsync(500);
    expect(compressCalls).toHaveLength(3);
  });

  it('previews a layer, drops overtaken previews and serves repeats from a cache', async () => {
    const s = useStudio.getState();
    const recipe = s.quantize;
    s.requestQuantPreview(1, recipe);
    s.requestQuantPreview(2, recipe);
    const preview = (id: number) => ({ tensorId: id }) as PreviewResult;
    previewCalls[1]!.resolve(preview(2));
    await settle();
    previewCalls[0]!.resolve(preview(1));
    await settle();
    expect(useStudio.getState().quantPreview).toMatchObject({ tensorId: 2, loading: false });
    expect(useStudio.getState().quantPreview.result?.tensorId).toBe(2);
    s.requestQuantPreview(2, recipe); // same key: nothing new
    expect(previewCalls).toHaveLength(2);
    s.requestQuantPreview(null);
    expect(useStudio.getState().quantPreview.result).toBeNull();
    s.requestQuantPreview(2, recipe); // from the cache
    expect(previewCalls).toHaveLength(2);
    expect(useStudio.getState().quantPreview.result?.tensorId).toBe(2);
  });
});
