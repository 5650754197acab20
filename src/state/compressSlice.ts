import type { StateCreator } from 'zustand';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, validateRecipe, type PruneRecipe, type QuantizeRecipe, type Recipe } from '../core/recipe';
import { modelWorker, type CompressOutcome, type PreviewResult } from './bridge';
import { exactGlob } from '../core/recipe';
import {
  compressedFileName,
  externalDataFileName,
  hasSteps,
  recipeFileName,
  recipeKey,
  recipeOf,
  toggled,
  withOwnOverride,
  type RecipeDraft,
  type Step,
} from './recipeEdits';
import { presetById } from '../core/presets';
import { measuredFor, type Measured } from './pinCompare';
import { readRecipeHash } from './recipeHash';
import { EMPTY_HISTORY, recordEdit, redoStep, undoStep, type RecipeHistory } from './recipeHistory';
import { saveFile } from './saveFile';
import type { StudioState } from './store';
import type { CalibrationOutcome } from '../protocol/eval';
import { calibrationNeeds, workerCalibration } from '../lab/service';
import { jobs } from './jobs';
import { lru } from './lru';

/** Control changes from sliders and typing wait this long for the next one before the worker starts. */
export const DEBOUNCE_MS = 120;
/** Models up to this many bytes of weights are compressed as soon as they open (the demo: 0.2 MB). */
export const AUTO_RUN_MAX_BYTES = 20_000_000;
/** Bins of the layer preview histograms. */
export const PREVIEW_BINS = 128;

export type JobStatus = 'idle' | 'waiting' | 'running' | 'ready' | 'error' | 'cancelled';

export interface CompressionJob {
  status: JobStatus;
  /** The last finished result; it may belong to an older recipe (compare `result.recipe`). */
  result: CompressOutcome | null;
  error: string | null;
  /** Tensors quantized so far in the run in flight. */
  progress: { done: number; total: number } | null;
  /** performance.now() when the run in flight started. */
  startedAt: number | null;
  /** performance.now() of the control change the next result answers. */
  changedAt: number | null;
  /** Control change → result in the store, for the last result (ms). */
  latencyMs: number | null;
}

export interface PreviewState {
  key: string | null;
  tensorId: number | null;
  result: PreviewResult | null;
  loading: boolean;
  error: string | null;
}

export interface CompressSlice extends RecipeDraft {
  compression: CompressionJob;
  quantPreview: PreviewState;
  /** Which per-layer table the results show. */
  resultsTab: Step;
  /** A user-facing message from the last recipe file that failed to load. */
  recipeError: string | null;
  /** Write the weights to an external-data file beside the model at any size (always so over 2 GB). */
  separateWeights: boolean;
  setSeparateWeights(on: boolean): void;
  /** Undo / redo stacks of recipe edits. */
  recipeHistory: RecipeHistory;
  /** A user-facing message when the recipe in the URL could not be used. */
  urlRecipeError: string | null;
  /**
   * Whether control changes recompress by themselves: from the start for small models, after the first Compress
   * for large ones (so the settings can be chosen before a long run starts); a Cancel turns it off.
   */
  liveCompress: boolean;
  /** A result kept aside to compare the current one with. */
  pinned: CompressOutcome | null;
  /** Latency / accuracy the lab had measured for the pinned recipe when it was pinned. */
  pinnedMeasured: Measured | null;

  /** Replaces the recipe with a named preset (one undoable step). */
  applyPreset(id: string): void;
  undoRecipe(): void;
  redoRecipe(): void;
  /**
   * Applies the recipe in a location hash (`#recipe=…`). No recipe there: nothing changes. A bad one: the
   * defaults, and urlRecipeError says why. `undoable` records the change as a step (a link opened later).
   */
  applyHashRecipe(hash: string, options?: { undoable?: boolean }): void;
  dismissUrlRecipeError(): void;
  /** Keeps the shown result aside for comparison (replacing an earlier pin). */
  pinResult(): void;
  unpinResult(): void;

