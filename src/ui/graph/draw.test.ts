import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { layoutGraph } from '../../core/graph/layout';
import { boxSizes, visibleGraph } from '../../core/graph/model';
import { syntheticGraph } from '../../core/graph/synthetic';
import { CACHE_MIN_NODES, fitView, GraphPainter, makeScene, zoomAt, type GraphColors, type Scene, type View } from './draw';

/** A 2D context that records what each frame did: boxes filled (`rect`) and pictures copied (`drawImage`). */
function recordingContext() {
  const calls = { rect: 0, drawImage: 0 };
  const ctx = new Proxy({} as Record<string | symbol, unknown>, {
    get(target, key) {
      if (key === 'calls') return calls;
      if (key === 'rect' || key === 'drawImage') return () => void calls[key]++;
      if (key in target) return target[key];
      return () => undefined;
    },
    set(target, key, value) {
      target[key] = value;
      return true;
    },
  });
  return ctx as unknown as CanvasRenderingContext2D & { calls: typeof calls };
}

/** OffscreenCanvas for Node: one shared recording context, so the test sees what was drawn into the picture. */
let pictureContext = recordingContext();
class FakeOffscreenCanvas {
  width = 1;
  height = 1;
  getContext() {
    return pictureContext;
  }
}

function scene(ops: number): Scene {
  const graph = syntheticGraph(ops);
  const visible = visibleGraph(graph, new Set());
  const { widths, heights } = boxSizes(graph, visible);
  const layout = layoutGraph({ widths, heights, edges: visible.edges.slice(), clusters: [] });
  return makeScene(graph, visible, layout, widths, heights);
}

const colors = new Proxy({} as GraphColors, { get: () => '#000' });
const options = { selected: -1, marked: new Set<number>(), expanded: new Set<number>() };
const W = 800;
const H = 600;

describe('GraphPainter', () => {
  const saved = (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas;
  beforeEach(() => {
    pictureContext = recordingContext();
    (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas = FakeOffscreenCanvas;
  });
  afterEach(() => {
    (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas = saved;
  });

  it('big graphs: zoom frames draw straight to the screen; the first pan frame draws the picture, later ones copy it', () => {
    const big = scene(CACHE_MIN_NODES * 2);
    const painter = new GraphPainter();
    const screen = recordingContext();
    const frame = (view: View, version = 0) => {
      const before = { ...screen.calls };
      const picture = pictureContext.calls.rect;
      const result = painter.paint(screen, W, H, 1, big, view, colors, options, version);
      return {
        ...result,
        boxesOnScreen: screen.calls.rect - before.rect,
        copies: screen.calls.drawImage - before.drawImage,
        boxesInPicture: pictureContext.calls.rect - picture,
      };
    };
    const fit = zoomAt(fitView(big.layout, W, H), 40, W / 2, H / 2);

    // First frame (nothing to compare with) and every zoom step: a direct drawing, no picture.
    const first = frame(fit);
    expect(first).toMatchObject({ cached: false, copies: 0, boxesInPicture: 0 });
    expect(first.boxesOnScreen).toBeGreaterThan(0);
    const zoomed = zoomAt(fit, 1.1, W / 2, H / 2);
    expect(frame(zoomed)).toMatchObject({ cached: false, copies: 0, boxesInPicture: 0 });

    // Same zoom, moved: the picture (twice the viewport) is drawn once and copied.
    const pan1 = { ...zoomed, tx: zoomed.tx + 30 };
    const started = frame(pan1);
    expect(started).toMatchObject({ cached: false, copies: 1, boxesOnScreen: 0 });
    expect(started.boxesInPicture).toBeGreaterThan(first.boxesOnScreen / 2);
    // Further pans inside the picture: one copy each, nothing drawn.
    for (const dx of [60, -120, W / 2 - 1])
      expect(frame({ ...pan1, tx: pan1.tx + dx, ty: pan1.ty - dx / 2 })).toMatchObject({
        cached: true,
        copies: 1,
        boxesOnScreen: 0,
        boxesInPicture: 0,
        drawn: -1,
      });
    // Leaving the picture while panning redraws it; a change of content (selection, overlay) draws directly.
    const far = { ...pan1, tx: pan1.tx + W * 3 };
    expect(frame(far)).toMatchObject({ cached: false, copies: 1, boxesOnScreen: 0 });
    expect(frame(far, 1)).toMatchObject({ cached: false, copies: 0, boxesInPicture: 0 });
    expect(frame({ ...far, ty: far.ty + 5 }, 1)).toMatchObject({ cached: false, copies: 1 });
  });

  it('small graphs are always drawn directly', () => {
    const small = scene(50);
    const painter = new GraphPainter();
    const screen = recordingContext();
    const fit = fitView(small.layout, W, H);
    for (const tx of [0, 10, 20]) {
      const before = screen.calls.rect;
      expect(painter.paint(screen, W, H, 1, small, { ...fit, tx: fit.tx + tx }, colors, options, 0)).toMatchObject({ cached: false });
      expect(screen.calls.rect - before).toBeGreaterThan(0);
      expect(screen.calls.drawImage).toBe(0);
    }
  });
});
