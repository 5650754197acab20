import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isStallError, StallError, watchProgress } from './watchdog';

const limits = { firstMs: 1000, idleMs: 100, factor: 3 };

/** A call that never answers; `tick` and its signal are handed out for the test to drive. */
function hanging() {
  const handle: { tick: () => void; signal: AbortSignal | null } = { tick: () => undefined, signal: null };
  const run = (signal: AbortSignal, tick: () => void) => {
    handle.tick = tick;
    handle.signal = signal;
    return new Promise<never>(() => undefined);
  };
  return { handle, run };
}

/** What `p` has settled to so far ('pending' until then); read it after advancing the fake clock. */
function track<T>(p: Promise<T>): { now: { value?: T; error?: unknown } | 'pending' } {
  const state: { now: { value?: T; error?: unknown } | 'pending' } = { now: 'pending' };
  p.then(
    (value) => (state.now = { value }),
    (error: unknown) => (state.now = { error }),
  );
  return state;
}

describe('watchProgress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('before the first tick, waits firstMs; then rejects with a StallError and aborts the call', async () => {
    const { handle, run } = hanging();
    const p = track(watchProgress(run, limits));
    await vi.advanceTimersByTimeAsync(999);
    expect(p.now).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(p.now).not.toBe('pending');
    const error = (p.now as { error: unknown }).error;
    expect(isStallError(error)).toBe(true);
    expect((error as StallError).silentMs).toBe(1000);
    expect(handle.signal!.aborted).toBe(true);
    expect(handle.signal!.reason).toBe(error);
  });

  it('after the first tick, allows max(idleMs, the first gap); then max(idleMs, factor × the longest gap between ticks)', async () => {
    const { handle, run } = hanging();
    const p = track(watchProgress(run, limits));
    await vi.advanceTimersByTimeAsync(800);
    handle.tick(); // the first gap (setup + one step): 800 ms allowed for the next step
    await vi.advanceTimersByTimeAsync(790);
    handle.tick(); // gap 790 between ticks: allowed max(100, 3 × 790)
    await vi.advanceTimersByTimeAsync(20);
    handle.tick(); // still 3 × 790 = 2370 (the longest gap so far)
    await vi.advanceTimersByTimeAsync(2369);
    expect(p.now).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(isStallError((p.now as { error: unknown }).error)).toBe(true);
  });

  it('a long setup does not stretch the wait between quick steps', async () => {
    const { handle, run } = hanging();
    const p = track(watchProgress(run, limits));
    await vi.advanceTimersByTimeAsync(900);
    handle.tick();
    await vi.advanceTimersByTimeAsync(10);
    handle.tick(); // gaps of 10 ms: allowed max(100, 30) = 100
    await vi.advanceTimersByTimeAsync(99);
    expect(p.now).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((p.now as { error: StallError }).error.silentMs).toBe(100);
  });

  it('passes the answer through and stops watching; a late tick is reported stale', async () => {
    let late: (() => boolean) | undefined;
    const p = watchProgress(async (_signal, tick) => {
      expect(tick()).toBe(true);
      late = tick;
      return 42;
    }, limits);
    expect(await p).toBe(42);
    expect(vi.getTimerCount()).toBe(0);
    expect(late!()).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an abort of the caller rejects with its reason at once, even if the call ignores its signal', async () => {
    const { handle, run } = hanging();
    const controller = new AbortController();
    const p = track(watchProgress(run, limits, controller.signal));
    const reason = new DOMException('stop', 'AbortError');
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(p.now).toEqual({ error: reason });
    expect(handle.signal!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call that throws at once rejects with its error', async () => {
    const error = new Error('no worker');
    await expect(
      watchProgress(() => {
        throw error;
      }, limits),
    ).rejects.toBe(error);
  });
});
