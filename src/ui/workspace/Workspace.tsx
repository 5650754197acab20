import { useRef, type CSSProperties, type ReactNode } from 'react';
import type { ModelSummary } from '../../core/onnx/types';
import { TensorDetail } from '../analysis/TensorDetail';
import { useElementWidth } from '../charts/canvas';
import { CompressPanel } from '../compress/CompressPanel';
import { EvaluatePanel } from '../evaluate/EvaluatePanel';
import { GraphView } from '../graph/GraphView';
import { tabPanelProps, Tabs, type TabOption } from '../kit/Tabs';
import { LayerViews } from '../layers/LayerViews';
import { ModelList } from '../shell/ModelList';
import { SummaryDetails, SummaryOverview } from '../summary/SummaryPanel';
import { TensorTable } from '../tensors/TensorTable';
import {
  COLLAPSED,
  DEFAULT_LAYOUT,
  SEPARATOR,
  STACK_BELOW,
  effectiveWidth,
  paneLimits,
  useLayout,
  type CentreTab,
  type Layout,
  type Pane,
  type WorkspaceView,
} from './layout';
import { Separator } from './Separator';
import { useViewportWidth } from './useViewportWidth';
import './workspace.css';

export const VIEW_TABS: readonly TabOption<WorkspaceView>[] = [
  { value: 'studio', label: 'Studio', title: 'The model, its graph and its layers, next to the recipe', testId: 'view-studio' },
  {
    value: 'evaluate',
    label: 'Evaluate',
    title: 'The lab: accuracy, speed, sensitivity and the trade-off explorer, next to the recipe',
    testId: 'view-evaluate',
  },
];

const CENTRE_TABS: readonly TabOption<CentreTab>[] = [
  { value: 'graph', label: 'Graph', title: 'The model’s operations, with overlays', testId: 'centre-tab-graph' },
  { value: 'layer', label: 'Layer', title: 'The selected tensor’s values (histogram, channel ranges) and the weights by layer', testId: 'centre-tab-layer' },
];

/** The Studio / Evaluate switch (in the header). */
export function ViewSwitch() {
  const view = useLayout((s) => s.view);
  const setView = useLayout((s) => s.setView);
  return <Tabs label="View" idBase="ws-view" tabs={VIEW_TABS} value={view} onChange={setView} className="tabs--view" testId="view-switch" />;
}

/**
 * The workspace: the model on a left rail (summary, model list, tensor list, details), a centre canvas (graph, or
 * the selected layer's charts) and the recipe on a right panel, side by side on one screen. Evaluate swaps the rail
 * and centre for the lab; the recipe stays. Rails resize (drag or keyboard) and collapse; the layout is kept across
 * reloads. Below STACK_BELOW px the panes stack and the page scrolls.
 */
export function Workspace({ summary, isDemo }: { summary: ModelSummary; isDemo: boolean }) {
  const layout = useLayout();
  const viewportWidth = useViewportWidth();
  const stacked = viewportWidth < STACK_BELOW;
  // The room the panes share: the workspace's own width (the page's padding aside), measured once laid out.
  const ref = useRef<HTMLDivElement>(null);
  const measured = useElementWidth(ref);
  const viewport = measured > 0 ? measured : viewportWidth;
  const studio = layout.view === 'studio';
  const left = effectiveWidth('left', viewport, layout);
  const right = effectiveWidth('right', viewport, layout);

  const columns = [
    !studio ? '0px' : layout.leftCollapsed ? `${COLLAPSED}px` : `${left}px`,
    !studio || layout.leftCollapsed ? '0px' : `${SEPARATOR}px`,
    'minmax(0, 1fr)',
    layout.rightCollapsed ? '0px' : `${SEPARATOR}px`,
    layout.rightCollapsed ? `${COLLAPSED}px` : `${right}px`,
  ].join(' ');
  const style: CSSProperties | undefined = stacked ? undefined : { gridTemplateColumns: columns };

  return (
    <div ref={ref} className={`ws${stacked ? ' ws--stacked' : ''}`} style={style} data-testid="workspace" data-view={layout.view}>
      <Rail pane="left" id="ws-left" label="Model" hidden={!studio} collapsed={layout.leftCollapsed && !stacked} element="nav">
        <ModelList />
        <SummaryOverview summary={summary} isDemo={isDemo} />
        <TensorTable tensors={summary.tensors} />
        <SummaryDetails summary={summary} />
      </Rail>
      {studio && !layout.leftCollapsed && !stacked && <PaneSeparator pane="left" layout={layout} viewport={viewport} value={left} />}

      <main id="ws-main" className="ws-pane ws-centre" aria-label={studio ? 'Canvas' : 'Evaluate'} tabIndex={-1}>
        <div {...tabPanelProps('ws-view', 'studio', studio)} className="ws-centre__view">
          <CentreTabs />
          <div {...tabPanelProps('ws-centre', 'graph', layout.tab === 'graph')} className="ws-centre__panel ws-centre__panel--graph">
            <GraphView tensors={summary.tensors} fileName={summary.fileName} fill={!stacked} />
          </div>
          <div {...tabPanelProps('ws-centre', 'layer', layout.tab === 'layer')} className="ws-centre__panel">
            <TensorDetail tensors={summary.tensors} />
            <LayerViews tensors={summary.tensors} />
          </div>
        </div>
        <div {...tabPanelProps('ws-view', 'evaluate', !studio)} className="ws-centre__view ws-centre__view--lab">
          <EvaluatePanel />
        </div>
      </main>

      {!layout.rightCollapsed && !stacked && <PaneSeparator pane="right" layout={layout} viewport={viewport} value={right} />}
      <Rail pane="right" id="ws-recipe" label="Recipe" collapsed={layout.rightCollapsed && !stacked} element="aside">
        <CompressPanel tensors={summary.tensors} fileName={summary.fileName} weightBytes={summary.weightBytes} />
      </Rail>
    </div>
  );
}

