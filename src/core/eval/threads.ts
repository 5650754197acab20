/** How many threads onnxruntime-web's wasm runs on (the policy shared by the evaluation worker and the lab's control). */

/**
 * The wasm thread count used when none is chosen: half the cores, 1 to 4 (onnxruntime-web's own default).
 * onnxruntime-web runs every session on one global thread pool whose idle threads spin (the session option
 * `allow_spinning` does not reach it), so a thread per core keeps every core busy for as long as a job runs:
 * on a 2-core machine that starved the page and anything else running (measured: 1,000 demo inferences took
 * 4.0 s at 2 threads with both cores busy, 3.0 s at 1 thread with one core busy).
 */
export function defaultWasmThreads(cores: number): number {
  return Math.max(1, Math.min(4, Math.ceil((cores || 1) / 2)));
}

/** Threads onnxruntime-web can use here: multi-threaded wasm needs a cross-origin isolated page (SharedArrayBuffer). */
export function wasmThreads(requested: number | undefined, cores: number, isolated: boolean): number {
  if (!isolated) return 1;
  return requested && requested > 0 ? Math.min(Math.floor(requested), 16) : defaultWasmThreads(cores);
}
