/**
 * The job protocol shared by the page and the workers. Every cancellable worker call carries a job id chosen by the
 * page; aborting the page's AbortSignal sends `abortJob(id)` to the worker, which aborts the AbortSignal it handed to
 * the job. An aborted job rejects with an AbortError (on both sides), never resolves to a sentinel such as null.
 */

/** Chosen by the page, unique for the page's lifetime (across worker restarts). */
export type JobId = number;

/** What every worker with cancellable calls implements. */
export interface JobControl {
  /** Aborts job `id` if it runs (or when it starts, should the abort overtake it). */
  abortJob(id: JobId): void;
}

export function abortError(message = 'Cancelled'): Error {
  return Object.assign(new Error(message), { name: 'AbortError' });
}

/** True for the AbortError of an aborted job (a DOMException here, a plain Error after comlink carried it). */
export function isAbortError(err: unknown): boolean {
  return (err instanceof Error || err instanceof DOMException) && err.name === 'AbortError';
}

/**
 * `promise`, or an AbortError as soon as `signal` aborts (at once when it already has); `onAbort` runs then (the page
 * tells the worker). The promise itself goes on, its outcome ignored.
 */
export function abortable<R>(promise: Promise<R>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<R> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    onAbort?.();
    return Promise.reject(abortError());
  }
  return new Promise<R>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(abortError());
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/**
 * The worker side: one AbortController per running job id. `run` hands the job its signal and forgets it when it
 * settles; an abort that arrives before the job started is remembered (a few ids) so the job starts aborted.
 * `exclusive`: a job starting aborts the one running (the evaluation worker runs one job at a time).
 */
export function workerJobs(options: { exclusive?: boolean } = {}) {
  const running = new Map<JobId, AbortController>();
  const abortedEarly = new Set<JobId>();
  return {
    abort(id: JobId): void {
      const controller = running.get(id);
      if (controller) controller.abort(abortError());
      else {
        abortedEarly.add(id);
        if (abortedEarly.size > 64) abortedEarly.delete(abortedEarly.values().next().value!);
      }
    },
    /** Runs `work` as job `id`; rejects with an AbortError when the job was aborted, whatever `work` threw. */
    async run<T>(id: JobId, work: (signal: AbortSignal) => Promise<T> | T): Promise<T> {
      if (options.exclusive) for (const c of running.values()) c.abort(abortError('Overtaken by another job'));
      const controller = new AbortController();
      if (abortedEarly.delete(id)) controller.abort(abortError());
      running.set(id, controller);
      try {
        controller.signal.throwIfAborted();
        const result = await work(controller.signal);
        controller.signal.throwIfAborted();
        return result;
      } catch (err) {
        if (controller.signal.aborted || isAbortError(err)) throw abortError(isAbortError(err) && err instanceof Error ? err.message : undefined);
        throw err;
      } finally {
        if (running.get(id) === controller) running.delete(id);
      }
    },
    /** Aborts every running job (another model opened). */
    abortAll(): void {
      for (const c of running.values()) c.abort(abortError());
    },
  };
}
