/**
 * The evaluation lab's orchestration with scripted workers: a sweep streams its points and keeps them on
 * Cancel, only two points can be compared, clicking a point loads its recipe into the Compress panel, and a
 * new model forgets every result.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CandidateMeasure } from '../core/eval/candidate';
import type { LatencyStats } from '../core/eval/latency';
import type { ModelSummary } from '../core/onnx/types';
import { PRESETS } from '../core/eval/sweep';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type Recipe } from '../core/recipe';

const compressed: Recipe[] = [];
/** Candidate sizes by id: the model worker "sends" them to the evaluation worker, the page never holds the bytes. */
const sent = new Map<number, number>();
let measureGate: (() => void) | undefined;
const measureSignals: (AbortSignal | undefined)[] = [];
const evalConnection = { generation: 1, call: (run: (api: unknown) => Promise<unknown>) => run({ connectModel: () => undefined }) };
const restart = vi.fn(() => void evalConnection.generation++);
const environment = vi.fn((threads?: number) =>
  Promise.resolve({ runtime: 'test', crossOriginIsolated: true, cores: 2, threads: threads ?? 1, webgpu: { available: false } }),
);
const setOriginal = vi.fn(() => Promise.resolve());
const loadDemoData = vi.fn(() => Promise.resolve({ name: 'digits', description: '', samples: 10, labelled: 10, synthetic: false, shapes: {} }));

const latency = (medianMs: number): LatencyStats => ({
  runs: 3,
  firstRunMs: 1,
  medianMs,
  p90Ms: medianMs,
  p10Ms: medianMs,
  minMs: medianMs,
  maxMs: medianMs,
  meanMs: medianMs,
  spreadPct: 0,
  inferencesPerSample: 1,
});

vi.mock('./bridge', () => ({
  modelConnection: { generation: 1, call: (run: (api: unknown) => Promise<unknown>) => run({ connectEval: () => undefined }) },
  modelWorker: {
    onCrash: () => () => true,
    originalFiles: () => Promise.resolve({ bytes: new Uint8Array(1000) }),
    sendCandidate: (candidate: number, recipe: Recipe) => {
      compressed.push(recipe);
      const bytes = recipe.quantize?.bits === 4 ? 150 : 250;
      sent.set(candidate, bytes);
      return Promise.resolve({ candidate, bytes });
    },
    compress: () => new Promise(() => undefined),
    sensitivityLayers: () => Promise.resolve([]),
  },
}));

vi.mock('./evalBridge', () => ({
  evalConnection,
  evalWorker: {
    setOriginal,
    environment,
    restart,
    loadDemoData,
    loadSyntheticData: () => Promise.resolve({ name: 'noise', description: '', samples: 4, labelled: 0, synthetic: true, shapes: {} }),
    prepareCandidates: () => Promise.resolve({ samples: 10, originalAccuracy: 0.9, originalBytes: 1000 }),
    originalLatency: () => Promise.resolve(latency(2)),
    measureCandidate: async (candidate: number, _runs?: number, signal?: AbortSignal): Promise<CandidateMeasure> => {
      measureSignals.push(signal);
      if (measureGate) await new Promise<void>((resolve) => (measureGate = resolve));
      const size = sent.get(candidate)!;
      const small = size < 200;
      return {
        sizeBytes: size,
        fidelity: [
          {
            name: 'y',
            task: 'classification',
            taskSource: 'auto',
            cosine: small ? 0.99 : 0.999,
            sqnrDb: 20,
            maxAbs: 0.1,
            meanAbs: 0.01,
            headline: { metric: 'top-1 agreement', value: 0.98 },
            elements: 10,
            nonFinite: 0,
          },
        ],
        accuracy: { original: 0.9, candidate: small ? 0.85 : 0.9, labelled: 10, output: 'y' },
        latency: { original: latency(2), candidate: latency(small ? 1 : 1.5) },
        loadMs: 1,
        cpuNodes: [],
      };
    },
  },
}));

