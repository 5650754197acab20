/// <reference lib="webworker" />
/** Layout worker: comlink glue around src/core/graph/layout. The result's typed arrays are transferred, not copied. */
import * as Comlink from 'comlink';
import { layoutGraph } from '../src/core/graph/layout';
import type { LayoutInput, LayoutResult, LayoutWorkerApi } from '../src/protocol/layout';

const api: LayoutWorkerApi = {
  layout(input: LayoutInput): LayoutResult {
    const result = layoutGraph(input);
    return Comlink.transfer(result, [result.x.buffer, result.y.buffer, result.points.buffer, result.offsets.buffer, result.clusterBoxes.buffer]);
  },
};

Comlink.expose(api);
