/**
 * The page's one job runner: "latest request wins", written once. `run(key, fn)` aborts the job running under the
 * same key (its AbortSignal; the bridges pass the abort on to the worker, see src/protocol/job), and only the newest
 * job under a key reaches its handlers: a superseded job's result or error is dropped here, and an aborted job's
 * AbortError is never an error (its `cancelled` handler runs instead, unless a newer job replaced it).
 */
import { isAbortError } from '../protocol/job';

export type Settled<T> =
  | { kind: 'done'; value: T }
  | { kind: 'failed'; error: unknown }
  /** Aborted (Cancel, the caller's signal, or the worker gave the job up) and not replaced by a newer job. */
  | { kind: 'cancelled' }
  /** A newer job under the same key replaced it; no handler ran. */
  | { kind: 'superseded' };

export interface RunOptions<T> {
  /** Aborting it aborts the job too (e.g. the caller's own job). */
  signal?: AbortSignal;
  /** Called with the result of the newest job only. */
  done?(value: T): void;
  /** Called with the error of the newest job only (never an AbortError). */
  failed?(error: unknown): void;
  /** Called when the newest job was aborted (Cancel) rather than replaced. */
  cancelled?(): void;
}

export interface JobRunner {
  /** Runs `fn` as the newest job under `key`, aborting the previous one. Never rejects. */
  run<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, options?: RunOptions<T>): Promise<Settled<T>>;
  /** Aborts the job under `key` (Cancel): its `cancelled` handler runs when it settles. */
  abort(key: string): void;
  /** Aborts and forgets the jobs under `keys`: they count as superseded (another model opened), no handler runs. */
  supersede(...keys: string[]): void;
  /** True while a job runs under `key`. */
  running(key: string): boolean;
}

export function createJobRunner(): JobRunner {
  const current = new Map<string, AbortController>();
  const supersedeKey = (key: string) => {
    const controller = current.get(key);
    current.delete(key);
    controller?.abort();
  };
  return {
    async run<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, options: RunOptions<T> = {}): Promise<Settled<T>> {
      supersedeKey(key);
      const controller = new AbortController();
      current.set(key, controller);
      const outer = options.signal;
      const follow = () => controller.abort();
      if (outer?.aborted) controller.abort();
      else outer?.addEventListener('abort', follow, { once: true });
      let settled: Settled<T>;
      try {
        const value = await fn(controller.signal);
        settled = controller.signal.aborted ? { kind: 'cancelled' } : { kind: 'done', value };
      } catch (error) {
        settled = controller.signal.aborted || isAbortError(error) ? { kind: 'cancelled' } : { kind: 'failed', error };
      } finally {
        outer?.removeEventListener('abort', follow);
      }
      if (current.get(key) !== controller) return { kind: 'superseded' };
      current.delete(key);
      if (settled.kind === 'done') options.done?.(settled.value);
      else if (settled.kind === 'failed') options.failed?.(settled.error);
      else options.cancelled?.();
      return settled;
    },
    abort(key: string): void {
      current.get(key)?.abort();
    },
    supersede(...keys: string[]): void {
      for (const key of keys) supersedeKey(key);
    },
    running(key: string): boolean {
      return current.has(key);
    },
  };
}

/** The studio's jobs (one runner for the store, the lab service and the components). */
export const jobs = createJobRunner();
