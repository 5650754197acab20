/**
 * Runs an original and a candidate model side by side on each backend asked for: fidelity of the
 * candidate against the original on the same backend, accuracy when the data is labelled, latency
 * (interleaved), and a cross-backend check of every backend's outputs against the first one's.
 */
import { tensorValues } from './data/tensor';
import { measureLatency, type LatencyStats } from './latency';
import { argmaxRows, FidelityAccumulator, type OutputFidelity, type OutputTask } from './metrics';
import {
  modelSize,
  type CreatedSession,
  type EvalBackend,
  type EvalDataset,
  type EvalModel,
  type EvalRuntime,
  type EvalSample,
  type EvalSession,
  type HostTensor,
} from './types';

export interface EvaluationOptions {
  /** Backends to run on, in order; the first available one is the reference of the cross-backend check. */
  backends: EvalBackend[];
  /** Use at most this many samples (default: all). */
  samples?: number;
  /** Timed runs per model and backend (default 20); 0 skips latency. */
  runs?: number;
  warmup?: number;
  /** Task per output name, overriding the one inferred from shape and values. */
  tasks?: Record<string, OutputTask>;
  maskThreshold?: number;
  /** A backend whose outputs differ from the reference beyond these is flagged (defaults 0.999 and 1 %). */
  crossCheck?: { minCosine?: number; maxRelError?: number };
  signal?: AbortSignal;
  onProgress?: (progress: EvalProgress) => void;
}

export interface EvalProgress {
  phase: 'loading' | 'fidelity' | 'latency';
  backend: EvalBackend;
  done: number;
  total: number;
}

export interface Accuracy {
  original: number;
  candidate: number;
  /** Samples with a label that the score counts. */
  labelled: number;
  /** The output the predicted class was read from. */
  output: string;
}

export interface BackendEvaluation {
  backend: EvalBackend;
  available: boolean;
  /** Why the backend could not run (no adapter, an op or dtype it refused). */
  error?: string;
  loadMs?: { original: number; candidate: number };
  latency?: { original: LatencyStats; candidate: LatencyStats };
  /** Nodes the runtime ran on the CPU instead of this backend. */
  cpuNodes?: { original: string[]; candidate: string[] };
  notes?: string[];
  fidelity?: OutputFidelity[];
  accuracy?: Accuracy;
}

export interface CrossBackendOutput {
  name: string;
  cosine: number;
  maxAbs: number;
  /** maxAbs relative to the reference's largest |value|. */
  relError: number;
  top1Agreement?: number;
}

export interface CrossBackendCheck {
  model: 'original' | 'candidate';
  backend: EvalBackend;
  reference: EvalBackend;
  outputs: CrossBackendOutput[];
  /** False when any output differs beyond tolerance: do not trust this backend's numbers for this model. */
  agrees: boolean;
  tolerance: { minCosine: number; maxRelError: number };
}

export interface EvaluationReport {
  runtime: string;
  dataset: { name: string; description: string; samples: number; synthetic: boolean; labelled: number };
  sizes: { original: number; candidate: number };
  backends: BackendEvaluation[];
  crossBackend: CrossBackendCheck[];
  ms: number;
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DOMException('Evaluation cancelled', 'AbortError');
}

export function isAbortError(err: unknown): boolean {
  return (err instanceof DOMException || err instanceof Error) && err.name === 'AbortError';
}

/**
 * Runs one sample, turning a runtime failure into a message that says which model, which sample and which input
 * shapes — and, for generated inputs, that their dynamic sizes are guesses the person can set.
 */
export async function runSample(session: EvalSession, sample: EvalSample, role: 'original' | 'compressed'): Promise<Record<string, HostTensor>> {
  try {
    return await session.run(sample.feeds);
  } catch (err) {
    const shapes = Object.entries(sample.feeds)
      .map(([name, t]) => `${name} ${t.dims.length ? t.dims.join('×') : 'scalar'}`)
      .join(', ');
    const hint = sample.id.startsWith('synthetic')
      ? ' Synthetic inputs use 1 for the batch and 32 for other dynamic dimensions: set the sizes the model expects (the dimension fields in the studio, --dims in the CLI), or use real data.'
      : '';
    throw new Error(`onnxruntime could not run the ${role} model on ${sample.id} (${shapes}): ${err instanceof Error ? err.message : String(err)}.${hint}`);
  }
}

