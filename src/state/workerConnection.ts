/** A lazily started, crash-aware comlink connection to a module worker, with cancellable jobs (src/protocol/job). */
import * as Comlink from 'comlink';
import { abortable, type JobControl, type JobId } from '../protocol/job';

/**
 * A progress callback for a worker call, handed over as a comlink proxy that goes quiet once the call settles. Progress
 * and the answer travel on different message ports, so the last reports can arrive after the answer: without this they
 * would overwrite what the answer showed (a finished report shown as "Comparing…" again, for good).
 */
export async function withProgress<A extends unknown[], R>(onProgress: (...args: A) => void, run: (progress: (...args: A) => void) => Promise<R>): Promise<R> {
  let live = true;
  try {
    return await run(
      Comlink.proxy((...args: A) => {
        if (live) onProgress(...args);
      }),
    );
  } finally {
    live = false;
  }
}

/** Job ids are unique for the page's lifetime, across workers and their restarts. */
let lastJobId = 0;
export function nextJobId(): JobId {
  return ++lastJobId;
}

interface Connection<T> {
  worker: Worker;
  api: Comlink.Remote<T>;
  crashed: Promise<never>;
  /** Rejects `crashed`: the calls still waiting on a worker that is terminated end with this error. */
  drop: (error: Error) => void;
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
  /** Names the worker running or the next to start: increases whenever one is dropped (crash, terminate). */
  let generation = 0;
  function connect(): Connection<T> {
    if (connection) return connection;
    const worker = create();
    let drop!: (error: Error) => void;
    const crashed = new Promise<never>((_, reject) => {
      drop = reject;
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        // Forget this worker so the next call starts a fresh one.
        if (connection?.worker === worker) {
          connection = undefined;
          generation++;
        }
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
    connection = { worker, api, crashed, drop, restored };
    return connection;
  }
  async function call<R>(run: (api: Comlink.Remote<T>) => Promise<R>, signal?: AbortSignal): Promise<R> {
    signal?.throwIfAborted();
    const { api, crashed, restored } = connect();
    // A failed restore does not block the call: opening another model must still work.
    await restored.catch(() => undefined);
    return abortable(Promise.race([run(api), crashed]), signal);
  }
  return {
    /** A call; with `signal`, its result is dropped (an AbortError instead) once the signal aborts. */
    call,
    /**
     * A cancellable call (src/protocol/job): `run` sends `id` with the request; aborting `signal` rejects at once with
     * an AbortError and sends `abortJob(id)` to the worker, which stops the job at its next check.
     */
    job<R>(signal: AbortSignal | undefined, run: (api: Comlink.Remote<T>, id: JobId) => Promise<R>): Promise<R> {
      const id = nextJobId();
      return call((api) => {
        const abort = () => void (api as unknown as Comlink.Remote<JobControl>).abortJob(id).catch(() => undefined);
        return abortable(run(api, id), signal, abort);
      }, signal);
    },
    /** Changes when the worker is dropped: the next one holds nothing the page sent the old one. */
    get generation() {
      return generation;
    },
    /**
     * Stops the worker now (the only sure way to stop a long WASM loop); the next call starts a fresh one. Calls still
     * waiting on it reject (a terminated worker never answers).
     */
    terminate(): void {
      if (!connection) return;
      connection.worker.terminate();
      connection.drop(new Error(`The ${label} was restarted before it answered.`));
      connection = undefined;
      generation++;
    },
  };
}