  setQuantize(patch: Partial<QuantizeRecipe>, options?: { debounce?: boolean }): void;
  setPrune(patch: Partial<PruneRecipe>, options?: { debounce?: boolean }): void;
  setStepOn(step: Step, on: boolean): void;
  /** Leaves the weight named `name` out of a step (or takes it back in). */
  toggleExcludedName(step: Step, name: string): void;
  setExcludedOp(step: Step, op: string, excluded: boolean): void;
  addExcludePattern(step: Step, glob: string): void;
  removeExcludePattern(step: Step, glob: string): void;
  /** A row's own bit width (quantize) or sparsity (prune); null returns it to the recipe's value. */
  setOwnOverride(step: Step, name: string, value: number | null): void;
  setResultsTab(tab: Step): void;
  /** Validates a recipe file's text; on success replaces the draft, on failure keeps it and sets recipeError. */
  loadRecipeText(text: string, fileName: string): boolean;
  dismissRecipeError(): void;
  /** Runs the compression now (no debounce). */
  compressNow(): void;
  cancelCompression(): void;
  /** Called when another model opened: forget results; compress at once when the model is small. */
  resetCompression(autoRun: boolean): void;
  /** Previews one weight under `recipe` (the recipe of the result shown); null clears. */
  requestQuantPreview(tensorId: number | null, recipe?: QuantizeRecipe): void;
  /** A message when a download failed (e.g. the result went stale). */
  downloadError: string | null;
  /** Saves the last result's model, named after the original (name.q4.onnx …); gzip-compressed with `gzip`. */
  downloadModel(options?: { gzip?: boolean }): Promise<void>;
  /** Saves the last result's external-data file (name.q4.onnx_data), when its weights went there. */
  downloadWeightsFile(): Promise<void>;
  /** Saves the current recipe as JSON. */
  downloadRecipe(): void;
}

/** The compression job and the layer preview's (src/state/jobs): a newer request aborts the one running. */
const COMPRESS_JOB = 'compress';
const PREVIEW_JOB = 'compress:preview';
/**
 * The last calibration, for the same sample count and activations on the same data (a calibration takes seconds; its
 * statistics hold whole histograms, so another range method or bias correction reuses them). Cleared per model.
 */
const calibrationCache = lru<string, { data: unknown; outcome: CalibrationOutcome }>(1);
let debounceTimer: ReturnType<typeof setTimeout> | undefined;

const IDLE_JOB: CompressionJob = { status: 'idle', result: null, error: null, progress: null, startedAt: null, changedAt: null, latencyMs: null };
const IDLE_PREVIEW: PreviewState = { key: null, tensorId: null, result: null, loading: false, error: null };

/** The last few layer previews (by tensor, backend and recipe), so going back to a layer shows at once. Cleared per model. */
const previewCache = lru<string, PreviewResult>(16);

export function draftOf(s: RecipeDraft): RecipeDraft {
  return { pruneOn: s.pruneOn, quantizeOn: s.quantizeOn, prune: s.prune, quantize: s.quantize };
}

