/**
 * The evaluation lab's state: evaluation data, one side-by-side evaluation of the current recipe, per-layer
 * sensitivity with its mixed-precision plan, and the trade-off sweep. State only: the orchestration (candidates,
 * calibration, sweeps, sensitivity) is src/lab/service; each action runs it as a job (src/state/jobs), so a newer
 * request or Cancel aborts the one running and its result never lands.
 */
import type { StateCreator } from 'zustand';
import type { CandidateMeasure } from '../core/eval/candidate';
import type { EvalProgress, EvaluationReport } from '../core/eval/evaluate';
import type { OutputTask } from '../core/eval/metrics';
import { planMixedPrecision, type LayerSensitivity, type MixedPlan, type MixedTarget } from '../core/eval/sensitivity';
import {
  gridCandidates,
  markFrontier,
  PRESETS,
  sweepCsv,
  withTeacherMethods,
  type SweepCandidate,
  type SweepGrid,
  type SweepPoint,
  type SweepProgress,
} from '../core/eval/sweep';
import type { FloatDistribution } from '../core/eval/synthetic';
import type { EvalBackend } from '../core/eval/types';
import type { ImagePrep } from '../core/eval/data/image';
import type { Recipe } from '../core/recipe';
import type { Calibrate } from '../lab/service';
import { bindLabStore, studioLab as lab } from '../lab/studio';
import type { DatasetSummary, EvalEnvironment } from '../protocol/eval';
import { evalWorker } from './evalBridge';
import { jobs } from './jobs';
import { hasSteps, recipeOf } from './recipeEdits';
import { draftOf } from './compressSlice';
import { saveFile } from './saveFile';
import { latestEvery } from './throttle';
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
  /** A fresh evaluation worker (the old one stalled): same thread count; the model and data are sent again. */
  restartEvaluation(): Promise<void>;
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
  /** Loads the lab's data (the demo digits or synthetic inputs unless others were chosen) unless it is ready. */
  ensureEvalData(): Promise<void>;
  /** The Compress panel's calibration, through the lab service (restarted once if the worker stalls). */
  calibrate: Calibrate;
}

