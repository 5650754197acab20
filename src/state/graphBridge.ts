/**
 * The typed bridge to the layout worker. Latest request wins (a job, src/state/jobs): a layout cannot be interrupted
 * inside dagre, so aborting one terminates the worker running it (the next call starts a fresh worker) and the
 * request resolves to null at once.
 */
import * as Comlink from 'comlink';
import type { LayoutInput, LayoutResult, LayoutWorkerApi } from '../protocol/layout';
import { jobs } from './jobs';
import { workerConnection } from './workerConnection';

const layoutConnection = workerConnection<LayoutWorkerApi>(
  () => new Worker(new URL('../../workers/layout.worker.ts', import.meta.url), { type: 'module' }),
  'layout worker',
);

const LAYOUT_JOB = 'graph:layout';

export const layoutWorker = {
  /**
   * Resolves to null when a newer request overtook this one or `signal` aborted. Input arrays are transferred
   * (unusable afterwards).
   */
  async layout(input: LayoutInput, signal?: AbortSignal): Promise<LayoutResult | null> {
    const settled = await jobs.run(
      LAYOUT_JOB,
      (job) => {
        job.addEventListener('abort', () => layoutConnection.terminate(), { once: true });
        const transfer = [input.widths.buffer, input.heights.buffer, input.edges.buffer] as ArrayBuffer[];
        return layoutConnection.call((api) => api.layout(Comlink.transfer(input, transfer)), job);
      },
      { signal },
    );
    if (settled.kind === 'failed') throw settled.error;
    return settled.kind === 'done' ? settled.value : null;
  },
};