export const createCompressSlice: StateCreator<StudioState, [], [], CompressSlice> = (set, get) => {
  /** Starts a compression of the current recipe as the compression job; never rejects. */
  async function run(): Promise<void> {
    clearTimeout(debounceTimer);
    debounceTimer = undefined;
    const recipe = recipeOf(draftOf(get()));
    if (!get().summary || !hasSteps(recipe)) {
      jobs.supersede(COMPRESS_JOB);
      set((s) => ({ compression: { ...s.compression, status: 'idle', progress: null, startedAt: null } }));
      return;
    }
    set((s) => ({ compression: { ...s.compression, status: 'running', error: null, progress: null, startedAt: performance.now() } }));
    // Static int8: the teacher runs on calibration data in the evaluation worker first. GPTQ: the same run also
    // streams each layer's inputs into its Hessian; channel pruning's refit and SparseGPT take the same Hessians.
    const { calibrate, isStatic, hessians, refit, sparse, count } = calibrationNeeds(recipe);
    await jobs.run(
      COMPRESS_JOB,
      async (signal) => {
        const onProgress = (done: number, total: number) => {
          if (!signal.aborted) set((s) => ({ compression: { ...s.compression, progress: { done, total } } }));
        };
        let calibration: CalibrationOutcome | undefined;
        if (calibrate) {
          const names = isStatic && recipe.quantize ? await modelWorker.staticNames(recipe.quantize, signal) : [];
          const key = JSON.stringify([count, names, hessians]);
          const data = get().evalData.summary;
          const cached = calibrationCache.get(key);
          if (cached && cached.data === data && data !== null) calibration = cached.outcome;
          else {
            calibration = await get().calibrate(names, count, onProgress, hessians, signal);
            calibrationCache.set(key, { data: get().evalData.summary, outcome: calibration });
          }
        }
        const result = await modelWorker.compress(
          recipe,
          get().backendPreference,
          onProgress,
          workerCalibration(calibration),
          { dataFileName: externalDataFileName(compressedFileName(get().fileName ?? 'model.onnx', recipe)), separate: get().separateWeights },
          signal,
        );
        if (calibration && result.quantize) {
          result.quantize.warnings.unshift(
            calibration.synthetic
              ? `Calibrated on ${calibration.samples} synthetic inputs (${calibration.dataset}): ${isStatic ? 'activation ranges' : 'layer-input statistics'} from random inputs can be far from real data's; choose real data in the Evaluation lab.`
              : `${isStatic ? 'Activations calibrated' : 'GPTQ calibrated'} on ${calibration.samples} samples of ${calibration.dataset} in onnxruntime-web.`,
          );
        } else if (calibration && sparse && result.prune) {
          result.prune.warnings.unshift(
            calibration.synthetic
              ? `SparseGPT calibrated on ${calibration.samples} synthetic inputs (${calibration.dataset}): layer-input statistics from random inputs can be far from real data's; choose real data in the Evaluation lab.`
              : `SparseGPT calibrated on ${calibration.samples} samples of ${calibration.dataset} in onnxruntime-web.`,
          );
        }
        if (calibration && refit && result.prune)
          result.prune.warnings.unshift(
            `Layers after the removed channels refit by least squares on ${calibration.samples} ${calibration.synthetic ? 'synthetic inputs' : 'samples'} of ${calibration.dataset}.`,
          );
        return result;
      },
      {
        done: (result) => {
          const { changedAt } = get().compression;
          set({
            compression: {
              status: 'ready',
              result,
              error: null,
              progress: null,
              startedAt: null,
              changedAt: null,
              latencyMs: changedAt === null ? null : performance.now() - changedAt,
            },
          });
        },
        failed: (err) => set((s) => ({ compression: { ...s.compression, status: 'error', error: messageOf(err), progress: null, startedAt: null } })),
        // Cancel, or the evaluation worker gave the calibration up for another job.
        cancelled: () => set((s) => ({ compression: { ...s.compression, status: 'cancelled', progress: null, startedAt: null } })),
      },
    );
  }

  /** A control changed: note when, and compress after the debounce (sliders, typing) or at once (clicks). */
  function changed(debounce: boolean): void {
    if (!get().liveCompress) return;
    set((s) => ({
      compression: {
        ...s.compression,
        changedAt: s.compression.changedAt ?? performance.now(),
        status: s.compression.status === 'running' ? 'running' : 'waiting',
      },
    }));
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => void run(), debounce ? DEBOUNCE_MS : 0);
  }

  /** Runs a draft edit and records it as an undo step (coalesced by `key` within a short window). */
  function edit(key: string | null, apply: () => void): void {
    const before = draftOf(get());
    apply();
    const after = draftOf(get());
    set((s) => ({ recipeHistory: recordEdit(s.recipeHistory, before, after, key, performance.now()) }));
  }

  /** Replaces the whole draft (undo, redo, a preset, a link) and recompresses. */
  function replaceDraft(draft: RecipeDraft): void {
    set((s) => ({
      ...draft,
      resultsTab: draft.quantizeOn && draft.pruneOn ? s.resultsTab : draft.quantizeOn ? 'quantize' : draft.pruneOn ? 'prune' : s.resultsTab,
    }));
    changed(false);
  }

  function editRules(step: Step, rules: (rules: { exclude: string[]; excludeOps: string[] }) => Partial<{ exclude: string[]; excludeOps: string[] }>) {
    edit(null, () => {
      if (step === 'quantize') set((s) => ({ quantize: { ...s.quantize, ...rules(s.quantize) } }));
      else set((s) => ({ prune: { ...s.prune, ...rules(s.prune) } }));
    });
    if (step === 'quantize' ? get().quantizeOn : get().pruneOn) changed(false);
  }

  async function preview(tensorId: number, recipe: QuantizeRecipe, key: string): Promise<void> {
    const hit = previewCache.get(key);
    if (hit) {
      jobs.supersede(PREVIEW_JOB);
      set({ quantPreview: { key, tensorId, result: hit, loading: false, error: null } });
      return;
    }
    set((s) => ({ quantPreview: { key, tensorId, result: s.quantPreview.tensorId === tensorId ? s.quantPreview.result : null, loading: true, error: null } }));
    await jobs.run(PREVIEW_JOB, (signal) => modelWorker.layerPreview(tensorId, recipe, PREVIEW_BINS, get().backendPreference, signal), {
      done: (result) => {
        previewCache.set(key, result);
        set({ quantPreview: { key, tensorId, result, loading: false, error: null } });
      },
      failed: (err) => set({ quantPreview: { key, tensorId, result: null, loading: false, error: messageOf(err) } }),
      cancelled: () => set((s) => ({ quantPreview: { ...s.quantPreview, loading: false } })),
    });
  }

  return {
    pruneOn: false,
    quantizeOn: true,
    prune: DEFAULT_PRUNE,
    quantize: DEFAULT_QUANTIZE,
    compression: IDLE_JOB,
    quantPreview: IDLE_PREVIEW,
    resultsTab: 'quantize',
    recipeError: null,
    separateWeights: false,
    recipeHistory: EMPTY_HISTORY,
    urlRecipeError: null,
    liveCompress: false,
    pinned: null,
    pinnedMeasured: null,
    downloadError: null,

    setSeparateWeights: (on) => {
      set({ separateWeights: on });
      changed(false);
    },
    setQuantize: (patch, { debounce = false } = {}) => {
      edit(debounce ? `quantize:${Object.keys(patch).sort().join(',')}` : null, () => set((s) => ({ quantize: { ...s.quantize, ...patch } })));
      if (get().quantizeOn) changed(debounce);
    },
    setPrune: (patch, { debounce = false } = {}) => {
      edit(debounce ? `prune:${Object.keys(patch).sort().join(',')}` : null, () => set((s) => ({ prune: { ...s.prune, ...patch } })));
      if (get().pruneOn) changed(debounce);
    },
    setStepOn: (step, on) => {
      edit(null, () => (step === 'quantize' ? set({ quantizeOn: on }) : set({ pruneOn: on })));
      const s = get();
      // Show the table of a step just switched on, or of the one still on.
      if (on) set({ resultsTab: step });
      else if (s.resultsTab === step) set({ resultsTab: step === 'prune' ? 'quantize' : 'prune' });
      changed(false);
    },
    toggleExcludedName: (step, name) => editRules(step, (r) => ({ exclude: toggled(r.exclude, exactGlob(name)) })),
    setExcludedOp: (step, op, excluded) =>
      editRules(step, (r) => ({ excludeOps: excluded ? [...new Set([...r.excludeOps, op])] : r.excludeOps.filter((o) => o !== op) })),
    addExcludePattern: (step, glob) => {
      const g = glob.trim();
      if (!g) return;
      editRules(step, (r) => ({ exclude: r.exclude.includes(g) ? r.exclude : [...r.exclude, g] }));
    },
    removeExcludePattern: (step, glob) => editRules(step, (r) => ({ exclude: r.exclude.filter((x) => x !== glob) })),
    setOwnOverride: (step, name, value) => {
      edit(null, () => {
        if (step === 'quantize') set((s) => ({ quantize: { ...s.quantize, overrides: withOwnOverride(s.quantize.overrides, name, 'bits', value) } }));
        else set((s) => ({ prune: { ...s.prune, overrides: withOwnOverride(s.prune.overrides, name, 'sparsity', value) } }));
      });
      changed(false);
    },
    setResultsTab: (resultsTab) => set({ resultsTab }),

    loadRecipeText: (text, fileName) => {
      let recipe: Recipe;
      try {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new Error(`it is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
        }
        recipe = validateRecipe(json);
        if (!hasSteps(recipe)) throw new Error('it has neither a "prune" nor a "quantize" section, so it asks for nothing');
      } catch (err) {
        set({ recipeError: `${fileName} was not loaded: ${err instanceof Error ? err.message : String(err)}. Your settings are unchanged.` });
        return false;
      }
      edit(null, () =>
        set((s) => ({
          recipeError: null,
          pruneOn: recipe.prune !== undefined,
          quantizeOn: recipe.quantize !== undefined,
          prune: recipe.prune ?? s.prune,
          quantize: recipe.quantize ?? s.quantize,
          resultsTab: recipe.quantize ? 'quantize' : 'prune',
        })),
      );
      changed(false);
      return true;
    },
    dismissRecipeError: () => set({ recipeError: null }),

    applyPreset: (id) => {
      const preset = presetById(id);
      if (!preset) return;
      const r = preset.recipe;
      edit(null, () =>
        replaceDraft({
          pruneOn: r.prune !== undefined,
          quantizeOn: r.quantize !== undefined,
          prune: r.prune ?? get().prune,
          quantize: r.quantize ?? get().quantize,
        }),
      );
    },
    undoRecipe: () => {
      const step = undoStep(get().recipeHistory, draftOf(get()));
      if (!step) return;
      set({ recipeHistory: step.history });
      replaceDraft(step.draft);
    },
    redoRecipe: () => {
      const step = redoStep(get().recipeHistory, draftOf(get()));
      if (!step) return;
      set({ recipeHistory: step.history });
      replaceDraft(step.draft);
    },
    applyHashRecipe: (hash, { undoable = false } = {}) => {
      const read = readRecipeHash(hash);
      if (read.kind === 'none') return;
      const draft: RecipeDraft = read.kind === 'ok' ? read.draft : { pruneOn: false, quantizeOn: true, prune: DEFAULT_PRUNE, quantize: DEFAULT_QUANTIZE };
      set({ urlRecipeError: read.kind === 'error' ? read.message : null });
      if (undoable) edit(null, () => replaceDraft(draft));
      else replaceDraft(draft);
    },
    dismissUrlRecipeError: () => set({ urlRecipeError: null }),
    pinResult: () => {
      const result = get().compression.result;
      if (result) set({ pinned: result, pinnedMeasured: measuredFor(result.recipe, get().evaluation, get().sweep.points) ?? null });
    },
    unpinResult: () => set({ pinned: null, pinnedMeasured: null }),

    compressNow: () => {
      set((s) => ({ liveCompress: true, compression: { ...s.compression, changedAt: s.compression.changedAt ?? performance.now() } }));
      void run();
    },
    cancelCompression: () => {
      clearTimeout(debounceTimer);
      // After a Cancel, moving a control must not restart the long run: the next Compress does.
      set((s) => ({ liveCompress: false, compression: { ...s.compression, status: 'cancelled', progress: null, startedAt: null, changedAt: null } }));
      // Aborts the compression in the model worker, or its calibration in the evaluation worker.
      jobs.abort(COMPRESS_JOB);
    },
    resetCompression: (autoRun) => {
      clearTimeout(debounceTimer);
      calibrationCache.clear();
      jobs.supersede(COMPRESS_JOB, PREVIEW_JOB);
      previewCache.clear();
      set({ compression: IDLE_JOB, quantPreview: IDLE_PREVIEW, pinned: null, pinnedMeasured: null, liveCompress: false });
      if (autoRun) get().compressNow();
    },
    downloadModel: async ({ gzip = false } = {}) => {
      const { compression, fileName } = get();
      const result = compression.result;
      if (!result || !fileName) return;
      set({ downloadError: null });
      try {
        const bytes = gzip ? await modelWorker.downloadGzip(result.requestId) : await modelWorker.downloadBytes(result.requestId);
        if (!bytes) throw new Error('the result is no longer held; compress again');
        const name = compressedFileName(fileName, result.recipe);
        saveFile(new Blob([bytes as BlobPart], { type: gzip ? 'application/gzip' : 'application/octet-stream' }), gzip ? `${name}.gz` : name);
      } catch (err) {
        set({ downloadError: `The download failed: ${messageOf(err)}` });
      }
    },
    downloadWeightsFile: async () => {
      const result = get().compression.result;
      if (!result?.externalData) return;
      set({ downloadError: null });
      try {
        const data = await modelWorker.downloadData(result.requestId);
        if (!data) throw new Error('the result is no longer held; compress again');
        saveFile(data.blob, data.name);
      } catch (err) {
        set({ downloadError: `The download failed: ${messageOf(err)}` });
      }
    },
    downloadRecipe: () => {
      const recipe = recipeOf(draftOf(get()));
      saveFile(new Blob([JSON.stringify(recipe, null, 2) + '\n'], { type: 'application/json' }), recipeFileName(get().fileName ?? 'model.onnx'));
    },

    requestQuantPreview: (tensorId, recipe) => {
      const s = get();
      if (tensorId === null || !recipe) {
        jobs.supersede(PREVIEW_JOB);
        if (s.quantPreview.key !== null) set({ quantPreview: IDLE_PREVIEW });
        return;
      }
      const key = `${tensorId}|${s.backendPreference}|${JSON.stringify(recipe)}`;
      if (key === s.quantPreview.key && (s.quantPreview.result || s.quantPreview.loading)) return;
      void preview(tensorId, recipe, key);
    },
  };
};

/** True when the shown result answers the current recipe (not an older one). */
export function resultIsCurrent(s: Pick<StudioState, 'compression' | keyof RecipeDraft>): boolean {
  const r = s.compression.result;
  return r !== null && recipeKey(r.recipe) === recipeKey(recipeOf(draftOf(s)));
}

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return message.trim() || 'The compression failed for an unknown reason.';
}
