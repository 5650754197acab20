/**
 * The job runner: the newest job under a key wins, an older one is aborted and its result or error dropped, Cancel
 * and an outer signal abort, an aborted job's AbortError is never an error, and keys do not interfere.
 */
import { describe, expect, it, vi } from 'vitest';
import { abortError } from '../protocol/job';
import { createJobRunner } from './jobs';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('job runner', () => {
  it('latest wins: a newer job aborts the older one, whose result is dropped', async () => {
    const jobs = createJobRunner();
    const first = deferred<string>();
    const second = deferred<string>();
    const done = vi.fn();
    let firstSignal: AbortSignal | undefined;
    const a = jobs.run(
      'k',
      (signal) => {
        firstSignal = signal;
        return first.promise;
      },
      { done },
    );
    const b = jobs.run('k', () => second.promise, { done });
    expect(firstSignal?.aborted).toBe(true);
    second.resolve('new');
    first.resolve('old');
    expect(await a).toEqual({ kind: 'superseded' });
    expect(await b).toEqual({ kind: 'done', value: 'new' });
    expect(done.mock.calls).toEqual([['new']]);
  });

  it('the error of a superseded job is dropped too', async () => {
    const jobs = createJobRunner();
    const failed = vi.fn();
    const first = deferred<string>();
    const a = jobs.run('k', () => first.promise, { failed });
    const b = jobs.run('k', async () => 'ok', { failed });
    first.reject(new Error('late failure'));
    expect((await a).kind).toBe('superseded');
    expect((await b).kind).toBe('done');
    expect(failed).not.toHaveBeenCalled();
  });

  it('abort (Cancel) propagates to the signal; the AbortError is reported as cancelled, never as an error', async () => {
    const jobs = createJobRunner();
    const failed = vi.fn();
    const cancelled = vi.fn();
    const settled = jobs.run('k', (signal) => new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(abortError()))), {
      failed,
      cancelled,
    });
    expect(jobs.running('k')).toBe(true);
    jobs.abort('k');
    expect(await settled).toEqual({ kind: 'cancelled' });
    expect(cancelled).toHaveBeenCalledOnce();
    expect(failed).not.toHaveBeenCalled();
    expect(jobs.running('k')).toBe(false);
  });

  it('an AbortError the work threw by itself (a worker gave the job up) is cancelled, not failed', async () => {
    const jobs = createJobRunner();
    const failed = vi.fn();
    const comlinkCarried = Object.assign(new Error('Overtaken by another job'), { name: 'AbortError' });
    expect(await jobs.run('k', () => Promise.reject(comlinkCarried), { failed })).toEqual({ kind: 'cancelled' });
    expect(failed).not.toHaveBeenCalled();
  });

  it('a result that arrives after the abort is dropped', async () => {
    const jobs = createJobRunner();
    const done = vi.fn();
    const work = deferred<number>();
    const settled = jobs.run('k', () => work.promise, { done });
    jobs.abort('k');
    work.resolve(1);
    expect(await settled).toEqual({ kind: 'cancelled' });
    expect(done).not.toHaveBeenCalled();
  });

  it('an outer signal aborts the job', async () => {
    const jobs = createJobRunner();
    const outer = new AbortController();
    let inner: AbortSignal | undefined;
    const settled = jobs.run(
      'k',
      (signal) => {
        inner = signal;
        return new Promise<void>(() => undefined).catch(() => undefined);
      },
      { signal: outer.signal },
    );
    outer.abort();
    expect(inner?.aborted).toBe(true);
    // The work never settles by itself here; the test only checks the propagation.
    void settled;
  });

  it('independent keys do not interfere', async () => {
    const jobs = createJobRunner();
    const a = deferred<string>();
    let aSignal: AbortSignal | undefined;
    const first = jobs.run('a', (signal) => ((aSignal = signal), a.promise));
    const second = jobs.run('b', async () => 'b');
    expect(aSignal?.aborted).toBe(false);
    jobs.abort('b');
    expect(aSignal?.aborted).toBe(false);
    a.resolve('a');
    expect(await first).toEqual({ kind: 'done', value: 'a' });
    expect(await second).toEqual({ kind: 'cancelled' });
  });

  it('supersede forgets the jobs of the given keys: no handler runs', async () => {
    const jobs = createJobRunner();
    const handlers = { done: vi.fn(), failed: vi.fn(), cancelled: vi.fn() };
    const work = deferred<string>();
    const settled = jobs.run('k', () => work.promise, handlers);
    jobs.supersede('k', 'other');
    work.resolve('x');
    expect(await settled).toEqual({ kind: 'superseded' });
    expect(handlers.done).not.toHaveBeenCalled();
    expect(handlers.failed).not.toHaveBeenCalled();
    expect(handlers.cancelled).not.toHaveBeenCalled();
  });
});
