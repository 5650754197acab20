import { create } from 'zustand';
import { OVERLAYS, type OverlayKind } from '../../core/graph/overlay';

/**
 * The workspace's pane layout: rail widths, which rails are collapsed, the centre tab, the view and the graph's
 * overlay. Kept in
 * localStorage under a versioned key; whatever is stored is checked and clamped, and anything unreadable falls back
 * to the defaults (a bad value never breaks the page).
 */

export type CentreTab = 'graph' | 'layer';
export type WorkspaceView = 'studio' | 'evaluate';
export type Pane = 'left' | 'right';

export interface Layout {
  /** Width of the left rail (model and tensors), in CSS pixels. */
  left: number;
  /** Width of the right panel (the recipe), in CSS pixels. */
  right: number;
  leftCollapsed: boolean;
  rightCollapsed: boolean;
  tab: CentreTab;
  view: WorkspaceView;
  /** What colours the graph's boxes. */
  overlay: OverlayKind;
}

export const LAYOUT_KEY = 'compression-studio.layout.v1';

/** Limits of each pane's width; the viewport narrows them further (see paneLimits). */
export const PANE_LIMITS: Record<Pane, { min: number; max: number }> = {
  left: { min: 220, max: 720 },
  right: { min: 320, max: 760 },
};

/** The centre keeps at least this much width while a rail is being widened. */
export const CENTRE_MIN = 360;
/** Width of a separator between panes. */
export const SEPARATOR = 8;
/** Width of a collapsed rail (its expand button). */
export const COLLAPSED = 36;
/** Below this viewport width the panes stack (one column, the page scrolls). */
export const STACK_BELOW = 900;

export const DEFAULT_LAYOUT: Layout = { left: 320, right: 440, leftCollapsed: false, rightCollapsed: false, tab: 'graph', view: 'studio', overlay: 'none' };

const TABS: readonly CentreTab[] = ['graph', 'layer'];
const VIEWS: readonly WorkspaceView[] = ['studio', 'evaluate'];

function clampWidth(pane: Pane, value: unknown): number {
  const { min, max } = PANE_LIMITS[pane];
  if (typeof value !== 'number' || !Number.isFinite(value)) return DEFAULT_LAYOUT[pane];
  return Math.round(Math.min(max, Math.max(min, value)));
}

/** A layout from anything (parsed JSON, a partial object): each field checked, clamped or defaulted on its own. */
export function sanitizeLayout(raw: unknown): Layout {
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  return {
    left: clampWidth('left', o.left),
    right: clampWidth('right', o.right),
    leftCollapsed: typeof o.leftCollapsed === 'boolean' ? o.leftCollapsed : DEFAULT_LAYOUT.leftCollapsed,
    rightCollapsed: typeof o.rightCollapsed === 'boolean' ? o.rightCollapsed : DEFAULT_LAYOUT.rightCollapsed,
    tab: TABS.includes(o.tab as CentreTab) ? (o.tab as CentreTab) : DEFAULT_LAYOUT.tab,
    view: VIEWS.includes(o.view as WorkspaceView) ? (o.view as WorkspaceView) : DEFAULT_LAYOUT.view,
    overlay: OVERLAYS.some((x) => x.kind === o.overlay) ? (o.overlay as OverlayKind) : DEFAULT_LAYOUT.overlay,
  };
}

/** Reads the stored layout; missing, unparsable or invalid JSON gives the defaults. */
export function readLayout(storage: Pick<Storage, 'getItem'> | undefined = safeStorage()): Layout {
  try {
    const text = storage?.getItem(LAYOUT_KEY);
    return text ? sanitizeLayout(JSON.parse(text)) : { ...DEFAULT_LAYOUT };
  } catch {
    return { ...DEFAULT_LAYOUT };
  }
}

export function writeLayout(layout: Layout, storage: Pick<Storage, 'setItem'> | undefined = safeStorage()): void {
  try {
    storage?.setItem(LAYOUT_KEY, JSON.stringify(layout));
  } catch {
    // Storage may be full or disabled (private mode); the layout then lasts for this visit only.
  }
}

function safeStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

/**
 * The widths a pane may take in a viewport this wide. The recipe (right) comes first: it may grow until the centre
 * keeps CENTRE_MIN next to the narrowest left rail; the left rail then takes at most what is left (and 40 % of the
 * viewport). Neither goes below its own minimum (at 1024 px the recipe still gets 320 px or more).
 */
export function paneLimits(pane: Pane, viewport: number, layout: Layout): { min: number; max: number } {
  const { min, max } = PANE_LIMITS[pane];
  const separators = 2 * SEPARATOR;
  if (pane === 'right') {
    const left = layout.view === 'evaluate' ? 0 : layout.leftCollapsed ? COLLAPSED : PANE_LIMITS.left.min;
    return { min, max: Math.max(min, Math.min(max, viewport - left - CENTRE_MIN - separators)) };
  }
  const right = layout.rightCollapsed ? COLLAPSED : effectiveWidth('right', viewport, layout);
  return { min, max: Math.max(min, Math.min(max, Math.floor(viewport * 0.4), viewport - right - CENTRE_MIN - separators)) };
}

/** The width a pane is drawn at: its stored width clamped to what the viewport allows. */
export function effectiveWidth(pane: Pane, viewport: number, layout: Layout): number {
  const { min, max } = paneLimits(pane, viewport, layout);
  return Math.min(max, Math.max(min, layout[pane]));
}

interface LayoutStore extends Layout {
  /** Sets a pane's width (clamped to PANE_LIMITS); persist=false while a drag is under way. */
  setWidth(pane: Pane, width: number, persist?: boolean): void;
  setCollapsed(pane: Pane, collapsed: boolean): void;
  setTab(tab: CentreTab): void;
  setView(view: WorkspaceView): void;
  setOverlay(overlay: OverlayKind): void;
  /** Writes the current layout to storage (the end of a drag). */
  persist(): void;
}

function pick(s: Layout): Layout {
  return { left: s.left, right: s.right, leftCollapsed: s.leftCollapsed, rightCollapsed: s.rightCollapsed, tab: s.tab, view: s.view, overlay: s.overlay };
}

export const useLayout = create<LayoutStore>()((set, get) => {
  const update = (patch: Partial<Layout>, persist = true) => {
    set(patch);
    if (persist) writeLayout(pick(get()));
  };
  return {
    ...readLayout(),
    setWidth: (pane, width, persist = true) => update({ [pane]: clampWidth(pane, width) }, persist),
    setCollapsed: (pane, collapsed) => update(pane === 'left' ? { leftCollapsed: collapsed } : { rightCollapsed: collapsed }),
    setTab: (tab) => update({ tab }),
    setView: (view) => update({ view }),
    setOverlay: (overlay) => update({ overlay }),
    persist: () => writeLayout(pick(get())),
  };
});
