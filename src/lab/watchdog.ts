/**
 * A watchdog for worker calls that report progress: when no progress comes for too long, the call is taken as stalled
 * (a worker that will never answer), aborted, and rejected with a StallError so the caller can restart the worker.
 * The allowed silence adapts to the work: `firstMs` before the first tick (sessions being created), then the larger of
 * `idleMs` and the first gap until the second tick, then the larger of `idleMs` and `factor` × the longest gap between
 * ticks, so a slow but steady model is never taken for a stalled one.
 */

export interface StallLimits {
  /** Silence allowed before the first tick. */
  firstMs: number;
  /** Silence allowed between ticks, at least. */
  idleMs: number;
  /** Silence allowed between ticks, as a multiple of the longest gap seen so far. */
  factor: number;
}

export class StallError extends Error {
  constructor(readonly silentMs: number) {
    super(`No progress for ${Math.round(silentMs / 1000)} s`);
    this.name = 'StallError';
  }
}

export function isStallError(err: unknown): err is StallError {
  return err instanceof StallError;
}

/**
 * Runs `run` with a signal of its own (aborted on a stall, or when `signal` aborts) and a `tick` to call on each
 * progress report (false once the call is given up on or settled: the report is then stale). Rejects with a StallError when the silence outlasts the limits, with `signal`'s reason when it aborts.
 */
export function watchProgress<T>(run: (signal: AbortSignal, tick: () => boolean) => Promise<T>, limits: StallLimits, signal?: AbortSignal): Promise<T> {
  const inner = new AbortController();
  let last = Date.now();
  let longest = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled!: (err: unknown) => void;
  // Rejects on a stall, or at once when `signal` aborts (whether or not the call honours its signal).
  const stall = new Promise<never>((_, reject) => (stalled = reject));
  const forward = () => {
    clearTimeout(timer);
    stalled(signal!.reason);
    inner.abort(signal!.reason);
  };
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const error = new StallError(Date.now() - last);
      stalled(error);
      inner.abort(error);
    }, ms);
  };
  let ticks = 0;
  let over = false;
  const tick = (): boolean => {
    if (over) return false; // a late report from a call already given up on: not to be shown
    const now = Date.now();
    const gap = now - last;
    last = now;
    // The first gap holds the setup (sessions created) and one step: it bounds the next step, not the later ones.
    if (ticks++ === 0) arm(Math.max(limits.idleMs, gap));
    else {
      longest = Math.max(longest, gap);
      arm(Math.max(limits.idleMs, limits.factor * longest));
    }
    return true;
  };
  if (!signal?.aborted) arm(limits.firstMs);
  let work: Promise<T>;
  try {
    work = run(inner.signal, tick);
  } catch (err) {
    work = Promise.reject(err);
  }
  // A stalled call may reject later, or never: either way nobody waits for it.
  work.catch(() => undefined);
  return Promise.race([work, stall]).finally(() => {
    over = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  });
}
