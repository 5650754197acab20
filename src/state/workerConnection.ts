/** A lazily started, crash-aware comlink connection to a module worker. */
import * as Comlink from 'comlink';

interface Connection<T> {
  worker: Worker;
  api: Comlink.Remote<T>;
  crashed: Promise<never>;
  /** Settles once the fresh worker holds again what the crashed one held (see `restore`). */
  restored: Promise<void>;
}

export interface WorkerConnectionOptions<T> {
  /** Run on a worker started after a crash, before any call: bring back the state the old one held (the open model). */
  restore?: (api: Comlink.Remote<T>) => Promise<void>;
  /** Told of each crash, with its message (the user is told; the worker is restarted on the next call). */
  onCrash?: (message: string) => void;
}

/**
 * A lazily started worker that is recreated after a crash; `call` races each call against the crash.
 * `create` must be `() => new Worker(new URL('…', import.meta.url), { type: 'module' })` written out, so the
 * bundler sees the worker.
 */
export function workerConnection<T>(create: () => Worker, label: string, options: WorkerConnectionOptions<T> = {}) {
  let connection: Connection<T> | undefined;
  let crashedBefore = false;
  function connect(): Connection<T> {
    if (connection) return connection;
    const worker = create();
    const crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        // Forget this worker so the next call starts a fresh one.
        if (connection?.worker === worker) connection = undefined;
        worker.terminate();
        crashedBefore = true;
        const message = `The ${label} stopped unexpectedly${event.message ? `: ${event.message}` : '.'}`;
        reject(new Error(message));
        options.onCrash?.(message);
      });
    });
    // Nobody may be awaiting this promise when the crash happens; that is not an unhandled rejection.
    crashed.catch(() => undefined);
    const api = Comlink.wrap<T>(worker);
    const restored = crashedBefore && options.restore ? Promise.race([options.restore(api), crashed]) : Promise.resolve();
    restored.catch(() => undefined);
    connection = { worker, api, crashed, restored };
    return connection;
  }
  return {
    async call<R>(run: (api: Comlink.Remote<T>) => Promise<R>): Promise<R> {
      const { api, crashed, restored } = connect();
      // A failed restore does not block the call: opening another model must still work.
      await restored.catch(() => undefined);
      return Promise.race([run(api), crashed]);
    },
    /** Stops the worker now (the only sure way to stop a long WASM loop); the next call starts a fresh one. */
    terminate(): void {
      connection?.worker.terminate();
      connection = undefined;
    },
  };
}
