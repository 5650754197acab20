/**
 * The evaluation lab's state: evaluation data, one side-by-side evaluation of the current recipe, per-layer
 * sensitivity with its mixed-precision plan, and the trade-off sweep. Orchestration only — compression runs in
 * the model worker, inference in the evaluation worker; buffers move between them by transfer.
 */
import type { StateCreator } from 'zustand';
import type { CandidateMeasure } from '../core/eval/candidate';
import type { EvalProgress, EvaluationReport } from '../core/eval/evaluate';
import type { OutputTask } from '../core/eval/metrics';
import { measureSensitivity, planMixedPrecision, type LayerSensitivity, type MixedPlan, type MixedTarget } from '../core/eval/sensitivity';
import {
  gridCandidates,
  markFrontier,
  PRESETS,
  runSweep,
  sweepCsv,
  type SweepCandidate,
  type SweepGrid,
  type SweepPoint,
  type SweepProgress,
} from '../core/eval/sweep';
import type { FloatDistribution } from '../core/eval/synthetic';
import type { EvalBackend } from '../core/eval/types';
import type { ImagePrep } from '../core/eval/data/image';
import { DEFAULT_CALIBRATION_SAMPLES, type Recipe } from '../core/recipe';
import { modelWorker } from './bridge';
import { evalWorker, type CalibrationOutcome, type DatasetSummary, type EvalEnvironment } from './evalBridge';
import { hasSteps, recipeOf } from './recipeEdits';
import { draftOf } from './compressSlice';
import { saveFile } from './saveFile';
import { latestEvery } from './throttle';
import { labCalibration, type LabCalibration } from './labCalibration';
import type { StudioState } from './store';

export type DataSource = 'demo' | 'synthetic' | 'files';
export type LabJobStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface SyntheticSettings {
  count: number;
  /** Values for the model's dynamic dimensions, by name. */
  dims: Record<string, number>;
  floats: FloatDistribution;
}

export interface DataState {
  source: DataSource;
  status: 'idle' | 'loading' | 'ready' | 'error';
  summary: DatasetSummary | null;
  error: string | null;
  synthetic: SyntheticSettings;
  /** Image preprocessing overrides for folders of images. */
  image: Partial<ImagePrep>;
  /** The files last chosen, kept so changing the preprocessing can reload them. */
  fileCount: number;
}

export interface EvalSettings {
  backends: EvalBackend[];
  /** onnxruntime-web's wasm threads; undefined: the runtime's default for this machine (half the cores, 1–4). */
  threads?: number;
  /** Samples used for fidelity and accuracy (at most the data's). */
  samples: number;
  /** Timed runs per model and backend. */
  runs: number;
  /** Task per output name, set by hand; the rest are inferred. */
  tasks: Record<string, OutputTask>;
  maskThreshold: number;
}

export interface EvaluationState {
  status: LabJobStatus;
  progress: EvalProgress | null;
  report: (EvaluationReport & { wasmHeapBytes: number }) | null;
  /** The recipe the report measured. */
  recipe: Recipe | null;
  error: string | null;
}

export interface SensitivityState {
  status: LabJobStatus;
  progress: { done: number; total: number; layer?: string } | null;
  layers: LayerSensitivity[] | null;
  recipe: Recipe | null;
  originalBytes: number;
  error: string | null;
  plan: MixedPlan | null;
  /** The plan's recipe compressed and measured. */
  planMeasure: CandidateMeasure | null;
  planStatus: 'idle' | 'running' | 'done' | 'error';
  planError: string | null;
}

export interface SweepSettings {
  bits: number[];
  sparsities: number[];
  granularities: SweepGrid['granularities'];
  pattern: NonNullable<SweepGrid['pattern']>;
  /** Preset labels (see PRESETS) measured as well. */
  presets: string[];
  /** Samples per point (fewer than a full evaluation, so a sweep stays quick). */
  samples: number;
  runs: number;
  backend: EvalBackend;
}

