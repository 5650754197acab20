/**
 * The teacher's activations: the original model run on calibration data with chosen intermediate tensors exposed
 * as extra graph outputs (on a copy), statistics accumulated sample by sample so memory stays bounded by one
 * sample's captured tensors (or a share of them: `maxTensorsPerRun` splits the tensors over several passes).
 * The runtime is passed in (onnxruntime-node in the CLI and tests, onnxruntime-web in the evaluation worker).
 */
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema } from 'onnx-buf';
import { decodeModel, encodeModel } from '../onnx/codec';
import { runSample } from '../eval/evaluate';
import { tensorValues } from '../eval/data/tensor';
import { modelFiles, type EvalBackend, type EvalDataset, type EvalModel, type EvalRuntime, type EvalSample } from '../eval/types';
import { accumulate, emptyStats, type ActivationStats } from './histogram';

/** The model with `names` added to its main graph's outputs (names already there are kept once). */
export function withExtraOutputs(bytes: Uint8Array, names: readonly string[]): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const present = new Set(graph.output.map((o) => o.name));
  // No type: onnxruntime infers it (as its own calibrators do for intermediate tensors).
  for (const name of names) if (!present.has(name)) graph.output.push(create(ValueInfoProtoSchema, { name }));
  return encodeModel(model);
}

export interface CaptureOptions {
  backend?: EvalBackend;
  /** Split the tensors over several passes of this many (bounds memory on big models). Default: all in one. */
  maxTensorsPerRun?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Each captured tensor's raw values, sample by sample (GPTQ streams them into its Hessians). */
  onTensor?: (name: string, values: Float32Array | Float64Array, dims: readonly number[]) => void;
  /** Accumulate histograms (default true; GPTQ needs only `onTensor`). */
  statistics?: boolean;
}

export interface CaptureResult {
  stats: Map<string, ActivationStats>;
  /** Largest bytes of captured values held at once (one sample's tensors of one pass). */
  peakBytes: number;
  /** Names that cannot be captured: not computed in the main graph (subgraph values, unknown names). */
  unreachable: string[];
  samples: number;
}

/** Runs the teacher over the samples and accumulates statistics of the named tensors. */
export async function captureActivations(
  runtime: EvalRuntime,
  model: EvalModel,
  names: readonly string[],
  samples: readonly EvalSample[],
  options: CaptureOptions = {},
): Promise<CaptureResult> {
  const files = modelFiles(model);
  // onnxruntime refuses a graph output nothing computes: only main-graph values can be exposed (a subgraph's
  // values live in the If/Loop/Scan body and are not reachable from outside).
  const decoded = decodeModel(files.bytes).graph!;
  const computed = new Set([...decoded.input.map((i) => i.name), ...decoded.node.flatMap((n) => n.output)]);
  const unreachable = names.filter((n) => !computed.has(n));
  names = names.filter((n) => computed.has(n));
  const per = Math.max(1, options.maxTensorsPerRun ?? names.length);
  const groups: string[][] = [];
  for (let i = 0; i < names.length; i += per) groups.push(names.slice(i, i + per));
  const stats = new Map<string, ActivationStats>(names.map((n) => [n, emptyStats()]));
  const total = groups.length * samples.length;
  let done = 0;
  let peakBytes = 0;
  const returned = new Set<string>();
  for (const group of groups) {
    options.signal?.throwIfAborted();
    const { session } = await runtime.createSession({ ...files, bytes: withExtraOutputs(files.bytes, group) }, options.backend ?? 'cpu');
    try {
      for (const sample of samples) {
        options.signal?.throwIfAborted();
        const outputs = await runSample(session, sample, 'original');
        let bytes = 0;
        for (const name of group) {
          const t = outputs[name];
          if (!t) continue;
          returned.add(name);
          bytes += t.data.byteLength;
          const values = tensorValues(t);
          if (options.statistics !== false) accumulate(stats.get(name)!, values, t.dims);
          options.onTensor?.(name, values, t.dims);
        }
        peakBytes = Math.max(peakBytes, bytes);
        options.onProgress?.(++done, total);
        // Let a worker see cancellation between samples.
        await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      await session.release();
    }
  }
  for (const n of names) if (!returned.has(n)) unreachable.push(n);
  for (const n of unreachable) stats.delete(n);
  return { stats, peakBytes, unreachable, samples: samples.length };
}

import { DEFAULT_CALIBRATION_SAMPLES } from '../recipe';
export { DEFAULT_CALIBRATION_SAMPLES };

export interface CalibrationSplit {
  calibration: EvalDataset;
  /** The samples calibration did not see: evaluate on these. */
  evaluation: EvalDataset;
}

/**
 * Calibration and evaluation never share a sample: the first `count` samples (the loaders interleave labels, so
 * classes are spread) calibrate, the rest evaluate. When the data has no more than `count` samples, a quarter (at
 * least one) is still held out for evaluation, unless `holdOut` is false (compression alone needs no evaluation).
 */
export function splitCalibration(data: EvalDataset, count = DEFAULT_CALIBRATION_SAMPLES, holdOut = true): CalibrationSplit {
  const n = data.samples.length;
  const take = !holdOut ? Math.min(count, n) : n > count ? count : Math.max(0, n - Math.max(1, Math.floor(n / 4)));
  return {
    calibration: { ...data, name: `${data.name}: calibration ${take}`, samples: data.samples.slice(0, take) },
    evaluation: { ...data, name: `${data.name}: held out ${n - take}`, samples: data.samples.slice(take) },
  };
}
