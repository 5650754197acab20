/**
 * Evaluates many candidates against one original (sweeps, sensitivity): the original's session and its
 * outputs on every sample are computed once; each candidate then runs the samples once and is timed
 * interleaved with the original.
 */
import { accuracyOutput, predictedClass, runSample, type Accuracy } from './evaluate';
import { tensorValues } from './data/tensor';
import { measureLatency, type LatencyStats } from './latency';
import { FidelityAccumulator, type OutputFidelity, type OutputTask } from './metrics';
import {
  modelSize,
  type CreatedSession,
  type EvalBackend,
  type EvalDataset,
  type EvalModel,
  type EvalRuntime,
  type EvalSample,
  type HostTensor,
} from './types';

export interface CandidateOptions {
  backend: EvalBackend;
  samples?: number;
  /** Timed runs per candidate (and of the original alongside it); 0 skips latency. */
  runs?: number;
  warmup?: number;
  tasks?: Record<string, OutputTask>;
  maskThreshold?: number;
}

export interface CandidateMeasure {
  sizeBytes: number;
  fidelity: OutputFidelity[];
  /** Accuracy of the candidate (and of the original, for reference) on the labelled samples. */
  accuracy?: Accuracy;
  latency?: { original: LatencyStats; candidate: LatencyStats };
  loadMs: number;
  cpuNodes: string[];
}

export class CandidateEvaluator {
  private constructor(
    readonly runtime: EvalRuntime,
    private readonly original: CreatedSession,
    private readonly samples: EvalSample[],
    private readonly outputs: Record<string, HostTensor>[],
    private readonly options: CandidateOptions,
    readonly originalBytes: number,
    /** The original's accuracy on the labelled samples, with the output it was read from. */
    readonly originalAccuracy: { value: number; labelled: number; output: string } | undefined,
    readonly tasks: Record<string, OutputTask>,
  ) {}

  static async create(
    runtime: EvalRuntime,
    original: EvalModel,
    data: EvalDataset,
    options: CandidateOptions,
    signal?: AbortSignal,
  ): Promise<CandidateEvaluator> {
    const samples = data.samples.slice(0, options.samples ?? data.samples.length);
    if (samples.length === 0) throw new Error('The evaluation data has no samples.');
    const created = await runtime.createSession(original, options.backend);
    try {
      const outputs: Record<string, HostTensor>[] = [];
      for (const s of samples) {
        if (signal?.aborted) throw new DOMException('Evaluation cancelled', 'AbortError');
        outputs.push(await runSample(created.session, s, 'original'));
      }
      // Tasks from the first sample's outputs (unless the user set them), so every candidate is judged alike.
      const tasks: Record<string, OutputTask> = { ...options.tasks };
      for (const [name, t] of Object.entries(outputs[0]!)) {
        if (!tasks[name]) {
          const a = new FidelityAccumulator(name, undefined, options.maskThreshold);
          const v = tensorValues(t);
          a.add(v, v, t.dims);
          tasks[name] = a.task!;
        }
      }
      let originalAccuracy: CandidateEvaluator['originalAccuracy'];
      const from = accuracyOutput(outputs[0]!, tasks);
      const labelled = samples.filter((s) => s.label !== undefined).length;
      if (from && labelled > 0) {
        let correct = 0;
        samples.forEach((s, i) => {
          if (s.label !== undefined && predictedClass(outputs[i]!, from) === s.label) correct++;
        });
        originalAccuracy = { value: correct / labelled, labelled, output: from };
      }
      return new CandidateEvaluator(runtime, created, samples, outputs, options, modelSize(original), originalAccuracy, tasks);
    } catch (err) {
      await created.session.release();
      throw err;
    }
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  get originalLoadMs(): number {
    return this.original.loadMs;
  }

  async evaluate(candidate: Uint8Array, signal?: AbortSignal, runs = this.options.runs ?? 20): Promise<CandidateMeasure> {
    const created = await this.runtime.createSession(candidate, this.options.backend);
    try {
      const accs = new Map<string, FidelityAccumulator>();
      let correct = 0;
      for (const [i, sample] of this.samples.entries()) {
        if (signal?.aborted) throw new DOMException('Evaluation cancelled', 'AbortError');
        const out = await runSample(created.session, sample, 'compressed');
        for (const [name, ref] of Object.entries(this.outputs[i]!)) {
          const mine = out[name];
          if (!mine) throw new Error(`The candidate model has no output "${name}": it does not match the original.`);
          let a = accs.get(name);
          if (!a) accs.set(name, (a = new FidelityAccumulator(name, this.tasks[name], this.options.maskThreshold)));
          a.add(tensorValues(ref), tensorValues(mine), ref.dims);
        }
        if (sample.label !== undefined && this.originalAccuracy && predictedClass(out, this.originalAccuracy.output) === sample.label) correct++;
      }
      const fidelity = [...accs.values()].map((a) => a.result(this.options.tasks?.[a.name] ? 'user' : 'auto'));
      const accuracy = this.originalAccuracy
        ? {
            original: this.originalAccuracy.value,
            candidate: correct / this.originalAccuracy.labelled,
            labelled: this.originalAccuracy.labelled,
            output: this.originalAccuracy.output,
          }
        : undefined;
      let latency: CandidateMeasure['latency'];
      if (runs > 0) {
        const [o, c] = await measureLatency([this.original.session, created.session], this.samples[0]!.feeds, { runs, warmup: this.options.warmup, signal });
        latency = { original: o!, candidate: c! };
      }
      return { sizeBytes: candidate.byteLength, fidelity, accuracy, latency, loadMs: created.loadMs, cpuNodes: created.cpuNodes };
    } finally {
      await created.session.release();
    }
  }

  /** Latency of the original alone (the sweep's reference point). */
  async originalLatency(signal?: AbortSignal): Promise<LatencyStats | undefined> {
    const runs = this.options.runs ?? 20;
    if (runs <= 0) return undefined;
    // The first measurement of a sweep also warms the engine itself (wasm code is optimised while it runs).
    return (await measureLatency([this.original.session], this.samples[0]!.feeds, { runs, warmup: this.options.warmup, warmupMs: 1000, signal }))[0];
  }

  async release(): Promise<void> {
    await this.original.session.release();
  }
}
