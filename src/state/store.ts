import { create } from 'zustand';
import { createAnalysisSlice, type AnalysisSlice } from './analysisSlice';
import { createCompressSlice, type CompressSlice } from './compressSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createUiSlice, type UiSlice } from './uiSlice';

export type StudioState = ModelSlice & UiSlice & AnalysisSlice & CompressSlice;

export const useStudio = create<StudioState>()((...args) => ({
  ...createModelSlice(...args),
  ...createUiSlice(...args),
  ...createAnalysisSlice(...args),
  ...createCompressSlice(...args),
}));

export { DEMO_MODEL } from './modelSlice';
export type { ModelStatus } from './modelSlice';
export type { Theme, TensorSort, TensorSortKey, SortDirection, LayerMeasure } from './uiSlice';
export { BIN_CHOICES, notAnalysable } from './analysisSlice';
export type { TensorAnalysisState, SparsityState } from './analysisSlice';
export { AUTO_RUN_MAX_BYTES, DEBOUNCE_MS, PREVIEW_BINS, resultIsCurrent } from './compressSlice';
export type { CompressionJob, JobStatus, PreviewState } from './compressSlice';
export type { Step } from './recipeEdits';
