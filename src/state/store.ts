import { create } from 'zustand';
import { createAnalysisSlice, type AnalysisSlice } from './analysisSlice';
import { createCompressSlice, type CompressSlice } from './compressSlice';
import { createEvalSlice, type EvalSlice } from './evalSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createUiSlice, type UiSlice } from './uiSlice';

export type StudioState = ModelSlice & UiSlice & AnalysisSlice & CompressSlice & EvalSlice;

export const useStudio = create<StudioState>()((...args) => ({
  ...createModelSlice(...args),
  ...createUiSlice(...args),
  ...createAnalysisSlice(...args),
  ...createCompressSlice(...args),
  ...createEvalSlice(...args),
}));

export { DEMO_MODEL } from './modelSlice';
export type { ModelStatus } from './modelSlice';
export type { Theme, TensorSort, TensorSortKey, SortDirection, LayerMeasure } from './uiSlice';
export { BIN_CHOICES, notAnalysable } from './analysisSlice';
export type { TensorAnalysisState, SparsityState } from './analysisSlice';
export { AUTO_RUN_MAX_BYTES, DEBOUNCE_MS, PREVIEW_BINS, resultIsCurrent } from './compressSlice';
export type { CompressionJob, JobStatus, PreviewState } from './compressSlice';
export type { Step } from './recipeEdits';
export { DEFAULT_SWEEP } from './evalSlice';
export type {
  DataSource,
  LabJobStatus,
  DataState,
  EvalSettings,
  EvaluationState,
  SensitivityState,
  SweepSettings,
  SweepState,
  SyntheticSettings,
} from './evalSlice';
