import type { StateCreator } from 'zustand';
import type { StudioState } from './store';

export type Theme = 'light' | 'dark';

export type TensorSortKey = 'name' | 'usedBy' | 'shape' | 'dtype' | 'elements' | 'bytes' | 'location';
export type SortDirection = 'asc' | 'desc';
export interface TensorSort {
  key: TensorSortKey;
  dir: SortDirection;
}

/** What the per-layer views measure: stored bytes or parameters (elements). */
export type LayerMeasure = 'bytes' | 'params';

export interface UiSlice {
  theme: Theme;
  /** 'system' follows prefers-color-scheme; 'user' once the person picked a theme. */
  themeSource: 'system' | 'user';
  toggleTheme(): void;
  followSystemTheme(theme: Theme): void;

  tableFilter: string;
  /** null keeps the model's own order (graph order). */
  tableSort: TensorSort | null;
  showNonWeights: boolean;
  setTableFilter(filter: string): void;
  /** Click on a column header: a new column starts in its natural direction, the same column flips. */
  sortTableBy(key: TensorSortKey): void;
  setShowNonWeights(show: boolean): void;

  layerMeasure: LayerMeasure;
  setLayerMeasure(measure: LayerMeasure): void;
}

const THEME_KEY = 'compression-studio.theme';
const NUMERIC_KEYS: ReadonlySet<TensorSortKey> = new Set(['elements', 'bytes', 'shape']);

export function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function savedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

function saveTheme(theme: Theme): void {
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage may be disabled (private mode); the choice then lasts for this visit only.
  }
}

export const createUiSlice: StateCreator<StudioState, [], [], UiSlice> = (set, get) => {
  const saved = savedTheme();
  return {
    theme: saved ?? systemTheme(),
    themeSource: saved ? 'user' : 'system',
    toggleTheme: () => {
      const theme: Theme = get().theme === 'dark' ? 'light' : 'dark';
      saveTheme(theme);
      set({ theme, themeSource: 'user' });
    },
    followSystemTheme: (theme) => {
      if (get().themeSource === 'system') set({ theme });
    },

    tableFilter: '',
    tableSort: null,
    showNonWeights: false,
    setTableFilter: (tableFilter) => set({ tableFilter }),
    sortTableBy: (key) => {
      const current = get().tableSort;
      const dir: SortDirection = current?.key === key ? (current.dir === 'asc' ? 'desc' : 'asc') : NUMERIC_KEYS.has(key) ? 'desc' : 'asc';
      set({ tableSort: { key, dir } });
    },
    setShowNonWeights: (showNonWeights) => set({ showNonWeights }),

    layerMeasure: 'bytes',
    setLayerMeasure: (layerMeasure) => set({ layerMeasure }),
  };
};
