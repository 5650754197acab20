/** Exposes `window.timeModel(bytes, input, runs)` → median and p90 latency (ms) of onnxruntime-web on wasm. */
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.wasm.numThreads = 1;

declare global {
  interface Window {
    timeModel: (bytes: Uint8Array, input: { name: string; dims: number[] }, runs: number) => Promise<{ median: number; p90: number; isolated: boolean }>;
  }
}

window.timeModel = async (bytes, input, runs) => {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const n = input.dims.reduce((a, b) => a * b, 1);
  const feeds = { [input.name]: new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i)), input.dims) };
  for (let w = 0; w < 3; w++) await session.run(feeds);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]!, isolated: crossOriginIsolated };
};
