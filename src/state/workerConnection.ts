/** A lazily started, crash-aware comlink connection to a module worker. */
import * as Comlink from 'comlink';

interface Connection<T> {
  worker: Worker;
  api: Comlink.Remote<T>;
  crashed: Promise<never>;
}

/**
 * A lazily started worker that is recreated after a crash; `call` races each call against the crash.
 * `create` must be `() => new Worker(new URL('…', import.meta.url), { type: 'module' })` written out, so the
 * bundler sees the worker.
 */
export function workerConnection<T>(create: () => Worker, label: string) {
  let connection: Connection<T> | undefined;
  function connect(): Connection<T> {
    if (connection) return connection;
    const worker = create();
    const crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        // Forget this worker so the next call starts a fresh one.
        if (connection?.worker === worker) connection = undefined;
        worker.terminate();
        reject(new Error(`The ${label} stopped unexpectedly${event.message ? `: ${event.message}` : '.'}`));
      });
    });
    // Nobody may be awaiting this promise when the crash happens; that is not an unhandled rejection.
    crashed.catch(() => undefined);
    connection = { worker, api: Comlink.wrap<T>(worker), crashed };
    return connection;
  }
  return {
    call<R>(run: (api: Comlink.Remote<T>) => Promise<R>): Promise<R> {
      const { api, crashed } = connect();
      return Promise.race([run(api), crashed]);
    },
    /** Stops the worker now (the only sure way to stop a long WASM loop); the next call starts a fresh one. */
    terminate(): void {
      connection?.worker.terminate();
      connection = undefined;
    },
  };
}