const { useStudio } = await import('./store');

beforeEach(() => {
  compressed.length = 0;
  measureSignals.length = 0;
  measureGate = undefined;
  useStudio.setState({
    summary: { tensors: [], weightBytes: 1000, inputs: [], outputs: [] } as unknown as ModelSummary,
    fileName: 'm.onnx',
    pruneOn: false,
    quantizeOn: true,
  });
  useStudio.getState().resetEvaluationLab(true);
});

describe('sweep orchestration', () => {
  it('measures the original and every grid point; frontier marked; every point kept', async () => {
    useStudio.getState().setSweepSettings({ bits: [8, 4], sparsities: [0], granularities: ['channel'], presets: [] });
    await useStudio.getState().runSweep();
    const { sweep } = useStudio.getState();
    expect(sweep.error).toBeNull();
    expect(sweep.status).toBe('done');
    expect(sweep.points.map((p) => p.label)).toEqual(['original', 'int8 per channel', 'int4 per channel']);
    expect(compressed.map((r) => r.quantize?.bits)).toEqual([8, 4]);
    // int8: 0.9 at 1.5 ms; int4: 0.85 at 1 ms; original 0.9 at 2 ms → int8 and int4 are on the frontier, the original is beaten.
    expect(sweep.points.filter((p) => p.frontier).map((p) => p.label)).toEqual(['int8 per channel', 'int4 per channel']);
  });

  it('Cancel keeps the points measured so far', async () => {
    useStudio.getState().setSweepSettings({ bits: [8, 4], sparsities: [0], granularities: ['channel'], presets: [] });
    measureGate = () => undefined;
    const run = useStudio.getState().runSweep();
    await vi.waitFor(() => expect(useStudio.getState().sweep.points).toHaveLength(1)); // the original
    useStudio.getState().cancelLabJob();
    measureGate?.();
    await run;
    const { sweep } = useStudio.getState();
    expect(sweep.status).toBe('cancelled');
    expect(sweep.points.map((p) => p.label)).toEqual(['original']);
    // The abort reached the measurement in flight (the bridge passes it on to the worker).
    expect(measureSignals.at(-1)?.aborted).toBe(true);
  });

  it('two points at most are compared; clicking a point loads its recipe', async () => {
    useStudio.getState().setSweepSettings({ bits: [8, 4], sparsities: [0], granularities: ['channel'], presets: [] });
    await useStudio.getState().runSweep();
    const s = useStudio.getState();
    s.toggleSweepPoint(0);
    s.toggleSweepPoint(1);
    s.toggleSweepPoint(2);
    expect(useStudio.getState().sweep.selected).toEqual([1, 2]);
    const int4 = useStudio.getState().sweep.points[2]!;
    useStudio.getState().applyRecipe(int4.recipe, int4.id);
    expect(useStudio.getState().quantize.bits).toBe(4);
    expect(useStudio.getState().sweep.applied).toBe(2);
  });

  it('a new model forgets every result', async () => {
    useStudio.getState().setSweepSettings({ bits: [8], sparsities: [0], granularities: ['channel'], presets: [] });
    await useStudio.getState().runSweep();
    expect(useStudio.getState().sweep.points).toHaveLength(2);
    useStudio.getState().resetEvaluationLab(false);
    expect(useStudio.getState().sweep.points).toEqual([]);
    expect(useStudio.getState().evalData.source).toBe('synthetic');
  });
});

