import { create } from 'zustand';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createUiSlice, type UiSlice } from './uiSlice';

export type StudioState = ModelSlice & UiSlice;

export const useStudio = create<StudioState>()((...args) => ({
  ...createModelSlice(...args),
  ...createUiSlice(...args),
}));

export { DEMO_MODEL } from './modelSlice';
export type { ModelStatus } from './modelSlice';
export type { Theme, TensorSort, TensorSortKey, SortDirection } from './uiSlice';