function CentreTabs() {
  const tab = useLayout((s) => s.tab);
  const setTab = useLayout((s) => s.setTab);
  return (
    <div className="ws-centre__bar">
      <Tabs label="Canvas" idBase="ws-centre" tabs={CENTRE_TABS} value={tab} onChange={setTab} testId="centre-tabs" />
    </div>
  );
}

const RAIL_TEXT: Record<Pane, { hide: string; show: string }> = {
  left: { hide: 'Hide the model rail', show: 'Show the model rail' },
  right: { hide: 'Hide the recipe panel', show: 'Show the recipe panel' },
};

/** A side pane with a slim header and a collapse button; collapsed, it is a strip holding the expand button. */
function Rail({
  pane,
  id,
  label,
  hidden,
  collapsed,
  element: Element,
  children,
}: {
  pane: Pane;
  id: string;
  label: string;
  hidden?: boolean;
  collapsed: boolean;
  element: 'nav' | 'aside';
  children: ReactNode;
}) {
  const setCollapsed = useLayout((s) => s.setCollapsed);
  const text = RAIL_TEXT[pane];
  const arrow = (pane === 'left') === collapsed ? '›' : '‹';
  return (
    <Element
      id={id}
      className={`ws-pane ws-${pane}${collapsed ? ' is-collapsed' : ''}`}
      aria-label={label}
      hidden={hidden}
      tabIndex={-1}
      data-testid={`pane-${pane}`}
    >
      <div className="ws-pane__head">
        {!collapsed && <span className="ws-pane__title">{label}</span>}
        <button
          type="button"
          className="button button--ghost button--small ws-pane__toggle"
          aria-expanded={!collapsed}
          aria-controls={`${id}-body`}
          aria-label={collapsed ? text.show : text.hide}
          title={collapsed ? text.show : text.hide}
          data-testid={`collapse-${pane}`}
          onClick={() => setCollapsed(pane, !collapsed)}
        >
          <span aria-hidden="true">{arrow}</span>
        </button>
      </div>
      <div id={`${id}-body`} className="ws-pane__body" hidden={collapsed}>
        {children}
      </div>
    </Element>
  );
}

function PaneSeparator({ pane, layout, viewport, value }: { pane: Pane; layout: Layout; viewport: number; value: number }) {
  const setWidth = useLayout((s) => s.setWidth);
  const persist = useLayout((s) => s.persist);
  const { min, max } = paneLimits(pane, viewport, layout);
  return (
    <Separator
      pane={pane}
      controls={pane === 'left' ? 'ws-left' : 'ws-recipe'}
      label={pane === 'left' ? 'Resize the model rail' : 'Resize the recipe panel'}
      value={value}
      min={min}
      max={max}
      defaultWidth={DEFAULT_LAYOUT[pane]}
      onResize={(width, commit) => setWidth(pane, width, commit)}
      onCommit={persist}
    />
  );
}
