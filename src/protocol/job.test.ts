/** The worker side of the job protocol: abort by id, an abort that overtakes its job, and one job at a time. */
import { describe, expect, it } from 'vitest';
import { isAbortError, workerJobs } from './job';

describe('workerJobs', () => {
  it('abort(id) aborts the signal the job was given, and the job rejects with an AbortError whatever it threw', async () => {
    const jobs = workerJobs();
    let seen: AbortSignal | undefined;
    const run = jobs.run(1, (signal) => {
      seen = signal;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('some core error'))));
    });
    jobs.abort(1);
    expect(seen?.aborted).toBe(true);
    const err = await run.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
  });

  it('an abort that arrives before its job starts it aborted; other ids are untouched', async () => {
    const jobs = workerJobs();
    jobs.abort(7);
    await expect(jobs.run(7, async () => 'never')).rejects.toMatchObject({ name: 'AbortError' });
    await expect(jobs.run(8, async () => 'ok')).resolves.toBe('ok');
  });

  it('a result finished after the abort is not delivered', async () => {
    const jobs = workerJobs();
    let finish!: () => void;
    const run = jobs.run(2, () => new Promise<string>((resolve) => (finish = () => resolve('late'))));
    jobs.abort(2);
    finish();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('exclusive: a job starting aborts the one running (the evaluation worker)', async () => {
    const jobs = workerJobs({ exclusive: true });
    const first = jobs.run(1, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const second = jobs.run(2, async () => 'second');
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect(second).resolves.toBe('second');
  });

  it('errors of jobs not aborted pass through', async () => {
    const jobs = workerJobs();
    await expect(jobs.run(3, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
