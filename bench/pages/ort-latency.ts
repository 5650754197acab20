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
  }
}

window.timeModel = async (bytes, input, runs) => {
  const session = wrapSession((await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })) as never, (type, data, dims) => new ort.Tensor(type, data as never, dims));
  const n = input.dims.reduce((a, b) => a * b, 1);
  const feeds = { [input.name]: { dtype: 'float32' as const, dims: input.dims, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) } };
  const [stats] = await measureLatency([session], feeds, { runs });
  await session.release();
  return { median: stats!.medianMs, p90: stats!.p90Ms, isolated: crossOriginIsolated };
};