/** The lab's jobs: one of evaluation, sensitivity and sweep at a time (they share the evaluation worker). */
const LAB_JOB = 'lab';
const PLAN_JOB = 'lab:plan';
const DATA_JOB = 'lab:data';

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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function demoDataUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}demo/mnist-test.json`, globalThis.location?.href ?? 'http://localhost/').href;
}

export const createEvalSlice: StateCreator<StudioState, [], [], EvalSlice> = (set, get) => {
  bindLabStore(get);

  function currentRecipe(): Recipe {
    const recipe = recipeOf(draftOf(get()));
    if (!hasSteps(recipe)) throw new Error('Switch on quantization or pruning in the Compress panel: there is nothing to evaluate yet.');
    return recipe;
  }

  /**
   * A lab job replaces the one running (they share the worker): the one replaced shows as cancelled, not running.
   * Its own handlers never run (src/state/jobs), so its state is settled here.
   */
  function startLabJob(kind: 'evaluation' | 'sensitivity' | 'sweep'): void {
    set((s) => ({
      ...(kind !== 'evaluation' && s.evaluation.status === 'running' ? { evaluation: { ...s.evaluation, status: 'cancelled' as const, progress: null } } : {}),
      ...(kind !== 'sensitivity' && s.sensitivity.status === 'running'
        ? { sensitivity: { ...s.sensitivity, status: 'cancelled' as const, progress: null } }
        : {}),
      ...(kind !== 'sweep' && s.sweep.status === 'running' ? { sweep: { ...s.sweep, status: 'cancelled' as const, progress: null } } : {}),
    }));
  }

  async function loadData(source: DataSource, load: (signal: AbortSignal) => Promise<DatasetSummary>): Promise<void> {
    set((s) => ({ evalData: { ...s.evalData, source, status: 'loading', error: null } }));
    await jobs.run(DATA_JOB, load, {
      done: (summary) =>
        set((s) => ({
          evalData: { ...s.evalData, source, status: 'ready', summary, error: null },
          evalSettings: { ...s.evalSettings, samples: Math.min(s.evalSettings.samples, summary.samples) || summary.samples },
        })),
      failed: (err) => set((s) => ({ evalData: { ...s.evalData, status: 'error', error: messageOf(err) } })),
    });
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
      jobs.supersede(LAB_JOB, PLAN_JOB, DATA_JOB);
      lab.modelChanged();
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
      set((s) => ({ evalSettings: { ...s.evalSettings, threads } }));
      await get().restartEvaluation();
    },

    restartEvaluation: async () => {
      jobs.abort(LAB_JOB);
      // The fresh worker holds neither the original model nor the data: the service sends the model again (a new
      // worker generation), the data is loaded again below.
      evalWorker.restart();
      const { source } = get().evalData;
      const { backends } = get().evalSettings;
      set((s) => ({
        evalEnv: null,
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
      return loadData('demo', (signal) => evalWorker.loadDemoData(demoDataUrl(), inputs, signal));
    },

    chooseSyntheticData: (patch = {}) => {
      const synthetic = { ...get().evalData.synthetic, ...patch };
      set((s) => ({ evalData: { ...s.evalData, synthetic } }));
      const inputs = get().summary?.inputs ?? [];
      return loadData('synthetic', (signal) =>
        evalWorker.loadSyntheticData(inputs, { count: synthetic.count, dims: synthetic.dims, floats: synthetic.floats, seed: 1 }, signal),
      );
    },

    chooseFileData: (files) => {
      lastFiles = files;
      set((s) => ({ evalData: { ...s.evalData, fileCount: files.length } }));
      const inputs = get().summary?.inputs ?? [];
      return loadData('files', (signal) => evalWorker.loadFileData(files, inputs, { image: get().evalData.image }, signal));
    },

    setImagePrep: (patch) => {
      set((s) => ({ evalData: { ...s.evalData, image: { ...s.evalData.image, ...patch } } }));
      if (get().evalData.source === 'files' && lastFiles.length) void get().chooseFileData(lastFiles);
    },

    setEvalSettings: (patch) => set((s) => ({ evalSettings: { ...s.evalSettings, ...patch } })),

    runEvaluation: async () => {
      startLabJob('evaluation');
      set({ evaluation: { ...IDLE_EVALUATION, status: 'running', report: get().evaluation.report } });
      let recipe: Recipe | null = null;
      await jobs.run(
        LAB_JOB,
        async (signal) => {
          recipe = currentRecipe();
          await get().loadEvalEnvironment();
          const progress = latestEvery<EvalProgress>(100, (p) => {
            if (!signal.aborted) set((s) => ({ evaluation: { ...s.evaluation, progress: p } }));
          });
          return lab.evaluate(recipe, get().evalSettings, (p) => progress.push(p), signal).finally(() => progress.cancel());
        },
        {
          done: (report) => set({ evaluation: { status: 'done', progress: null, report, recipe, error: null } }),
          failed: (err) => set((s) => ({ evaluation: { ...s.evaluation, status: 'error', progress: null, error: messageOf(err) } })),
          cancelled: () => set((s) => ({ evaluation: { ...s.evaluation, status: 'cancelled', progress: null, error: null } })),
        },
      );
    },

    runSensitivity: async () => {
      startLabJob('sensitivity');
      set({ sensitivity: { ...IDLE_SENSITIVITY, status: 'running' } });
      let recipe: Recipe | null = null;
      await jobs.run(
        LAB_JOB,
        (signal) => {
          recipe = currentRecipe();
          const { samples, tasks, maskThreshold } = get().evalSettings;
          return lab.sensitivity(
            recipe,
            { samples: Math.min(samples, 200), tasks, maskThreshold },
            (done, total, layer) => {
              if (!signal.aborted) set((s) => ({ sensitivity: { ...s.sensitivity, progress: { done, total, layer } } }));
            },
            signal,
          );
        },
        {
          done: ({ layers, originalBytes }) => set({ sensitivity: { ...IDLE_SENSITIVITY, status: 'done', layers, recipe, originalBytes } }),
          failed: (err) => set((s) => ({ sensitivity: { ...s.sensitivity, status: 'error', progress: null, error: messageOf(err) } })),
          cancelled: () => set((s) => ({ sensitivity: { ...s.sensitivity, status: 'cancelled', progress: null, error: null } })),
        },
      );
    },

    planMixed: async (target) => {
      const { layers, recipe, originalBytes } = get().sensitivity;
      if (!layers || !recipe) return;
      const plan = planMixedPrecision(recipe, layers, originalBytes, target);
      set((s) => ({ sensitivity: { ...s.sensitivity, plan, planMeasure: null, planStatus: 'running', planError: null } }));
      await jobs.run(PLAN_JOB, (signal) => lab.measure(plan.recipe, 0, signal), {
        done: (m) => set((s) => ({ sensitivity: { ...s.sensitivity, planMeasure: m, planStatus: 'done' } })),
        failed: (err) => set((s) => ({ sensitivity: { ...s.sensitivity, planStatus: 'error', planError: messageOf(err) } })),
        cancelled: () => set((s) => ({ sensitivity: { ...s.sensitivity, planStatus: 'idle' } })),
      });
    },

    setSweepSettings: (patch) => set((s) => ({ sweepSettings: { ...s.sweepSettings, ...patch } })),

    sweepCandidates: () => {
      const st = get().sweepSettings;
      const base = recipeOf(draftOf(get()));
      const grid = gridCandidates({ bits: st.bits, sparsities: st.sparsities, granularities: st.granularities, pattern: st.pattern }, base);
      return [...grid, ...PRESETS.filter((p) => st.presets.includes(p.label)).map((p) => withTeacherMethods(p, base))];
    },

    runSweep: async () => {
      startLabJob('sweep');
      const candidates = get().sweepCandidates();
      set({ sweep: { ...IDLE_SWEEP, status: 'running', progress: { done: 0, total: candidates.length + 1 } } });
      await jobs.run(
        LAB_JOB,
        (signal) => {
          const st = get().sweepSettings;
          const { tasks, maskThreshold } = get().evalSettings;
          return lab.sweep(
            candidates,
            { backend: st.backend, samples: st.samples, runs: st.runs, tasks, maskThreshold },
            (progress) => {
              if (signal.aborted) return;
              set((s) => ({ sweep: { ...s.sweep, progress, points: progress.point ? markFrontier([...s.sweep.points, progress.point]) : s.sweep.points } }));
            },
            signal,
          );
        },
        {
          done: (points) => set((s) => ({ sweep: { ...s.sweep, status: 'done', progress: null, points } })),
          // Points measured before a cancel are kept.
          failed: (err) => set((s) => ({ sweep: { ...s.sweep, status: 'error', progress: null, error: messageOf(err) } })),
          cancelled: () => set((s) => ({ sweep: { ...s.sweep, status: 'cancelled', progress: null, error: null } })),
        },
      );
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

    cancelLabJob: () => jobs.abort(LAB_JOB),

    ensureEvalData: ensureData,

    calibrate: (names, count, onProgress, gptq = false, signal) => lab.calibrate(names, count, onProgress, gptq, signal),
  };
};
