/**
 * Every call into onnxruntime-web in this worker, one at a time. Its wasm (the asyncify build, for WebGPU) is not
 * re-entrant: a session must not be created or run while another call is suspended inside it. That happened when a
 * cancelled job was still inside run() as the next job started, or the environment probe ran beside a job. Calls
 * queue here instead.
 */
let ortQueue: Promise<unknown> = Promise.resolve();
export function serialOrt<T>(call: () => Promise<T>): Promise<T> {
  const next = ortQueue.then(call, call);
  ortQueue = next.catch(() => undefined);
  return next;
}
