/**
 * The graph view: the model's graph laid out in a worker and drawn on a canvas, with search, overlays from the
 * current results, selection shared with the tensor table and the histogram, and exports. Self-contained (its own
 * state, its CSS beside it), so a workspace layout can move it to a centre canvas as is.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { modelExplorerNodeData, graphSvg } from '../../core/graph/export';
import { groupsAbove, mainWeightOf, nodeOfTensor, boxSizes, searchNodes, shownAs, visibleGraph, type ModelGraph } from '../../core/graph/model';
import { computeOverlay, OVERLAYS, type Overlay, type OverlayKind } from '../../core/graph/overlay';
import type { TensorInfo } from '../../core/onnx/types';
import { modelWorker } from '../../state/bridge';
import { layoutWorker } from '../../state/graphBridge';
import { saveFile } from '../../state/saveFile';
import { useStudio } from '../../state/store';
import { Card } from '../kit/Card';
import { formatInteger } from '../format';
import { useElementHeight } from '../charts/canvas';
import { useLayout } from '../workspace/layout';
import { GraphCanvas, type GraphCanvasHandle } from './GraphCanvas';
import { makeScene, readGraphColors, type Scene } from './draw';
import { GraphLegend } from './GraphLegend';
import './graph.css';

const CANVAS_HEIGHT = 560;
const MIN_FILL_HEIGHT = 240;
const NO_MARKS: ReadonlySet<number> = new Set();

type Status = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready' };

/** fill: the canvas takes the height its container leaves it (the workspace's centre) instead of a fixed height. */
export function GraphView({ tensors, fileName, fill = false }: { tensors: TensorInfo[]; fileName: string; fill?: boolean }) {
  const stageRef = useRef<HTMLDivElement>(null);
  const stageHeight = useElementHeight(stageRef);
  const canvasHeight = fill ? Math.max(MIN_FILL_HEIGHT, stageHeight) : CANVAS_HEIGHT;
  const [graph, setGraph] = useState<ModelGraph | null>(null);
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [scene, setScene] = useState<Scene | null>(null);
  const [layoutInfo, setLayoutInfo] = useState<{ ms: number; engine: string } | null>(null);
  // The overlay is a preference (kept with the pane layout across reloads); it applies to whichever model is open.
  const overlayKind = useLayout((s) => s.overlay);
  const setOverlayKind = useLayout((s) => s.setOverlay);
  const [query, setQuery] = useState('');
  const [selectedNode, setSelectedNode] = useState<number | null>(null);
  const canvas = useRef<GraphCanvasHandle>(null);
  const theme = useStudio((s) => s.theme);
  const selectedTensorId = useStudio((s) => s.selectedTensorId);
  const selectTensor = useStudio((s) => s.selectTensor);

  // The graph of the open model (built in the model worker, which holds the parsed model).
  useEffect(() => {
    let live = true;
    setStatus({ kind: 'loading' });
    setGraph(null);
    setScene(null);
    setSelectedNode(null);
    setExpanded(new Set());
    modelWorker.graph().then(
      (g) => live && setGraph(g),
      (error: unknown) => live && setStatus({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [tensors]);

  // Layout of what is shown (the main graph plus opened groups), in the layout worker.
  const visible = useMemo(() => (graph ? visibleGraph(graph, expanded) : null), [graph, expanded]);
  useEffect(() => {
    if (!graph || !visible) return;
    let live = true;
    const { widths, heights } = boxSizes(graph, visible);
    // The worker takes the arrays (transferred): keep copies for drawing.
    layoutWorker
      .layout({
        widths: widths.slice(),
        heights: heights.slice(),
        edges: visible.edges.slice(),
        clusters: visible.clusters.map((c) => ({ members: c.members, parent: c.parent })),
      })
      .then(
        (layout) => {
          if (!live || !layout) return;
          setScene(makeScene(graph, visible, layout, widths, heights));
          setLayoutInfo({ ms: layout.ms, engine: layout.engine });
          setStatus({ kind: 'ready' });
        },
        (error: unknown) => live && setStatus({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
    return () => {
      live = false;
    };
  }, [graph, visible]);

  // Overlay from the current results (the compress result's recipe, and the lab's sensitivity scan).
  const result = useStudio((s) => s.compression.result);
  const sensitivity = useStudio((s) => s.sensitivity.layers);
  const cpuNodes = useStudio((s) => s.evaluation.report?.backends.find((b) => b.backend === 'webgpu' && b.available)?.cpuNodes?.original ?? null);
  const overlay: Overlay | null = useMemo(() => {
    if (!graph || overlayKind === 'none') return null;
    return computeOverlay(graph, overlayKind, {
      tensorBytes: (id) => tensors[id]?.bytes ?? 0,
      tensorName: (id) => tensors[id]?.name,
      recipe: result?.recipe ?? null,
      quantize: result?.quantize?.tensors,
      prune: result?.prune?.layers,
      sensitivity,
      cpuNodes,
    });
  }, [graph, overlayKind, tensors, result, sensitivity, cpuNodes]);

  // Search.
  const results = useMemo(() => (graph ? searchNodes(graph, query, (id) => tensors[id]?.name) : []), [graph, query, tensors]);
  const marked = useMemo(() => {
    if (!scene || !results.length) return NO_MARKS;
    return new Set(results.map((r) => scene.visible.indexOf[shownAs(scene.graph, r.id, expanded)]!).filter((i) => i >= 0));
  }, [scene, results, expanded]);

  // Selection: the node picked here or the node holding the weight selected elsewhere.
  const fromGraph = useRef<number | null>(null);
  const pendingCentre = useRef<number | null>(null);
  const selectNode = useCallback(
    (id: number, options: { centre?: boolean } = {}) => {
      if (!graph) return;
      setSelectedNode(id);
      const weight = mainWeightOf(graph.nodes[id]!, (t) => tensors[t]?.bytes ?? 0);
      if (weight !== undefined) {
        fromGraph.current = weight;
        selectTensor(weight, { reveal: true });
      }
      if (options.centre) pendingCentre.current = id;
    },
    [graph, tensors, selectTensor],
  );
  useEffect(() => {
    if (!graph || selectedTensorId === null || fromGraph.current === selectedTensorId) return;
    const id = nodeOfTensor(graph, selectedTensorId);
    if (id === undefined) return;
    setSelectedNode(id);
    pendingCentre.current = id;
  }, [graph, selectedTensorId]);
  const selectedIndex = scene && selectedNode !== null ? scene.visible.indexOf[shownAs(scene.graph, selectedNode, expanded)]! : -1;
  useEffect(() => {
    const id = pendingCentre.current;
    if (id === null || !scene || scene.graph !== graph) return;
    const index = scene.visible.indexOf[shownAs(scene.graph, id, expanded)]!;
    if (index < 0) return;
    pendingCentre.current = null;
    canvas.current?.centreOn(index);
  }, [scene, graph, expanded, selectedNode]);

  /** Search result chosen: open the groups that hide it, select it and centre it. */
  const reveal = (id: number) => {
    if (!graph) return;
    const above = groupsAbove(graph, id);
    if (above.some((g) => !expanded.has(g))) setExpanded(new Set([...expanded, ...above]));
    selectNode(id, { centre: true });
  };
  const toggleGroup = (id: number) => {
    if (!graph?.nodes[id]?.isGroup) return;
    const next = new Set(expanded);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setExpanded(next);
    // The new layout moves things: keep the group in view.
    pendingCentre.current = id;
  };

  const stem = fileName.replace(/\.onnx$/i, '');
  const exportJson = () => {
    if (!graph || !overlay) return;
    const label = OVERLAYS.find((o) => o.kind === overlayKind)!.label;
    const data = modelExplorerNodeData(graph, overlay, label);
    saveFile(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), `${stem}.${overlayKind}.node-data.json`);
  };
  const exportSvg = () => {
    if (!scene) return;
    const svg = graphSvg(scene.graph, scene.visible, scene.layout, scene, overlay, readGraphColors(document.documentElement));
    saveFile(new Blob([svg], { type: 'image/svg+xml' }), `${stem}.graph.svg`);
  };
  const exportPng = async () => {
    const blob = await canvas.current?.toPng();
    if (blob) saveFile(blob, `${stem}.graph.png`);
  };

  const selected = graph && selectedNode !== null ? graph.nodes[selectedNode] : undefined;
  const expandedIds = expanded;
  return (
    <Card
      id="graph-title"
      title="Graph"
      className={`graph-view${fill ? ' graph-view--fill' : ''}`}
      help="The model's operations in order, inputs at the top. Drag to pan, scroll or pinch to zoom; click an operation to select its weight."
    >
      <div data-testid="graph-view" className="graph-view__body">
        <div className="graph-view__toolbar">
          <GraphSearch query={query} setQuery={setQuery} results={results} graph={graph} onChoose={reveal} />
          <label className="graph-view__field">
            <span>Overlay</span>
            <select data-testid="graph-overlay" value={overlayKind} onChange={(e) => setOverlayKind(e.target.value as OverlayKind)}>
              {OVERLAYS.map((o) => (
                <option key={o.kind} value={o.kind}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <div className="graph-view__zoom" role="group" aria-label="Zoom">
            <button type="button" className="button button--small" aria-label="Zoom in" onClick={() => canvas.current?.zoom(1.25)}>
              +
            </button>
            <button type="button" className="button button--small" aria-label="Zoom out" onClick={() => canvas.current?.zoom(0.8)}>
              −
            </button>
            <button type="button" className="button button--small" onClick={() => canvas.current?.fit()}>
              Fit
            </button>
          </div>
          {graph && graph.groupCount > 0 && (
            <div className="graph-view__zoom" role="group" aria-label="Subgraphs">
              <button
                type="button"
                className="button button--small"
                data-testid="graph-expand-all"
                onClick={() => setExpanded(new Set(graph.nodes.filter((n) => n.isGroup).map((n) => n.id)))}
              >
                Expand all
              </button>
              <button type="button" className="button button--small" onClick={() => setExpanded(new Set())}>
                Collapse all
              </button>
            </div>
          )}
          <div className="graph-view__zoom" role="group" aria-label="Export">
            <button
              type="button"
              className="button button--small"
              data-testid="graph-export-json"
              disabled={!overlay}
              onClick={exportJson}
              title="The overlay as Model Explorer node data"
            >
              Node data JSON
            </button>
            <button type="button" className="button button--small" data-testid="graph-export-svg" disabled={!scene} onClick={exportSvg}>
              SVG
            </button>
            <button type="button" className="button button--small" data-testid="graph-export-png" disabled={!scene} onClick={() => void exportPng()}>
              PNG
            </button>
          </div>
        </div>
        <p className="graph-view__facts muted" aria-live="polite">
          {graph ? (
            <>
              <span data-testid="graph-node-count">{formatInteger(graph.opCount)}</span> operations
              {graph.groupCount > 0 && <> · {formatInteger(graph.groupCount)} with subgraphs (double-click or Enter to open)</>}
              {scene && (
                <>
                  {' '}
                  · <span data-testid="graph-shown-count">{formatInteger(scene.visible.ids.length)}</span> boxes shown
                </>
              )}
              {layoutInfo && status.kind === 'ready' && (
                <>
                  {' '}
                  · laid out in <span data-testid="graph-layout-ms">{Math.round(layoutInfo.ms)}</span> ms (
                  {layoutInfo.engine === 'dagre' ? 'dagre' : 'fast layered'})
                </>
              )}
            </>
          ) : null}
          {status.kind === 'loading' && <span data-testid="graph-status"> Laying out the graph…</span>}
          {status.kind === 'error' && (
            <span className="graph-view__error" data-testid="graph-error">
              The graph could not be drawn: {status.message}
            </span>
          )}
        </p>
        <div className="graph-view__stage" ref={stageRef}>
          {scene ? (
            <GraphCanvas
              ref={canvas}
              scene={scene}
              height={canvasHeight}
              theme={theme}
              label={`Graph of ${fileName}: ${graph?.opCount ?? 0} operations. Arrow keys pan, plus and minus zoom, 0 fits, Enter opens a subgraph.`}
              overlayColors={overlay?.colors}
              selected={selectedIndex}
              marked={marked}
              expanded={expandedIds}
              onSelect={(i) => selectNode(scene.visible.ids[i]!)}
              onToggle={(i) => toggleGroup(scene.visible.ids[i]!)}
            />
          ) : (
            <div className="graph-view__placeholder" style={{ height: canvasHeight }} />
          )}
          <GraphLegend overlay={overlay} kind={overlayKind} />
        </div>
        <SelectedNode graph={graph} node={selected?.id ?? null} tensors={tensors} overlay={overlay} expanded={expanded} onToggle={toggleGroup} />
      </div>
    </Card>
  );
}

function GraphSearch({
  query,
  setQuery,
  results,
  graph,
  onChoose,
}: {
  query: string;
  setQuery(q: string): void;
  results: { id: number; match: string }[];
  graph: ModelGraph | null;
  onChoose(id: number): void;
}) {
  // The list closes once a result is chosen (or on Escape), so it does not hang over the toolbar; typing opens it again.
  const [open, setOpen] = useState(true);
  const choose = (id: number) => {
    setOpen(false);
    onChoose(id);
  };
  return (
    <div className="graph-search">
      <label className="graph-view__field">
        <span>Find</span>
        <input
          type="search"
          data-testid="graph-search"
          placeholder="node, op or tensor name"
          value={query}
          aria-controls="graph-search-results"
          onChange={(e) => {
            setOpen(true);
            setQuery(e.target.value);
          }}
          onFocus={() => setOpen(true)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && results[0]) {
              e.preventDefault();
              choose(results[0].id);
            } else if (e.key === 'Escape' && open) {
              e.preventDefault();
              setOpen(false);
            }
          }}
        />
      </label>
      {open && query.trim() && graph && (
        <ul id="graph-search-results" className="graph-search__results" aria-label="Matching nodes" data-testid="graph-search-results">
          {results.length === 0 && <li className="muted">No match</li>}
          {results.map((r) => (
            <li key={r.id}>
              <button type="button" className="graph-search__result" data-testid="graph-search-result" onClick={() => choose(r.id)}>
                <strong>{graph.nodes[r.id]!.op}</strong> {graph.nodes[r.id]!.name}
                {r.match.startsWith('tensor') && <span className="muted"> · {r.match}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SelectedNode({
  graph,
  node,
  tensors,
  overlay,
  expanded,
  onToggle,
}: {
  graph: ModelGraph | null;
  node: number | null;
  tensors: TensorInfo[];
  overlay: Overlay | null;
  expanded: ReadonlySet<number>;
  onToggle(id: number): void;
}) {
  const setTab = useLayout((s) => s.setTab);
  if (!graph || node === null) return <p className="graph-view__selected muted">No operation selected.</p>;
  const n = graph.nodes[node]!;
  const value = overlay ? overlay.values[n.id]! : NaN;
  return (
    <div className="graph-view__selected" data-testid="graph-selected">
      <strong data-testid="graph-selected-name">{n.name}</strong> <span className="muted">{n.op}</span>
      {n.graph !== 'main' && <span className="muted"> · in {n.graph}</span>}
      {n.weights.length > 0 && <span> · weights: {n.weights.map((w) => tensors[w]?.name ?? `#${w}`).join(', ')}</span>}
      {n.weights.length > 0 && (
        <button type="button" className="link-button graph-view__charts" data-testid="graph-show-charts" onClick={() => setTab('layer')}>
          Show its values
        </button>
      )}
      {overlay && <span> · {Number.isNaN(value) ? 'not measured' : overlay.format(value)}</span>}
      {n.isGroup && (
        <button type="button" className="button button--small graph-view__toggle" data-testid="graph-toggle-group" onClick={() => onToggle(n.id)}>
          {expanded.has(n.id) ? 'Collapse subgraph' : 'Expand subgraph'}
        </button>
      )}
    </div>
  );
}
