/**
 * Exposes `window.timeModel(bytes, input, runs)` → median and p90 latency (ms) of onnxruntime-web on wasm (one
 * thread), measured by the evaluation lab's harness.
 */
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { measureLatency } from '../../src/core/eval/latency';
import { wrapSession } from '../../src/runtime/ort-tensors';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.wasm.numThreads = 1;

declare global {
  interface Window {
    timeModel: (bytes: Uint8Array, input: { name: string; dims: number[] }, runs: number) => Promise<{ median: number; p90: number; isolated: boolean }>;
    /** Two models timed interleaved (the lab's harness), so a busy machine slows both alike. */
    timePair: (
      a: Uint8Array,
      b: Uint8Array,
      input: { name: string; dims: number[] },
      runs: number,
    ) => Promise<{ a: { median: number; p90: number; min: number }; b: { median: number; p90: number; min: number } }>;
  }
}

const open = async (bytes: Uint8Array) =>
  wrapSession(
    (await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })) as never,
    (type, data, dims) => new ort.Tensor(type, data as never, dims),
  );

window.timePair = async (a, b, input, runs) => {
  const sessions = [await open(a), await open(b)];
  const n = input.dims.reduce((x, y) => x * y, 1);
  const feeds = { [input.name]: { dtype: 'float32' as const, dims: input.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) } };
  const [sa, sb] = await measureLatency(sessions, feeds, { runs });
  for (const s of sessions) await s.release();
  return { a: { median: sa!.medianMs, p90: sa!.p90Ms, min: sa!.minMs }, b: { median: sb!.medianMs, p90: sb!.p90Ms, min: sb!.minMs } };
};

window.timeModel = async (bytes, input, runs) => {
  const session = wrapSession(
    (await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })) as never,
    (type, data, dims) => new ort.Tensor(type, data as never, dims),
  );
  const n = input.dims.reduce((a, b) => a * b, 1);
  const feeds = { [input.name]: { dtype: 'float32' as const, dims: input.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) } };
  const [stats] = await measureLatency([session], feeds, { runs });
  await session.release();
  return { median: stats!.medianMs, p90: stats!.p90Ms, isolated: crossOriginIsolated };
};
