/// <reference lib="webworker" />
/** Layout worker: comlink glue around src/core/graph/layout. The result's typed arrays are transferred, not copied. */
import * as Comlink from 'comlink';
import { layoutGraph, type LayoutInput, type LayoutResult } from '../src/core/graph/layout';

const api = {
  layout(input: LayoutInput): LayoutResult {
    const result = layoutGraph(input);
    return Comlink.transfer(result, [result.x.buffer, result.y.buffer, result.points.buffer, result.offsets.buffer, result.clusterBoxes.buffer]);
  },
};

export type LayoutWorkerApi = typeof api;
Comlink.expose(api);