export interface SweepState {
  status: LabJobStatus;
  progress: SweepProgress | null;
  points: SweepPoint[];
  error: string | null;
  /** Up to two point ids chosen for comparison. */
  selected: number[];
  /** The point whose recipe was last applied to the Compress panel. */
  applied: number | null;
}

export interface EvalSlice {
  evalEnv: EvalEnvironment | null;
  evalData: DataState;
  evalSettings: EvalSettings;
  evaluation: EvaluationState;
  sensitivity: SensitivityState;
  sweepSettings: SweepSettings;
  sweep: SweepState;

  resetEvaluationLab(isDemo: boolean): void;
  loadEvalEnvironment(): Promise<void>;
  /** Restarts onnxruntime-web with another wasm thread count (undefined: the default); the model and data are sent again. */
  setWasmThreads(threads: number | undefined): Promise<void>;
  chooseDemoData(): Promise<void>;
  chooseSyntheticData(patch?: Partial<SyntheticSettings>): Promise<void>;
  chooseFileData(files: { file: File; path: string }[]): Promise<void>;
  setImagePrep(patch: Partial<ImagePrep>): void;
  setEvalSettings(patch: Partial<EvalSettings>): void;
  runEvaluation(): Promise<void>;
  runSensitivity(): Promise<void>;
  planMixed(target: MixedTarget): Promise<void>;
  setSweepSettings(patch: Partial<SweepSettings>): void;
  sweepCandidates(): SweepCandidate[];
  runSweep(): Promise<void>;
  toggleSweepPoint(id: number): void;
  applyRecipe(recipe: Recipe, pointId?: number): void;
  exportSweep(format: 'csv' | 'json'): void;
  /** Stops whichever lab job runs (evaluation, sensitivity, sweep). */
  cancelLabJob(): void;
  /**
   * Static int8's calibration: the original model run in the evaluation worker (onnxruntime-web) on the first
   * `count` samples of the lab's data (the demo digits or synthetic inputs unless others were chosen). Null when
   * cancelled (`cancelLabJob`).
   */
  calibrate(names: string[], count: number, onProgress: (done: number, total: number) => void, gptq?: boolean): Promise<CalibrationOutcome | null>;
}

const IDLE_EVALUATION: EvaluationState = { status: 'idle', progress: null, report: null, recipe: null, error: null };
const IDLE_SENSITIVITY: SensitivityState = {
  status: 'idle',
  progress: null,
  layers: null,
  recipe: null,
  originalBytes: 0,
  error: null,
  plan: null,
  planMeasure: null,
  planStatus: 'idle',
  planError: null,
};
const IDLE_SWEEP: SweepState = { status: 'idle', progress: null, points: [], error: null, selected: [], applied: null };
const DEFAULT_SYNTHETIC: SyntheticSettings = { count: 32, dims: {}, floats: 'normal' };

export const DEFAULT_SWEEP: SweepSettings = {
  bits: [8, 4],
  sparsities: [0, 0.5],
  granularities: ['channel'],
  pattern: 'unstructured',
  presets: [],
  samples: 200,
  runs: 10,
  backend: 'wasm',
};

/** Which model the evaluation worker holds (a counter bumped at each model load). */
let modelGeneration = 0;
let originalSentFor = -1;
/** The lab job in flight; Cancel aborts it. Only one runs at a time (they share the worker). */
let labJob: AbortController | undefined;
let dataTicket = 0;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
const isAbort = (err: unknown) => (err instanceof Error || err instanceof DOMException) && err.name === 'AbortError';

function demoDataUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}demo/mnist-test.json`, globalThis.location?.href ?? 'http://localhost/').href;
}

export const createEvalSlice: StateCreator<StudioState, [], [], EvalSlice> = (set, get) => {
  async function ensureOriginal(): Promise<void> {
    if (originalSentFor === modelGeneration) return;
    const generation = modelGeneration;
    const files = await modelWorker.originalFiles();
    await evalWorker.setOriginal(files, get().fileName ?? 'model.onnx');
    originalSentFor = generation;
  }

  function currentRecipe(): Recipe {
    const recipe = recipeOf(draftOf(get()));
    if (!hasSteps(recipe)) throw new Error('Switch on quantization or pruning in the Compress panel: there is nothing to evaluate yet.');
    return recipe;
  }

  function startJob(): AbortController {
    labJob?.abort();
    const controller = new AbortController();
    labJob = controller;
    return controller;
  }

  /** Compression (model worker) and measurement (evaluation worker) for sweeps and sensitivity. */
  function measurementDeps(signal: AbortSignal, calibration?: LabCalibration) {
    const preference = get().backendPreference;
    return {
      compress: (recipe: Recipe) => modelWorker.compressForEval(recipe, preference, calibration),
      measure: async (bytes: Uint8Array, runs?: number) => {
        const m = await evalWorker.measureCandidate(bytes, runs);
        if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
        return m;
      },
    };
  }

  /** Teacher-guided recipes (GPTQ, SparseGPT, static int8, refit): one calibration for every point (labCalibration.ts). */
  function calibrateLab(recipes: Recipe[]): Promise<LabCalibration | null | undefined> {
    return labCalibration(
      recipes,
      (q) => modelWorker.staticNames(q),
      (names, count, hessians) => evalWorker.calibrate(names, count, () => undefined, hessians),
    );
  }
  /** The calibration of the last sensitivity run (its mixed-precision plans are compressed with it). */
  let sensitivityCalibration: LabCalibration | undefined;

  async function loadData(source: DataSource, load: () => Promise<DatasetSummary>): Promise<void> {
    const ticket = ++dataTicket;
    set((s) => ({ evalData: { ...s.evalData, source, status: 'loading', error: null } }));
    try {
      const summary = await load();
      if (ticket !== dataTicket) return;
      set((s) => ({
        evalData: { ...s.evalData, source, status: 'ready', summary, error: null },
        evalSettings: { ...s.evalSettings, samples: Math.min(s.evalSettings.samples, summary.samples) || summary.samples },
      }));
    } catch (err) {
      if (ticket !== dataTicket) return;
      set((s) => ({ evalData: { ...s.evalData, status: 'error', error: messageOf(err) } }));
    }
  }

  async function ensureData(): Promise<void> {
    const d = get().evalData;
    if (d.status === 'ready') return;
    if (d.status === 'error') throw new Error(`The evaluation data could not be loaded: ${d.error}`);
    if (d.source === 'demo') await get().chooseDemoData();
    else await get().chooseSyntheticData();
    const after = get().evalData;
    if (after.status !== 'ready') throw new Error(after.error ?? 'Choose evaluation data first.');
  }

  let lastFiles: { file: File; path: string }[] = [];

  return {
    evalEnv: null,
    evalData: { source: 'demo', status: 'idle', summary: null, error: null, synthetic: DEFAULT_SYNTHETIC, image: {}, fileCount: 0 },
    evalSettings: { backends: ['wasm'], samples: 500, runs: 20, tasks: {}, maskThreshold: 0.5 },
    evaluation: IDLE_EVALUATION,
    sensitivity: IDLE_SENSITIVITY,
    sweepSettings: DEFAULT_SWEEP,
    sweep: IDLE_SWEEP,

    resetEvaluationLab: (isDemo) => {
      labJob?.abort();
      modelGeneration++;
      dataTicket++;
      lastFiles = [];
      set((s) => ({
        evalData: { source: isDemo ? 'demo' : 'synthetic', status: 'idle', summary: null, error: null, synthetic: DEFAULT_SYNTHETIC, image: {}, fileCount: 0 },
        evalSettings: { ...s.evalSettings, samples: 500, tasks: {} },
        evaluation: IDLE_EVALUATION,
        sensitivity: IDLE_SENSITIVITY,
        sweep: IDLE_SWEEP,
      }));
    },

    loadEvalEnvironment: async () => {
      if (get().evalEnv) return;
      try {
        const env = await evalWorker.environment(get().evalSettings.threads);
        // WebGPU is ticked by default on a real GPU; a software fallback (SwiftShader) is offered but slow.
        set((s) => ({
          evalEnv: env,
          evalSettings: { ...s.evalSettings, backends: env.webgpu.available && !env.webgpu.isFallbackAdapter ? ['wasm', 'webgpu'] : ['wasm'] },
        }));
      } catch (err) {
        set({
          evalEnv: {
            runtime: `onnxruntime-web did not start: ${messageOf(err)}`,
            crossOriginIsolated: false,
            cores: 0,
            threads: 0,
            webgpu: { available: false, reason: messageOf(err) },
          },
        });
      }
    },

    setWasmThreads: async (threads) => {
      labJob?.abort();
      evalWorker.restart();
      // The fresh worker holds neither the original model nor the data: both are sent again on the next job.
      originalSentFor = -1;
      const { source } = get().evalData;
      const { backends } = get().evalSettings;
      set((s) => ({
        evalEnv: null,
        evalSettings: { ...s.evalSettings, threads },
        evalData: { ...s.evalData, status: 'idle', summary: source === 'files' ? s.evalData.summary : null },
      }));
      await get().loadEvalEnvironment();
      const gpu = !!get().evalEnv?.webgpu.available;
      set((s) => ({ evalSettings: { ...s.evalSettings, backends: backends.filter((b) => b !== 'webgpu' || gpu) } }));
      if (source === 'files' && lastFiles.length) await get().chooseFileData(lastFiles);
      else await ensureData().catch(() => undefined);
    },

    chooseDemoData: () => {
      const inputs = get().summary?.inputs ?? [];
      return loadData('demo', () => evalWorker.loadDemoData(demoDataUrl(), inputs));
    },

    chooseSyntheticData: (patch = {}) => {
      const synthetic = { ...get().evalData.synthetic, ...patch };
      set((s) => ({ evalData: { ...s.evalData, synthetic } }));
      const inputs = get().summary?.inputs ?? [];
      return loadData('synthetic', () =>
        evalWorker.loadSyntheticData(inputs, { count: synthetic.count, dims: synthetic.dims, floats: synthetic.floats, seed: 1 }),
      );
    },

    chooseFileData: (files) => {
      lastFiles = files;
      set((s) => ({ evalData: { ...s.evalData, fileCount: files.length } }));
      const inputs = get().summary?.inputs ?? [];
      return loadData('files', () => evalWorker.loadFileData(files, inputs, { image: get().evalData.image }));
    },

    setImagePrep: (patch) => {
      set((s) => ({ evalData: { ...s.evalData, image: { ...s.evalData.image, ...patch } } }));
      if (get().evalData.source === 'files' && lastFiles.length) void get().chooseFileData(lastFiles);
    },

    setEvalSettings: (patch) => set((s) => ({ evalSettings: { ...s.evalSettings, ...patch } })),

    runEvaluation: async () => {
      const controller = startJob();
      set({ evaluation: { ...IDLE_EVALUATION, status: 'running', report: get().evaluation.report } });
      try {
        const recipe = currentRecipe();
        await Promise.all([ensureOriginal(), ensureData(), get().loadEvalEnvironment()]);
        // Static int8 calibrates first (the first N samples), then is evaluated on the others.
        // GPTQ and SparseGPT (pruning) calibrate too: the Hessians of the layer inputs.
        const isGptq = recipe.quantize?.gptq?.enabled === true || (recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel');
        const isStatic = recipe.quantize?.format === 'static' || isGptq;
        let calibration: CalibrationOutcome | null | undefined;
        if (isStatic) {
          const names = recipe.quantize?.format === 'static' ? await modelWorker.staticNames(recipe.quantize) : [];
          const count = recipe.quantize?.calibrationSamples ?? recipe.prune?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES;
          calibration = await evalWorker.calibrate(names, count, () => undefined, isGptq);
          if (calibration === null || controller.signal.aborted) {
            if (labJob === controller) set((s) => ({ evaluation: { ...s.evaluation, status: 'cancelled', progress: null } }));
            return;
          }
        }
        const candidate = await modelWorker.compressForEval(
          recipe,
          get().backendPreference,
          calibration ? { stats: calibration.stats, samples: calibration.samples, ...(calibration.gptq ? { gptq: calibration.gptq } : {}) } : undefined,
        );
        if (controller.signal.aborted) return;
        const { backends, samples, runs, tasks, maskThreshold } = get().evalSettings;
        const progress = latestEvery<EvalProgress>(100, (p) => {
          if (labJob === controller) set((s) => ({ evaluation: { ...s.evaluation, progress: p } }));
        });
        const report = await evalWorker
          .evaluate(candidate, { backends, samples, runs, tasks, maskThreshold, heldOut: isStatic }, (p) => progress.push(p))
          .finally(() => progress.cancel());
        if (labJob !== controller) return;
        if (!report) set((s) => ({ evaluation: { ...s.evaluation, status: 'cancelled', progress: null } }));
        else set({ evaluation: { status: 'done', progress: null, report, recipe, error: null } });
      } catch (err) {
        if (labJob !== controller) return;
        set((s) => ({
          evaluation: { ...s.evaluation, status: isAbort(err) ? 'cancelled' : 'error', progress: null, error: isAbort(err) ? null : messageOf(err) },
        }));
      } finally {
        if (labJob === controller) labJob = undefined;
      }
    },

    runSensitivity: async () => {
      const controller = startJob();
      set({ sensitivity: { ...IDLE_SENSITIVITY, status: 'running' } });
      try {
        const recipe = currentRecipe();
        await Promise.all([ensureOriginal(), ensureData()]);
        const layers = await modelWorker.sensitivityLayers(recipe);
        if (layers.length === 0) throw new Error('The current settings change no layer: nothing to rank.');
        const samples = Math.min(get().evalSettings.samples, 200);
        const calibration = await calibrateLab([recipe]);
        if (calibration === null || controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        sensitivityCalibration = calibration;
        const prepared = await evalWorker.prepareCandidates(
          {
            backend: 'wasm',
            samples,
            runs: 0,
            tasks: get().evalSettings.tasks,
            maskThreshold: get().evalSettings.maskThreshold,
          },
          !!calibration,
        );
        const deps = measurementDeps(controller.signal, calibration);
        const ranked = await measureSensitivity(
          recipe,
          layers,
          { compress: deps.compress, measure: (b) => deps.measure(b, 0), originalBytes: prepared.originalBytes },
          {
            signal: controller.signal,
            onProgress: (done, total, layer) => {
              if (labJob === controller) set((s) => ({ sensitivity: { ...s.sensitivity, progress: { done, total, layer } } }));
            },
          },
        );
        if (labJob !== controller) return;
        set({ sensitivity: { ...IDLE_SENSITIVITY, status: 'done', layers: ranked, recipe, originalBytes: prepared.originalBytes } });
      } catch (err) {
        if (labJob !== controller) return;
        set((s) => ({
          sensitivity: { ...s.sensitivity, status: isAbort(err) ? 'cancelled' : 'error', progress: null, error: isAbort(err) ? null : messageOf(err) },
        }));
      } finally {
        if (labJob === controller) labJob = undefined;
      }
    },

    planMixed: async (target) => {
      const { layers, recipe, originalBytes } = get().sensitivity;
      if (!layers || !recipe) return;
      const plan = planMixedPrecision(recipe, layers, originalBytes, target);
      set((s) => ({ sensitivity: { ...s.sensitivity, plan, planMeasure: null, planStatus: 'running', planError: null } }));
      try {
        const bytes = await modelWorker.compressForEval(plan.recipe, get().backendPreference, sensitivityCalibration);
        const m = await evalWorker.measureCandidate(bytes, 0);
        if (get().sensitivity.plan !== plan) return;
        set((s) => ({ sensitivity: { ...s.sensitivity, planMeasure: m, planStatus: 'done' } }));
      } catch (err) {
        if (get().sensitivity.plan !== plan) return;
        set((s) => ({ sensitivity: { ...s.sensitivity, planStatus: 'error', planError: messageOf(err) } }));
      }
    },

    setSweepSettings: (patch) => set((s) => ({ sweepSettings: { ...s.sweepSettings, ...patch } })),

    sweepCandidates: () => {
      const st = get().sweepSettings;
      const base = recipeOf(draftOf(get()));
      const grid = gridCandidates({ bits: st.bits, sparsities: st.sparsities, granularities: st.granularities, pattern: st.pattern }, base);
      return [...grid, ...PRESETS.filter((p) => st.presets.includes(p.label))];
    },

    runSweep: async () => {
      const controller = startJob();
      const candidates = get().sweepCandidates();
      set({ sweep: { ...IDLE_SWEEP, status: 'running', progress: { done: 0, total: candidates.length + 1 } } });
      try {
        if (candidates.length === 0) throw new Error('The grid is empty: choose at least one bit width or sparsity.');
        await Promise.all([ensureOriginal(), ensureData()]);
        const st = get().sweepSettings;
        const calibration = await calibrateLab(candidates.map((c) => c.recipe));
        if (calibration === null || controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        const prepared = await evalWorker.prepareCandidates(
          {
            backend: st.backend,
            samples: st.samples,
            runs: st.runs,
            tasks: get().evalSettings.tasks,
            maskThreshold: get().evalSettings.maskThreshold,
          },
          !!calibration,
        );
        const deps = measurementDeps(controller.signal, calibration);
        const points = await runSweep(
          candidates,
          {
            compress: deps.compress,
            measure: (b) => deps.measure(b),
            original: async () => ({ sizeBytes: prepared.originalBytes, latency: await evalWorker.originalLatency(), accuracy: prepared.originalAccuracy }),
          },
          {
            signal: controller.signal,
            onProgress: (progress) => {
              if (labJob !== controller) return;
              set((s) => ({ sweep: { ...s.sweep, progress, points: progress.point ? markFrontier([...s.sweep.points, progress.point]) : s.sweep.points } }));
            },
          },
        );
        if (labJob !== controller) return;
        set((s) => ({ sweep: { ...s.sweep, status: 'done', progress: null, points } }));
      } catch (err) {
        if (labJob !== controller) return;
        // Points measured before a cancel are kept.
        set((s) => ({ sweep: { ...s.sweep, status: isAbort(err) ? 'cancelled' : 'error', progress: null, error: isAbort(err) ? null : messageOf(err) } }));
      } finally {
        if (labJob === controller) labJob = undefined;
      }
    },

    toggleSweepPoint: (id) =>
      set((s) => {
        const on = s.sweep.selected.includes(id);
        const selected = on ? s.sweep.selected.filter((x) => x !== id) : [...s.sweep.selected, id].slice(-2);
        return { sweep: { ...s.sweep, selected } };
      }),

    applyRecipe: (recipe, pointId) => {
      if (!hasSteps(recipe)) {
        // The original point: switch both steps off.
        set({ pruneOn: false, quantizeOn: false });
      } else get().loadRecipeText(JSON.stringify(recipe), 'the chosen point');
      if (pointId !== undefined) set((s) => ({ sweep: { ...s.sweep, applied: pointId } }));
    },

    exportSweep: (format) => {
      const points = get().sweep.points;
      if (points.length === 0) return;
      const stem = (get().fileName ?? 'model.onnx').replace(/\.onnx$/i, '');
      if (format === 'csv') saveFile(new Blob([sweepCsv(points)], { type: 'text/csv' }), `${stem}.sweep.csv`);
      else
        saveFile(
          new Blob([JSON.stringify({ model: get().fileName, dataset: get().evalData.summary, points }, null, 2) + '\n'], { type: 'application/json' }),
          `${stem}.sweep.json`,
        );
    },

    cancelLabJob: () => {
      labJob?.abort();
      void evalWorker.cancel().catch(() => undefined);
    },

    calibrate: async (names, count, onProgress, gptq = false) => {
      await Promise.all([ensureOriginal(), ensureData()]);
      return evalWorker.calibrate(names, count, onProgress, gptq);
    },
  };
};