/** The class a model predicted for one sample: argmax of a class-score output, or an integer output read as is. */
export function predictedClass(outputs: Record<string, HostTensor>, name: string): number | undefined {
  const t = outputs[name];
  if (!t) return undefined;
  const values = tensorValues(t);
  const cols = t.dims[t.dims.length - 1] ?? 1;
  if (t.dims.length >= 2 && cols >= 2) return argmaxRows(values.subarray(0, cols), cols)[0];
  if (values.length === 1 && Number.isInteger(values[0])) return values[0];
  return undefined;
}

/** The output accuracy is read from: the first classification output, else the first integer one-per-sample output. */
export function accuracyOutput(outputs: Record<string, HostTensor>, tasks: Record<string, OutputTask>): string | undefined {
  const names = Object.keys(outputs);
  return names.find((n) => tasks[n] === 'classification') ?? names.find((n) => outputs[n]!.data.length === 1 && !(outputs[n]!.data instanceof Float32Array));
}

interface Pair {
  backend: EvalBackend;
  original: CreatedSession;
  candidate: CreatedSession;
}

/** Fidelity, accuracy and cross-backend accumulators for one pass over the samples. */
async function fidelityPass(pairs: Pair[], samples: EvalSample[], options: EvaluationOptions, reference: Pair | undefined) {
  const threshold = options.maskThreshold ?? 0.5;
  const accumulators = pairs.map(() => new Map<string, FidelityAccumulator>());
  const correct = pairs.map(() => ({ original: 0, candidate: 0, labelled: 0 }));
  let accuracyFrom: string | undefined;
  const cross = pairs.map(() => ({
    original: new Map<string, FidelityAccumulator>(),
    candidate: new Map<string, FidelityAccumulator>(),
    absMax: new Map<string, number>(),
  }));
  const tasks: Record<string, OutputTask> = { ...options.tasks };
  const acc = (map: Map<string, FidelityAccumulator>, name: string) => {
    let a = map.get(name);
    if (!a) map.set(name, (a = new FidelityAccumulator(name, options.tasks?.[name], threshold)));
    return a;
  };
  let referenceOut: { original: Record<string, HostTensor>; candidate: Record<string, HostTensor> } | undefined;
  for (const [si, sample] of samples.entries()) {
    abortIfNeeded(options.signal);
    for (const [pi, pair] of pairs.entries()) {
      const original = await runSample(pair.original.session, sample, 'original');
      const candidate = await runSample(pair.candidate.session, sample, 'compressed');
      for (const name of pair.original.session.outputNames) {
        const a = original[name]!;
        const b = candidate[name];
        if (!b) throw new Error(`The candidate model has no output "${name}": it does not match the original.`);
        const f = acc(accumulators[pi]!, name);
        f.add(tensorValues(a), tensorValues(b), a.dims);
        if (f.task) tasks[name] ??= f.task;
      }
      if (pair === reference) referenceOut = { original, candidate };
      else if (referenceOut) {
        for (const model of ['original', 'candidate'] as const) {
          const mine = model === 'original' ? original : candidate;
          for (const name of pair.original.session.outputNames) {
            const ref = tensorValues(referenceOut[model][name]!);
            acc(cross[pi]![model], name).add(ref, tensorValues(mine[name]!), referenceOut[model][name]!.dims);
            let m = cross[pi]!.absMax.get(`${model}:${name}`) ?? 0;
            for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]!));
            cross[pi]!.absMax.set(`${model}:${name}`, m);
          }
        }
      }
      if (sample.label !== undefined) {
        accuracyFrom ??= accuracyOutput(original, tasks);
        if (accuracyFrom) {
          const c = correct[pi]!;
          c.labelled++;
          if (predictedClass(original, accuracyFrom) === sample.label) c.original++;
          if (predictedClass(candidate, accuracyFrom) === sample.label) c.candidate++;
        }
      }
    }
    options.onProgress?.({ phase: 'fidelity', backend: pairs[0]!.backend, done: si + 1, total: samples.length });
  }
  return { accumulators, correct, accuracyFrom, cross };
}

