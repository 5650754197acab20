/**
 * The evaluation lab's orchestration, out of the store: sending the original to the evaluation worker, calibration,
 * building candidates, evaluating them, sensitivity scans, sweeps and the teacher report. Candidates are compressed
 * in the model worker and posted straight to the evaluation worker (src/protocol/candidates); the page only names
 * them. Every operation takes the AbortSignal of its job (src/state/jobs) and rejects with an AbortError when it
 * aborts. src/state/evalSlice keeps the state; this module keeps none of it.
 */
import type { CandidateMeasure, CandidateOptions } from '../core/eval/candidate';
import type { EvalProgress } from '../core/eval/evaluate';
import type { LatencyStats } from '../core/eval/latency';
import { measureSensitivity, type LayerSensitivity, type SensitivityLayer } from '../core/eval/sensitivity';
import { runSweep, type SweepCandidate, type SweepPoint, type SweepProgress } from '../core/eval/sweep';
import type { ModelFiles } from '../core/eval/types';
import { DEFAULT_CALIBRATION_SAMPLES, type QuantizeRecipe, type Recipe } from '../core/recipe';
import { reportStages, type TeacherStudentReport } from '../core/teacher/report';
import type { BackendPreference } from '../kernels/registry';
import type { CandidateId } from '../protocol/candidates';
import { abortable } from '../protocol/job';
import type { CalibrationOutcome, EvaluateOptions, EvaluationResult, PreparedCandidates, ReportStage } from '../protocol/eval';
import type { SentCandidate, WorkerCalibration } from '../protocol/model';
import { labCalibration } from './calibration';
import { isStallError, watchProgress, type StallLimits } from './watchdog';

/**
 * When the evaluation worker is taken as stalled in a calibration or the teacher report's comparison (no progress for
 * this long; see src/lab/watchdog): it is restarted and the work runs again, once. A worker that never answers (an
 * onnxruntime-web call that never settles, a wasm loop) would otherwise leave the check running for good.
 */
export const STALL_LIMITS: StallLimits = { firstMs: 120_000, idleMs: 20_000, factor: 20 };

/** What the service needs of the model worker's bridge (src/state/bridge). */
export interface LabModelWorker {
  originalFiles(signal?: AbortSignal): Promise<ModelFiles>;
  staticNames(recipe: QuantizeRecipe, signal?: AbortSignal): Promise<string[]>;
  sendCandidate(
    candidate: CandidateId,
    recipe: Recipe,
    preference: BackendPreference,
    calibration?: WorkerCalibration,
    signal?: AbortSignal,
  ): Promise<SentCandidate>;
  sensitivityLayers(recipe: Recipe, signal?: AbortSignal): Promise<SensitivityLayer[]>;
}

/**
 * A calibration in the evaluation worker: the original run on the first `count` samples of the lab's data, `names`
 * as extra outputs (static int8), with the layers' Hessians when `gptq`. Rejects with an AbortError when `signal` aborts.
 */
export type Calibrate = (
  names: string[],
  count: number,
  onProgress: (done: number, total: number) => void,
  gptq?: boolean,
  signal?: AbortSignal,
) => Promise<CalibrationOutcome>;

