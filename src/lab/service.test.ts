/**
 * The lab service with fake workers: the page only names candidates (the model worker "sends" them, the evaluation
 * worker measures them by id), the original is sent once per model and evaluation worker, a calibrated recipe is
 * calibrated and then evaluated on held-out samples, and an abort stops a sweep between points.
 */
import { describe, expect, it, vi } from 'vitest';
import type { CandidateMeasure } from '../core/eval/candidate';
import { DEFAULT_QUANTIZE, type Recipe } from '../core/recipe';
import type { TeacherStudentReport } from '../core/teacher/report';
import type { CalibrationOutcome, EvaluationResult } from '../protocol/eval';
import { createLabService, type LabEvalWorker, type LabModelWorker } from './service';

const measure = (sizeBytes: number): CandidateMeasure => ({ sizeBytes, fidelity: [], loadMs: 1, cpuNodes: [] }) as unknown as CandidateMeasure;

function fakes() {
  /** What the model worker posted to the evaluation worker, by candidate id: bytes the page never sees. */
  const channel = new Map<number, { recipe: Recipe; calibrated: boolean }>();
  let generation = 1;
  let nextId = 0;
  const model = {
    originalFiles: vi.fn(async () => ({ bytes: new Uint8Array(10) })),
    staticNames: vi.fn(async () => ['a', 'b']),
    sendCandidate: vi.fn(async (candidate: number, recipe: Recipe, _pref: string, calibration?: unknown) => {
      channel.set(candidate, { recipe, calibrated: calibration !== undefined });
      return { candidate, bytes: 5 };
    }),
    sensitivityLayers: vi.fn(async () => [{ name: 'w1' }, { name: 'w2' }]),
  } satisfies Record<keyof LabModelWorker, unknown>;
  const evaluation = {
    setOriginal: vi.fn(async () => undefined),
    calibrate: vi.fn(async (_names: string[], _count: number, _onProgress: (done: number, total: number) => void): Promise<CalibrationOutcome> => ({
      stats: new Map(),
      samples: 4,
      dataset: 'digits',
      synthetic: false,
      unreachable: [],
      peakBytes: 0,
    })),
    evaluate: vi.fn(async (candidate: number, options: { heldOut?: boolean }) => {
      const sent = channel.get(candidate)!;
      return { recipe: sent.recipe, calibrated: sent.calibrated, heldOut: options.heldOut } as unknown as EvaluationResult;
    }),
    prepareCandidates: vi.fn(async () => ({ samples: 10, originalBytes: 100, originalAccuracy: 0.9 })),
    originalLatency: vi.fn(async () => undefined),
    measureCandidate: vi.fn(async (candidate: number, _runs?: number, _signal?: AbortSignal) => measure(channel.get(candidate)!.recipe.quantize?.bits ?? 0)),
    teacherReport: vi.fn(),
  } satisfies Record<keyof LabEvalWorker, unknown>;
  const link = vi.fn(async () => undefined);
  const restartEvaluation = vi.fn(async () => void generation++);
  const service = createLabService({
    model: model as unknown as LabModelWorker,
    evaluation: evaluation as unknown as LabEvalWorker,
    link,
    evalGeneration: () => generation,
    nextCandidate: () => ++nextId,
    fileName: () => 'm.onnx',
    preference: () => 'auto',
    ensureData: async () => undefined,
    restartEvaluation: restartEvaluation,
    stallLimits: { firstMs: 400, idleMs: 100, factor: 4 },
  });
  return { service, model, evaluation, link, channel, restartEval: () => generation++, restartEvaluation };
}

const int8: Recipe = { version: 1, quantize: { ...DEFAULT_QUANTIZE, bits: 8 } };

