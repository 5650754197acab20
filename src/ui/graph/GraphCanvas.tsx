import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef } from 'react';
import { useElementWidth } from '../charts/canvas';
import {
  centreView,
  drawScene,
  fitView,
  GraphPainter,
  hitTest,
  readGraphColors,
  zoomAt,
  type DrawOptions,
  type GraphColors,
  type Scene,
  type View,
} from './draw';

export interface GraphCanvasHandle {
  fit(): void;
  zoom(factor: number): void;
  /** Centres a visible node, zooming in to a readable scale when far out. */
  centreOn(index: number): void;
  /** The canvas as a PNG of the whole graph (scale chosen to stay within canvas limits). */
  toPng(): Promise<Blob | null>;
}

interface Props extends DrawOptions {
  scene: Scene;
  height: number;
  /** Changes when the theme changes, so the colours are read again. */
  theme: string;
  label: string;
  onSelect(index: number): void;
  onToggle(index: number): void;
}

const PAN_STEP = 60;
const ZOOM_STEP = 1.25;

/**
 * The drawing surface: pan by dragging (or arrow keys), zoom with the wheel, a pinch or +/−. The view lives in a ref
 * and each change schedules one animation frame: moving the view never re-renders React.
 */
export const GraphCanvas = forwardRef<GraphCanvasHandle, Props>(function GraphCanvas(props, ref) {
  const { scene, height, theme, label, onSelect, onToggle } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const width = useElementWidth(wrapRef);
  const view = useRef<View>({ k: 1, tx: 0, ty: 0 });
  const frame = useRef(0);
  const latest = useRef(props);
  latest.current = props;
  const colors = useRef<GraphColors | null>(null);
  const painter = useRef(new GraphPainter());
  /** What is drawn besides the view (overlay, selection, marks, theme): a change redraws the cached picture. */
  const version = useRef(0);
  const size = useRef({ width, height });
  size.current = { width, height };

  const draw = useCallback(() => {
    frame.current = 0;
    const canvas = canvasRef.current;
    const { width: w, height: h } = size.current;
    if (!canvas || w <= 0) return;
    const ratio = window.devicePixelRatio || 1;
    const bw = Math.round(w * ratio);
    const bh = Math.round(h * ratio);
    if (canvas.width !== bw) canvas.width = bw;
    if (canvas.height !== bh) canvas.height = bh;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    colors.current ??= readGraphColors(canvas);
    const p = latest.current;
    const { drawn } = painter.current.paint(ctx, w, h, ratio, p.scene, view.current, colors.current, p, version.current);
    if (drawn >= 0) canvas.dataset.drawn = String(drawn);
    canvas.dataset.zoom = view.current.k.toFixed(4);
  }, []);
  const schedule = useCallback(() => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  }, [draw]);
  useEffect(
    () => () => {
      // Reset too: StrictMode's mount / unmount / mount would otherwise leave a cancelled frame id that blocks schedule().
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    },
    [],
  );

  const setView = useCallback(
    (next: View) => {
      view.current = next;
      schedule();
    },
    [schedule],
  );

  // A new layout (another model, a group opened or closed): show all of it.
  const fittedScene = useRef<Scene | null>(null);
  useEffect(() => {
    if (width <= 0) return;
    if (fittedScene.current !== scene) {
      const previous = fittedScene.current;
      fittedScene.current = scene;
      // Same graph re-laid out (a group toggled): keep the zoom, centre what was centred if still sensible.
      if (!previous || previous.graph !== scene.graph) view.current = fitView(scene.layout, width, height);
    }
    schedule();
  }, [scene, width, height, schedule]);
  useEffect(() => {
    colors.current = null;
    version.current++;
    schedule();
  }, [theme, schedule]);
  useEffect(() => {
    version.current++;
    schedule();
  }, [props.overlayColors, props.selected, props.marked, props.expanded, width, schedule]);

  useImperativeHandle(
    ref,
    () => ({
      fit: () => setView(fitView(latest.current.scene.layout, size.current.width, size.current.height)),
      zoom: (factor) => setView(zoomAt(view.current, factor, size.current.width / 2, size.current.height / 2)),
      centreOn: (index) => {
        const { layout } = latest.current.scene;
        setView(centreView(layout.x[index]!, layout.y[index]!, Math.max(view.current.k, 0.9), size.current.width, size.current.height));
      },
      toPng: async () => {
        const { layout } = latest.current.scene;
        // Canvases fail silently beyond ~16k pixels a side or ~250 M pixels in all.
        const scale = Math.min(
          2,
          16000 / Math.max(1, layout.width + 16),
          16000 / Math.max(1, layout.height + 16),
          Math.sqrt(2.4e8 / ((layout.width + 16) * (layout.height + 16))),
        );
        const canvas = document.createElement('canvas');
        canvas.width = Math.max(1, Math.ceil((layout.width + 16) * scale));
        canvas.height = Math.max(1, Math.ceil((layout.height + 16) * scale));
        const ctx = canvas.getContext('2d');
        if (!ctx) return null;
        drawScene(ctx, canvas.width, canvas.height, latest.current.scene, { k: scale, tx: 8 * scale, ty: 8 * scale }, readGraphColors(canvasRef.current!), {
          ...latest.current,
          marked: new Set(),
          selected: -1,
        });
        return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      },
    }),
    [setView],
  );

  // Pointer input: one pointer pans (a click without movement selects), two pinch-zoom.
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const moved = useRef(false);
  const local = (e: { clientX: number; clientY: number }) => {
    const r = canvasRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    pointers.current.set(e.pointerId, local(e));
    moved.current = false;
  };
  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const prev = pointers.current.get(e.pointerId);
    if (!prev) return;
    const now = local(e);
    if (pointers.current.size === 2) {
      const [a, b] = [...pointers.current.entries()];
      const other = a![0] === e.pointerId ? b![1] : a![1];
      const before = Math.hypot(prev.x - other.x, prev.y - other.y);
      const after = Math.hypot(now.x - other.x, now.y - other.y);
      if (before > 0) setView(zoomAt(view.current, after / before, (now.x + other.x) / 2, (now.y + other.y) / 2));
    } else {
      const dx = now.x - prev.x;
      const dy = now.y - prev.y;
      if (Math.abs(dx) + Math.abs(dy) > 0) {
        if (Math.abs(dx) + Math.abs(dy) > 2) moved.current = true;
        setView({ ...view.current, tx: view.current.tx + dx, ty: view.current.ty + dy });
      }
    }
    pointers.current.set(e.pointerId, now);
  };
  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const was = pointers.current.get(e.pointerId);
    pointers.current.delete(e.pointerId);
    if (!was || moved.current || pointers.current.size > 0) return;
    const p = local(e);
    const hit = hitTest(latest.current.scene, view.current, p.x, p.y);
    if (hit >= 0) onSelect(hit);
  };
  const onDoubleClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const p = local(e);
    const hit = hitTest(latest.current.scene, view.current, p.x, p.y);
    if (hit >= 0) onToggle(hit);
  };
  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.0015));
      setView(zoomAt(view.current, factor, e.clientX - r.left, e.clientY - r.top));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [setView]);

  const onKeyDown = (e: React.KeyboardEvent<HTMLCanvasElement>) => {
    const v = view.current;
    const { width: w, height: h } = size.current;
    const pan = (dx: number, dy: number) => setView({ ...v, tx: v.tx + dx, ty: v.ty + dy });
    switch (e.key) {
      case 'ArrowLeft':
        pan(PAN_STEP, 0);
        break;
      case 'ArrowRight':
        pan(-PAN_STEP, 0);
        break;
      case 'ArrowUp':
        pan(0, PAN_STEP);
        break;
      case 'ArrowDown':
        pan(0, -PAN_STEP);
        break;
      case '+':
      case '=':
        setView(zoomAt(v, ZOOM_STEP, w / 2, h / 2));
        break;
      case '-':
      case '_':
        setView(zoomAt(v, 1 / ZOOM_STEP, w / 2, h / 2));
        break;
      case '0':
        setView(fitView(latest.current.scene.layout, w, h));
        break;
      case 'Enter':
      case ' ':
        if (latest.current.selected >= 0) onToggle(latest.current.selected);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <div ref={wrapRef} className="graph-canvas">
      <canvas
        ref={canvasRef}
        data-testid="graph-canvas"
        tabIndex={0}
        role="img"
        aria-label={label}
        aria-roledescription="graph"
        style={{ width: `${Math.max(0, width)}px`, height: `${height}px` }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={(e) => pointers.current.delete(e.pointerId)}
        onDoubleClick={onDoubleClick}
        onKeyDown={onKeyDown}
      />
    </div>
  );
});
