import { create } from 'zustand';
import { createAnalysisSlice, type AnalysisSlice } from './analysisSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createUiSlice, type UiSlice } from './uiSlice';

export type StudioState = ModelSlice & UiSlice & AnalysisSlice;

export const useStudio = create<StudioState>()((...args) => ({
  ...createModelSlice(...args),
  ...createUiSlice(...args),
  ...createAnalysisSlice(...args),
}));

export { DEMO_MODEL } from './modelSlice';
export type { ModelStatus } from './modelSlice';
export type { Theme, TensorSort, TensorSortKey, SortDirection, LayerMeasure } from './uiSlice';
export { BIN_CHOICES, notAnalysable } from './analysisSlice';
export type { TensorAnalysisState, SparsityState } from './analysisSlice';
