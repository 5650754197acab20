/**
 * `npm run bench` section for the graph view: layout time (dagre and the fast layered layout, in Node, and the
 * layout worker's round trip in Chromium) and frame time while panning 1k / 10k-node graphs.
 */
import { layoutGraph, type LayoutInput } from '../src/core/graph/layout';
import { boxSizes, visibleGraph } from '../src/core/graph/model';
import { syntheticGraph } from '../src/core/graph/synthetic';
import { withBenchPage } from './browser';
import type { GraphBenchRow } from './pages/graph';

function input(n: number, engine: 'dagre' | 'fast'): LayoutInput {
  const graph = syntheticGraph(n);
  const visible = visibleGraph(graph, new Set());
  const { widths, heights } = boxSizes(graph, visible);
  return { widths, heights, edges: visible.edges, clusters: [], engine };
}

function print(title: string, headers: string[], rows: string[][]): void {
  console.log(`\n${title}`);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
}

export async function benchGraph(): Promise<void> {
  // dagre at 10,000 nodes is left out: ~27 s with its cheapest ranker on this box, and its recursive passes
  // overflow Node's default stack on chains that deep (measured when choosing the library).
  const cases: [number, 'dagre' | 'fast'][] = [
    [1000, 'dagre'],
    [1000, 'fast'],
    [10000, 'fast'],
  ];
  const rows = cases.map(([n, engine]) => {
    const times: number[] = [];
    for (let run = 0; run < (engine === 'dagre' ? 2 : 5); run++) times.push(layoutGraph(input(n, engine)).ms);
    times.sort((a, b) => a - b);
    return [String(n), engine, times[0]!.toFixed(0), times[Math.floor(times.length / 2)]!.toFixed(0)];
  });
  print('Graph layout in Node (synthetic residual-block graphs; target < 2,000 ms for 10k in a worker)', ['nodes', 'engine', 'best ms', 'median ms'], rows);

  const result = await withBenchPage(
    'bench/pages/graph.html',
    'benchGraph',
    (page) => page.evaluate((sizes) => window.benchGraph(sizes), [1000, 10000]) as Promise<GraphBenchRow[]>,
  );
  if (typeof result === 'string') {
    console.log(result);
    return;
  }
  print(
    'Graph view in headless Chromium: layout worker round trip, then 90 frames of panning on a 1280×720 canvas (target: no long task > 50 ms)',
    ['nodes', 'engine', 'worker layout ms', 'round trip ms', 'view', 'nodes drawn', 'draw median ms', 'draw max ms', 'frame interval ms', 'long tasks'],
    result.flatMap((r) =>
      r.frames.map((f, i) => [
        String(r.nodes),
        r.engine,
        i === 0 ? r.layoutMs.toFixed(0) : '',
        i === 0 ? r.roundTripMs.toFixed(0) : '',
        f.at,
        String(f.drawn),
        f.drawMedianMs.toFixed(2),
        f.drawMaxMs.toFixed(2),
        f.intervalMedianMs.toFixed(1),
        i === 0 ? (r.longTasks.length ? JSON.stringify(r.longTasks) : 'none') : '',
      ]),
    ),
  );
}
