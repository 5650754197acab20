/** What crosses the bridge to the layout worker (workers/layout.worker.ts). */
import type { LayoutInput, LayoutResult } from '../core/graph/layout';

export type { LayoutInput, LayoutResult };

/** dagre cannot be interrupted: the page aborts a layout by terminating the worker (see src/state/graphBridge). */
export interface LayoutWorkerApi {
  layout(input: LayoutInput): LayoutResult;
}