/** Evaluates `candidate` against `original` (model bytes, or files with external data) on `data` with `runtime`. */
export async function evaluateModels(
  runtime: EvalRuntime,
  original: EvalModel,
  candidate: EvalModel,
  data: EvalDataset,
  options: EvaluationOptions,
): Promise<EvaluationReport> {
  const started = performance.now();
  const samples = data.samples.slice(0, options.samples ?? data.samples.length);
  if (samples.length === 0) throw new Error('The evaluation data has no samples.');
  const results: BackendEvaluation[] = [];
  const pairs: Pair[] = [];
  try {
    for (const backend of options.backends) {
      abortIfNeeded(options.signal);
      options.onProgress?.({ phase: 'loading', backend, done: 0, total: 2 });
      let o: CreatedSession | undefined;
      try {
        o = await runtime.createSession(original, backend);
        const c = await runtime.createSession(candidate, backend);
        pairs.push({ backend, original: o, candidate: c });
        results.push({
          backend,
          available: true,
          loadMs: { original: o.loadMs, candidate: c.loadMs },
          cpuNodes: { original: o.cpuNodes, candidate: c.cpuNodes },
          notes: [...new Set([...o.notes, ...c.notes])],
        });
      } catch (err) {
        await o?.session.release();
        if (isAbortError(err)) throw err;
        results.push({ backend, available: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (pairs.length === 0) throw new Error(`No backend could run the models: ${results.map((r) => `${r.backend}: ${r.error}`).join('; ')}`);
    const reference = pairs[0];
    const pass = await fidelityPass(pairs, samples, options, reference);
    const minCosine = options.crossCheck?.minCosine ?? 0.999;
    const maxRelError = options.crossCheck?.maxRelError ?? 0.01;
    const crossBackend: CrossBackendCheck[] = [];
    for (const [pi, pair] of pairs.entries()) {
      const result = results.find((r) => r.backend === pair.backend)!;
      result.fidelity = [...pass.accumulators[pi]!.values()].map((a) => a.result());
      const c = pass.correct[pi]!;
      if (c.labelled > 0 && pass.accuracyFrom)
        result.accuracy = { original: c.original / c.labelled, candidate: c.candidate / c.labelled, labelled: c.labelled, output: pass.accuracyFrom };
      if (pair === reference) continue;
      for (const model of ['original', 'candidate'] as const) {
        const outputs = [...pass.cross[pi]![model].values()].map((a) => {
          const r = a.result();
          const absMax = pass.cross[pi]!.absMax.get(`${model}:${r.name}`) ?? 0;
          return { name: r.name, cosine: r.cosine, maxAbs: r.maxAbs, relError: absMax > 0 ? r.maxAbs / absMax : r.maxAbs, top1Agreement: r.top1Agreement };
        });
        crossBackend.push({
          model,
          backend: pair.backend,
          reference: reference!.backend,
          outputs,
          agrees: outputs.every((o) => o.cosine >= minCosine && o.relError <= maxRelError),
          tolerance: { minCosine, maxRelError },
        });
      }
    }
    const runs = options.runs ?? 20;
    if (runs > 0) {
      for (const pair of pairs) {
        abortIfNeeded(options.signal);
        const [lo, lc] = await measureLatency([pair.original.session, pair.candidate.session], samples[0]!.feeds, {
          runs,
          warmup: options.warmup,
          signal: options.signal,
          onProgress: (done, total) => options.onProgress?.({ phase: 'latency', backend: pair.backend, done, total }),
        });
        results.find((r) => r.backend === pair.backend)!.latency = { original: lo!, candidate: lc! };
      }
    }
    const labelled = samples.filter((s) => s.label !== undefined).length;
    return {
      runtime: runtime.name,
      dataset: { name: data.name, description: data.description, samples: samples.length, synthetic: data.synthetic, labelled },
      sizes: { original: modelSize(original), candidate: modelSize(candidate) },
      backends: results,
      crossBackend,
      ms: performance.now() - started,
    };
  } finally {
    for (const p of pairs) {
      await p.original.session.release();
      await p.candidate.session.release();
    }
  }
}

export type { EvalSession };