describe('sweep presets', () => {
  it("take the Compress panel's GPTQ, SparseGPT and refit, as the grid's points do, and say so in their labels", () => {
    useStudio.setState({
      pruneOn: true,
      prune: { ...DEFAULT_PRUNE, method: 'sparsegpt', refit: true, calibrationSamples: 96 },
      quantize: { ...DEFAULT_QUANTIZE, gptq: { enabled: true, actOrder: true }, calibrationSamples: 32 },
    });
    useStudio.getState().setSweepSettings({ bits: [4], sparsities: [0.5], granularities: ['channel'], presets: PRESETS.map((p) => p.label) });
    const candidates = useStudio.getState().sweepCandidates();
    const grid = candidates[0]!.recipe;
    expect(grid.quantize?.gptq).toEqual({ enabled: true, actOrder: true });
    expect(grid.prune?.method).toBe('sparsegpt');
    const byLabel = new Map(candidates.slice(1).map((c) => [c.label, c.recipe]));
    expect([...byLabel.keys()]).toEqual([
      'int8 per channel (GPTQ)',
      'int8 per tensor (GPTQ)',
      'int4 blocks of 32 (GPTQ)',
      'fp16',
      'dynamic int8 (GPTQ)',
      '2:4 sparse + int8 (SparseGPT, GPTQ)',
      '50% channels pruned + int8 (refit, GPTQ)',
    ]);
    const int4 = byLabel.get('int4 blocks of 32 (GPTQ)')!.quantize!;
    expect([int4.bits, int4.granularity, int4.gptq, int4.calibrationSamples]).toEqual([4, 'block', { enabled: true, actOrder: true }, 32]);
    expect(byLabel.get('fp16')!.quantize!.gptq).toBeUndefined();
    const nm = byLabel.get('2:4 sparse + int8 (SparseGPT, GPTQ)')!.prune!;
    expect([nm.pattern, nm.method, nm.calibrationSamples, nm.refit]).toEqual(['2:4', 'sparsegpt', 96, undefined]);
    const channels = byLabel.get('50% channels pruned + int8 (refit, GPTQ)')!.prune!;
    expect([channels.pattern, channels.method, channels.refit, channels.calibrationSamples]).toEqual(['channel', undefined, true, 96]);
  });

  it('stay plain where the panel uses no teacher-guided method', () => {
    useStudio.setState({ pruneOn: false, quantize: { ...DEFAULT_QUANTIZE } });
    useStudio.getState().setSweepSettings({ bits: [8], sparsities: [0], granularities: ['channel'], presets: PRESETS.map((p) => p.label) });
    const presets = useStudio.getState().sweepCandidates().slice(1);
    expect(presets).toEqual(PRESETS);
  });
});

describe('wasm threads', () => {
  it('a new thread count restarts onnxruntime-web with it, sends the data again and the original before the next job', async () => {
    await useStudio.getState().loadEvalEnvironment();
    await useStudio.getState().runSensitivity();
    const sentBefore = setOriginal.mock.calls.length;
    const dataBefore = loadDemoData.mock.calls.length;
    await useStudio.getState().setWasmThreads(2);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(environment).toHaveBeenLastCalledWith(2);
    expect(useStudio.getState().evalEnv?.threads).toBe(2);
    expect(useStudio.getState().evalSettings.threads).toBe(2);
    expect(loadDemoData.mock.calls.length).toBe(dataBefore + 1);
    expect(useStudio.getState().evalData.status).toBe('ready');
    await useStudio.getState().runSensitivity();
    expect(setOriginal.mock.calls.length).toBe(sentBefore + 1);
    await useStudio.getState().setWasmThreads(undefined);
    expect(environment).toHaveBeenLastCalledWith(undefined);
  });

  it('restarting a stalled evaluation worker keeps the thread count, loads the data again, sends the original again', async () => {
    await useStudio.getState().setWasmThreads(2);
    await useStudio.getState().runSensitivity();
    const restarts = restart.mock.calls.length;
    const sentBefore = setOriginal.mock.calls.length;
    const dataBefore = loadDemoData.mock.calls.length;
    await useStudio.getState().restartEvaluation();
    expect(restart.mock.calls.length).toBe(restarts + 1);
    expect(environment).toHaveBeenLastCalledWith(2);
    expect(loadDemoData.mock.calls.length).toBe(dataBefore + 1);
    expect(useStudio.getState().evalData.status).toBe('ready');
    await useStudio.getState().runSensitivity();
    expect(setOriginal.mock.calls.length).toBe(sentBefore + 1);
  });
});
