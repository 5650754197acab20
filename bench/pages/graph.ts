/**
 * Exposes `window.benchGraph(sizes)`: for each size, a synthetic model-shaped graph is laid out in the studio's
 * layout worker (round trip measured here, layout time reported by the worker) and drawn on a 1280×720 canvas with
 * the graph view's own draw function while panning, at "fit" (every node on screen) and at reading scale (labels).
 * Reports draw time per frame, the frame interval, and main-thread long tasks.
 */
import { boxSizes, visibleGraph } from '../../src/core/graph/model';
import { syntheticGraph } from '../../src/core/graph/synthetic';
import { layoutWorker } from '../../src/state/graphBridge';
import { centreView, fitView, GraphPainter, makeScene, readGraphColors, zoomAt, type View } from '../../src/ui/graph/draw';

export interface GraphBenchRow {
  nodes: number;
  engine: string;
  layoutMs: number;
  roundTripMs: number;
  frames: { at: string; drawMedianMs: number; drawMaxMs: number; intervalMedianMs: number; drawn: number }[];
  longTasks: number[];
}

declare global {
  interface Window {
    benchGraph: (sizes: number[]) => Promise<GraphBenchRow[]>;
  }
}

const W = 1280;
const H = 720;
const FRAMES = 90;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const nextFrame = () => new Promise<number>((r) => requestAnimationFrame(r));

window.benchGraph = async (sizes) => {
  const canvas = document.createElement('canvas');
  const ratio = window.devicePixelRatio || 1;
  canvas.width = W * ratio;
  canvas.height = H * ratio;
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d')!;
  const colors = readGraphColors(document.documentElement);
  const rows: GraphBenchRow[] = [];
  for (const n of sizes) {
    const graph = syntheticGraph(n);
    const visible = visibleGraph(graph, new Set());
    const { widths, heights } = boxSizes(graph, visible);
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(Math.round(e.duration))));
    observer.observe({ type: 'longtask', buffered: false });
    const t0 = performance.now();
    const layout = await layoutWorker.layout({ widths: widths.slice(), heights: heights.slice(), edges: visible.edges.slice(), clusters: [] });
    const roundTripMs = performance.now() - t0;
    if (!layout) throw new Error('layout overtaken');
    const scene = makeScene(graph, visible, layout, widths, heights);
    const frames: GraphBenchRow['frames'] = [];
    const mid = Math.floor(visible.ids.length / 2);
    const fit = fitView(layout, W, H);
    const one = centreView(layout.x[mid]!, layout.y[mid]!, 1, W, H);
    // Pan in a circle, as a drag would; then zoom in from "fit" by 5 % a frame (each frame a full redraw).
    const pan = (start: View) => (f: number) => ({ ...start, tx: start.tx + Math.sin(f / 8) * 120, ty: start.ty + Math.cos(f / 8) * 80 });
    const phases: [string, (f: number) => View][] = [
      ['fit, panning', pan(fit)],
      ['1:1 (labels), panning', pan(one)],
      ['zooming in from fit', (f) => zoomAt(fit, 1.05 ** f, W / 2, H / 2)],
    ];
    for (const [at, viewAt] of phases) {
      const draws: number[] = [];
      const intervals: number[] = [];
      let drawn = 0;
      const painter = new GraphPainter();
      const options = { selected: -1, marked: new Set<number>(), expanded: new Set<number>() };
      let last = await nextFrame();
      for (let f = 0; f < FRAMES; f++) {
        const d0 = performance.now();
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        const painted = painter.paint(ctx, W, H, ratio, scene, viewAt(f), colors, options, 0);
        if (painted.drawn >= 0) drawn = painted.drawn;
        draws.push(performance.now() - d0);
        const now = await nextFrame();
        intervals.push(now - last);
        last = now;
      }
      frames.push({ at, drawMedianMs: median(draws), drawMaxMs: Math.max(...draws), intervalMedianMs: median(intervals), drawn });
    }
    observer.disconnect();
    rows.push({ nodes: n, engine: layout.engine, layoutMs: layout.ms, roundTripMs, frames, longTasks });
  }
  canvas.remove();
  return rows;
};