describe('lab service', () => {
  it('evaluates a candidate the model worker sent, by id; the original is sent once per model and worker', async () => {
    const { service, model, evaluation, link, restartEval } = fakes();
    const report = (await service.evaluate(int8, { backends: ['wasm'], samples: 10, runs: 1, tasks: {}, maskThreshold: 0.5 }, () => undefined)) as unknown as {
      recipe: Recipe;
      heldOut: boolean;
    };
    expect(report.recipe).toBe(int8);
    expect(report.heldOut).toBe(false);
    expect(link).toHaveBeenCalled();
    expect(typeof evaluation.evaluate.mock.calls[0]![0]).toBe('number'); // an id, not bytes
    await service.evaluate(int8, { backends: ['wasm'], samples: 10, runs: 1, tasks: {}, maskThreshold: 0.5 }, () => undefined);
    expect(evaluation.setOriginal).toHaveBeenCalledTimes(1);
    restartEval();
    await service.ensureOriginal();
    expect(evaluation.setOriginal).toHaveBeenCalledTimes(2);
    service.modelChanged();
    await service.ensureOriginal();
    expect(evaluation.setOriginal).toHaveBeenCalledTimes(3);
    expect(model.originalFiles).toHaveBeenCalledTimes(3);
  });

  it('a static recipe is calibrated first, compressed with the calibration, and judged on held-out samples', async () => {
    const { service, evaluation, model } = fakes();
    const recipe = { version: 1, quantize: { bits: 8, format: 'static', calibrationSamples: 4 } } as unknown as Recipe;
    const report = (await service.evaluate(
      recipe,
      { backends: ['wasm'], samples: 10, runs: 1, tasks: {}, maskThreshold: 0.5 },
      () => undefined,
    )) as unknown as {
      calibrated: boolean;
      heldOut: boolean;
    };
    expect(model.staticNames).toHaveBeenCalled();
    expect(evaluation.calibrate.mock.calls[0]!.slice(0, 2)).toEqual([['a', 'b'], 4]);
    expect(report).toMatchObject({ calibrated: true, heldOut: true });
  });

  it('a sweep measures every candidate by id; an abort stops it between points', async () => {
    const { service, evaluation } = fakes();
    const candidates = [8, 4, 2].map((bits) => ({ label: `int${bits}`, recipe: { version: 1, quantize: { bits } } as Recipe }));
    const points = await service.sweep(candidates, { backend: 'wasm', samples: 10, runs: 1, tasks: {}, maskThreshold: 0.5 }, () => undefined);
    expect(points.map((p) => p.sizeBytes)).toEqual([100, 8, 4, 2]);

    const controller = new AbortController();
    evaluation.measureCandidate.mockClear();
    const run = service.sweep(
      candidates,
      { backend: 'wasm', samples: 10, runs: 1, tasks: {}, maskThreshold: 0.5 },
      (p) => {
        if (p.done === 2) controller.abort();
      },
      controller.signal,
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(evaluation.measureCandidate).toHaveBeenCalledTimes(1);
    // The signal reaches the workers' calls.
    expect(evaluation.measureCandidate.mock.calls[0]![2]).toBe(controller.signal);
  });

  it('sensitivity ranks each changed layer measured alone', async () => {
    const { service, model } = fakes();
    const result = await service.sensitivity(int8, { samples: 10, tasks: {}, maskThreshold: 0.5 }, () => undefined);
    expect(result.originalBytes).toBe(100);
    expect(result.layers.map((l) => l.name).sort()).toEqual(['w1', 'w2']);
    expect(result.layers.every((l) => l.error === undefined)).toBe(true);
    expect(model.sendCandidate).toHaveBeenCalledTimes(2);
  });

  describe('teacher report watchdog', () => {
    const report = { stages: [], layers: [], samples: 4 } as unknown as TeacherStudentReport;
    type Progress = (done: number, total: number) => void;
    /** A report call that ticks once, then never answers (a stalled worker). */
    const stalled = (_stages: unknown, _count: number, _layers: string[], onProgress: Progress) => {
      onProgress(1, 8);
      return new Promise<never>(() => undefined);
    };
    /** A report call that ticks every `gap` ms, `ticks` times, then answers. */
    const steady = (gap: number, ticks: number) => async (_stages: unknown, _count: number, _layers: string[], onProgress: Progress) => {
      for (let i = 1; i <= ticks; i++) {
        await new Promise((r) => setTimeout(r, gap));
        onProgress(i, ticks);
      }
      return report;
    };

    it('a stalled comparison: the evaluation worker is restarted and the check runs again from calibration', async () => {
      const { service, evaluation, restartEvaluation } = fakes();
      evaluation.teacherReport.mockImplementationOnce(stalled).mockImplementationOnce(steady(5, 3));
      const phases: string[] = [];
      const out = await service.teacherReport(
        int8,
        () => [],
        (phase) => phases.push(phase),
      );
      expect(out.report).toBe(report);
      expect(restartEvaluation).toHaveBeenCalledTimes(1);
      expect(evaluation.teacherReport).toHaveBeenCalledTimes(2);
      // The fresh worker got the original again and calibrated again.
      expect(evaluation.setOriginal).toHaveBeenCalledTimes(2);
      expect(evaluation.calibrate).toHaveBeenCalledTimes(2);
      expect(phases).toContain('The evaluation worker stopped responding: restarting it and running the check again');
      // The stalled call's signal was aborted (its job is stopped in the worker, if it still listens).
      expect((evaluation.teacherReport.mock.calls[0]![4] as AbortSignal).aborted).toBe(true);
    });

    it("a stalled calibration (the Compress panel's) restarts the worker and calibrates again", async () => {
      const { service, evaluation, restartEvaluation } = fakes();
      evaluation.calibrate.mockImplementationOnce((_names: string[], _count: number, onProgress: Progress) => {
        onProgress(1, 32);
        return new Promise<never>(() => undefined);
      });
      const progress: [number, number][] = [];
      const out = await service.calibrate(['a'], 32, (done, total) => progress.push([done, total]), true);
      expect(out.dataset).toBe('digits');
      expect(restartEvaluation).toHaveBeenCalledTimes(1);
      expect(evaluation.calibrate).toHaveBeenCalledTimes(2);
      expect(evaluation.setOriginal).toHaveBeenCalledTimes(2);
      // Progress starts again from nothing after the restart.
      expect(progress).toEqual([
        [1, 32],
        [0, 0],
      ]);
    });

    it('stalled twice: a clear error, and the worker is left fresh', async () => {
      const { service, evaluation, restartEvaluation } = fakes();
      evaluation.teacherReport.mockImplementation(stalled);
      await expect(
        service.teacherReport(
          int8,
          () => [],
          () => undefined,
        ),
      ).rejects.toThrow(/stopped responding twice \(no progress for 0 s\)/);
      expect(restartEvaluation).toHaveBeenCalledTimes(2);
    });

    it('slow but steady progress is not a stall (the allowed silence grows with the gaps seen)', async () => {
      const { service, evaluation, restartEvaluation } = fakes();
      // Gaps of 60 ms against idleMs 100: fine; then the same model's later gaps may grow to 4 × the longest.
      evaluation.teacherReport.mockImplementationOnce(steady(60, 4));
      expect(
        (
          await service.teacherReport(
            int8,
            () => [],
            () => undefined,
          )
        ).report,
      ).toBe(report);
      expect(restartEvaluation).not.toHaveBeenCalled();
    });

    it('Cancel during the comparison aborts: no restart', async () => {
      const { service, evaluation, restartEvaluation } = fakes();
      const controller = new AbortController();
      evaluation.teacherReport.mockImplementationOnce((_s: unknown, _c: number, _l: string[], onProgress: Progress, signal?: AbortSignal) => {
        onProgress(1, 8);
        controller.abort();
        return new Promise<never>((_, reject) => signal!.addEventListener('abort', () => reject(new DOMException('stopped', 'AbortError'))));
      });
      await expect(
        service.teacherReport(
          int8,
          () => [],
          () => undefined,
          controller.signal,
        ),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(restartEvaluation).not.toHaveBeenCalled();
    });
  });
});