/** What the service needs of the evaluation worker's bridge (src/state/evalBridge). */
export interface LabEvalWorker {
  setOriginal(model: ModelFiles, name: string, signal?: AbortSignal): Promise<void>;
  calibrate: Calibrate;
  evaluate(candidate: CandidateId, options: EvaluateOptions, onProgress: (p: EvalProgress) => void, signal?: AbortSignal): Promise<EvaluationResult>;
  /** `heldOut`: measure on the samples the last calibration did not see. */
  prepareCandidates(options: CandidateOptions, heldOut: boolean, signal?: AbortSignal): Promise<PreparedCandidates>;
  originalLatency(signal?: AbortSignal): Promise<LatencyStats | undefined>;
  measureCandidate(candidate: CandidateId, runs?: number, signal?: AbortSignal): Promise<CandidateMeasure>;
  teacherReport(
    stages: ReportStage[],
    count: number,
    layers: string[],
    onProgress: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<TeacherStudentReport>;
}

export interface LabDeps {
  model: LabModelWorker;
  evaluation: LabEvalWorker;
  /** Connects the workers' candidate channel (again after either restarted); see src/state/candidateChannel. */
  link(): Promise<void>;
  /** Increases with each evaluation worker started: a fresh one needs the original model again. */
  evalGeneration(): number;
  nextCandidate(): CandidateId;
  /** The open model's file name and the kernel backend preference, read when needed. */
  fileName(): string;
  preference(): BackendPreference;
  /** Makes the evaluation data ready in the evaluation worker (the store's: it shows the data's state). */
  ensureData(): Promise<void>;
  /** Replaces a stalled evaluation worker with a fresh one (its data is loaded again; the original is sent on next use). */
  restartEvaluation(): Promise<void>;
  /** The stall limits of calibrations and the teacher report (tests shorten them). */
  stallLimits?: StallLimits;
}

export interface EvaluationSettings {
  backends: EvaluateOptions['backends'];
  samples: number;
  runs: number;
  tasks: EvaluateOptions['tasks'];
  maskThreshold: number;
}

export interface SweepRunSettings {
  backend: CandidateOptions['backend'];
  samples: number;
  runs: number;
  tasks: CandidateOptions['tasks'];
  maskThreshold: number;
}

/** What a recipe calibrates: static int8's activations, and the Hessians GPTQ, SparseGPT and the channel refit take. */
export function calibrationNeeds(
  recipe: Recipe,
  options: { refit?: boolean } = {},
): { calibrate: boolean; isStatic: boolean; hessians: boolean; refit: boolean; sparse: boolean; count: number } {
  const isStatic = recipe.quantize?.format === 'static';
  const refit = (options.refit ?? true) && recipe.prune?.refit === true && recipe.prune.pattern === 'channel';
  const sparse = recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel';
  const hessians = recipe.quantize?.gptq?.enabled === true || refit || sparse;
  const count = recipe.quantize?.calibrationSamples ?? recipe.prune?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES;
  return { calibrate: isStatic || hessians, isStatic, hessians, refit, sparse, count };
}

/** What the model worker takes of a calibration. */
export function workerCalibration(calibration: CalibrationOutcome | undefined): WorkerCalibration | undefined {
  return calibration ? { stats: calibration.stats, samples: calibration.samples, ...(calibration.gptq ? { gptq: calibration.gptq } : {}) } : undefined;
}

export type LabService = ReturnType<typeof createLabService>;

export function createLabService(deps: LabDeps) {
  /** Which model the evaluation worker holds: bumped at each model load. */
  let modelGeneration = 0;
  let original: { model: number; evaluation: number; sent: Promise<void> } | undefined;

  /**
   * Sends the open model to the evaluation worker unless this worker already holds it (or is being sent it). The
   * sending is shared by every job that needs it, so one job's abort does not stop it: `signal` only ends the wait.
   */
  function ensureOriginal(signal?: AbortSignal): Promise<void> {
    if (original && original.model === modelGeneration && original.evaluation === deps.evalGeneration()) return abortable(original.sent, signal);
    const model = modelGeneration;
    const mine = { model, evaluation: -1, sent: Promise.resolve() };
    mine.sent = (async () => {
      const files = await deps.model.originalFiles();
      const sending = deps.evaluation.setOriginal(files, deps.fileName());
      // The generation of the worker this call reaches (it changes only when that worker is dropped).
      mine.evaluation = deps.evalGeneration();
      await sending;
    })();
    original = mine;
    mine.sent.catch(() => {
      if (original === mine) original = undefined;
    });
    return abortable(mine.sent, signal);
  }

  async function ready(signal?: AbortSignal): Promise<void> {
    await Promise.all([ensureOriginal(signal), deps.ensureData()]);
    signal?.throwIfAborted();
  }

  /** Compresses `recipe` in the model worker, which posts the file to the evaluation worker; resolves to its id. */
  async function sendCandidate(recipe: Recipe, calibration: CalibrationOutcome | undefined, signal?: AbortSignal): Promise<CandidateId> {
    await deps.link();
    const id = deps.nextCandidate();
    await deps.model.sendCandidate(id, recipe, deps.preference(), workerCalibration(calibration), signal);
    return id;
  }

  const stallLimits = deps.stallLimits ?? STALL_LIMITS;
  /** An evaluation-worker call that reports progress, under the watchdog (a StallError when it goes silent). */
  function watched<T>(run: (s: AbortSignal, tick: () => boolean) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return watchProgress(run, stallLimits, signal);
  }

  /**
   * Runs `attempt`; when the evaluation worker stalls in it, restarts the worker and runs it again, once. A second
   * stall restarts the worker again and rejects with a message that says what happened.
   */
  async function restartingOnStall<T>(attempt: () => Promise<T>, onRestart: () => void, signal?: AbortSignal): Promise<T> {
    try {
      return await attempt();
    } catch (err) {
      if (!isStallError(err)) throw err;
      onRestart();
      await deps.restartEvaluation();
      signal?.throwIfAborted();
      try {
        return await attempt();
      } catch (again) {
        if (!isStallError(again)) throw again;
        await deps.restartEvaluation();
        throw new Error(
          `The evaluation worker stopped responding twice (${again.message.toLowerCase()}); it has been restarted. Try again, or with fewer calibration samples.`,
        );
      }
    }
  }

  /** One calibration pass in the evaluation worker, watched (no restart here). */
  const calibrateOnce: Calibrate = async (names, count, onProgress, gptq, signal) => {
    await ready(signal);
    return watched((s, tick) => deps.evaluation.calibrate(names, count, (done, total) => tick() && onProgress(done, total), gptq, s), signal);
  };

  /** Calibration in the evaluation worker; a stalled worker is restarted and the calibration runs again. */
  const calibrate: Calibrate = (names, count, onProgress, gptq, signal) =>
    restartingOnStall(
      () => calibrateOnce(names, count, onProgress, gptq, signal),
      () => onProgress(0, 0),
      signal,
    );

  /**
   * Calibrates when the recipe needs it (names of static int8's activations from the model worker). `refit`: the
   * channel-pruning refit's Hessians count too (the Compress panel); the lab's evaluation has never calibrated for it.
   */
  async function calibrateFor(
    recipe: Recipe,
    onProgress: (done: number, total: number) => void,
    signal?: AbortSignal,
    { refit = true }: { refit?: boolean } = {},
  ): Promise<CalibrationOutcome | undefined> {
    const needs = calibrationNeeds(recipe, { refit });
    if (!needs.calibrate) return undefined;
    const names = needs.isStatic && recipe.quantize ? await deps.model.staticNames(recipe.quantize, signal) : [];
    return calibrate(names, needs.count, onProgress, needs.hessians, signal);
  }

  /**
   * Teacher-guided sweeps and sensitivity (static int8, GPTQ, SparseGPT, the channel refit): one calibration for every
   * point (src/lab/calibration) — the union of the static points' activations, Hessians when any point takes them, the
   * largest sample count asked — handed to each point's compression; the points are measured on the other samples.
   */
  function calibrateRecipes(recipes: Recipe[], signal?: AbortSignal): Promise<CalibrationOutcome | undefined> {
    return labCalibration(
      recipes,
      (q) => deps.model.staticNames(q, signal),
      (names, count, hessians) => calibrate(names, count, () => undefined, hessians, signal),
    );
  }
  /** The calibration of the last sensitivity scan (its mixed-precision plans are compressed with it). */
  let sensitivityCalibration: CalibrationOutcome | undefined;

  return {
    /** Another model opened: the evaluation worker's original is stale. */
    modelChanged(): void {
      modelGeneration++;
      original = undefined;
      sensitivityCalibration = undefined;
    },
    ensureOriginal,
    calibrate,
    calibrateFor,
    sendCandidate,

    /**
     * One side-by-side evaluation of `recipe`. A calibrated recipe calibrates first (the first N samples) and is
     * evaluated on the others.
     */
    async evaluate(recipe: Recipe, settings: EvaluationSettings, onProgress: (p: EvalProgress) => void, signal?: AbortSignal): Promise<EvaluationResult> {
      await ready(signal);
      const calibration = await calibrateFor(recipe, () => undefined, signal, { refit: false });
      const candidate = await sendCandidate(recipe, calibration, signal);
      const { backends, samples, runs, tasks, maskThreshold } = settings;
      return deps.evaluation.evaluate(candidate, { backends, samples, runs, tasks, maskThreshold, heldOut: calibration !== undefined }, onProgress, signal);
    },

    /** Each changed layer compressed alone and measured (wasm, no timing); ranked, most sensitive first. */
    async sensitivity(
      recipe: Recipe,
      settings: Pick<SweepRunSettings, 'samples' | 'tasks' | 'maskThreshold'>,
      onProgress: (done: number, total: number, layer?: string) => void,
      signal?: AbortSignal,
    ): Promise<{ layers: LayerSensitivity[]; originalBytes: number }> {
      await ready(signal);
      const layers = await deps.model.sensitivityLayers(recipe, signal);
      if (layers.length === 0) throw new Error('The current settings change no layer: nothing to rank.');
      const calibration = await calibrateRecipes([recipe], signal);
      sensitivityCalibration = calibration;
      const prepared = await deps.evaluation.prepareCandidates(
        { backend: 'wasm', samples: settings.samples, runs: 0, tasks: settings.tasks, maskThreshold: settings.maskThreshold },
        calibration !== undefined,
        signal,
      );
      const ranked = await measureSensitivity<CandidateId>(
        recipe,
        layers,
        {
          compress: (r, s) => sendCandidate(r, calibration, s),
          measure: (id, s) => deps.evaluation.measureCandidate(id, 0, s),
          originalBytes: prepared.originalBytes,
        },
        { signal, onProgress },
      );
      return { layers: ranked, originalBytes: prepared.originalBytes };
    },

    /** One recipe measured against the prepared original (the mixed-precision plan, after a sensitivity scan). */
    async measure(recipe: Recipe, runs: number, signal?: AbortSignal): Promise<CandidateMeasure> {
      const candidate = await sendCandidate(recipe, sensitivityCalibration, signal);
      return deps.evaluation.measureCandidate(candidate, runs, signal);
    },

    /** The trade-off sweep: the original, then every candidate; points stream through `onProgress`. */
    async sweep(candidates: SweepCandidate[], settings: SweepRunSettings, onProgress: (p: SweepProgress) => void, signal?: AbortSignal): Promise<SweepPoint[]> {
      if (candidates.length === 0) throw new Error('The grid is empty: choose at least one bit width or sparsity.');
      await ready(signal);
      const calibration = await calibrateRecipes(
        candidates.map((c) => c.recipe),
        signal,
      );
      const prepared = await deps.evaluation.prepareCandidates(
        { backend: settings.backend, samples: settings.samples, runs: settings.runs, tasks: settings.tasks, maskThreshold: settings.maskThreshold },
        calibration !== undefined,
        signal,
      );
      return runSweep<CandidateId>(
        candidates,
        {
          compress: (r, s) => sendCandidate(r, calibration, s),
          measure: (id, s) => deps.evaluation.measureCandidate(id, undefined, s),
          original: async (s) => ({
            sizeBytes: prepared.originalBytes,
            latency: await deps.evaluation.originalLatency(s),
            accuracy: prepared.originalAccuracy,
          }),
        },
        { signal, onProgress },
      );
    },

    /**
     * The teacher–student report of `recipe`: calibration, each stage compressed and sent to the evaluation worker,
     * then every stage's layers compared with the original's. `layers()` is read once the stages are built.
     */
    async teacherReport(
      recipe: Recipe,
      layers: () => string[],
      onPhase: (phase: string, done: number, total: number) => void,
      signal?: AbortSignal,
    ): Promise<{ report: TeacherStudentReport; dataset: string }> {
      const attempt = async () => {
        const count = recipe.quantize?.calibrationSamples ?? DEFAULT_CALIBRATION_SAMPLES;
        const isStatic = recipe.quantize?.format === 'static';
        const { hessians } = calibrationNeeds(recipe);
        const calibrating = 'Running the original on calibration data';
        onPhase(calibrating, 0, 0);
        const names = isStatic && recipe.quantize ? await deps.model.staticNames(recipe.quantize, signal) : [];
        const calibration = await calibrateOnce(names, count, (done, total) => onPhase(calibrating, done, total), hessians, signal);
        const plan = reportStages(recipe);
        const stages: ReportStage[] = [];
        for (const [i, step] of plan.entries()) {
          onPhase(`Compressing step ${i + 1} of ${plan.length} (${step.label})`, i, plan.length);
          stages.push({ id: step.id, label: step.label, candidate: await sendCandidate(step.recipe, calibration, signal) });
        }
        const report = await watched(
          (s, tick) =>
            deps.evaluation.teacherReport(
              stages,
              count,
              layers(),
              (done, total) => tick() && onPhase('Comparing the layers with the original', done, total),
              s,
            ),
          signal,
        );
        return { report, dataset: calibration.synthetic ? `${calibration.dataset} (synthetic)` : calibration.dataset };
      };
      // A stall in either phase: a fresh worker and the whole check again (its stages live in the old worker).
      return restartingOnStall(attempt, () => onPhase('The evaluation worker stopped responding: restarting it and running the check again', 0, 0), signal);
    },
  };
}
