/**
 * The typed bridge to the layout worker. Latest request wins: a layout cannot be interrupted inside dagre, so a
 * newer request terminates the worker running an older one (the next call starts a fresh worker) and the older
 * request resolves to null at once.
 */
import * as Comlink from 'comlink';
import type { LayoutInput, LayoutResult } from '../core/graph/layout';
import type { LayoutWorkerApi } from '../../workers/layout.worker';
import { workerConnection } from './workerConnection';

const layoutConnection = workerConnection<LayoutWorkerApi>(
  () => new Worker(new URL('../../workers/layout.worker.ts', import.meta.url), { type: 'module' }),
  'layout worker',
);

/** Ends the request in flight (resolving it to null), if any. */
let supersede: (() => void) | undefined;

export const layoutWorker = {
  /** Resolves to null when a newer request overtook this one. Input arrays are transferred (unusable afterwards). */
  async layout(input: LayoutInput): Promise<LayoutResult | null> {
    if (supersede) {
      supersede();
      layoutConnection.terminate();
    }
    const overtaken = new Promise<null>((resolve) => (supersede = () => resolve(null)));
    const mine = supersede;
    try {
      const transfer = [input.widths.buffer, input.heights.buffer, input.edges.buffer] as ArrayBuffer[];
      const result = await Promise.race([layoutConnection.call((api) => api.layout(Comlink.transfer(input, transfer))), overtaken]);
      return result;
    } finally {
      if (supersede === mine) supersede = undefined;
    }
  },
};
