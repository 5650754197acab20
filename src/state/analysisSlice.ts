import type { StateCreator } from 'zustand';
import { DEFAULT_ANALYZE_OPTIONS, type AnalyzeOptions, type TensorAnalysis } from '../core/analysis/analyze';
import type { TensorInfo } from '../core/onnx/types';
import type { BackendPreference, BackendStatus } from '../kernels/registry';
import type { SparsityResult } from '../protocol/model';
import { modelWorker } from './bridge';
import { jobs } from './jobs';
import { lru } from './lru';
import type { StudioState } from './store';

/** Histogram bin counts the studio offers. */
export const BIN_CHOICES = [32, 64, 128, 256, 512] as const;

/**
 * Why a tensor cannot be analysed, before asking the worker (strings, empty tensors), or null.
 * Scalars are analysed: the panel shows their one value instead of a chart.
 */
export function notAnalysable(t: TensorInfo): string | null {
  if (t.dtype === 'STRING') return 'This tensor holds text (strings): there is nothing numeric to chart.';
  if (t.elements === 0) return 'This tensor is empty: a dimension of its shape is 0, so it holds no values.';
  return null;
}

export interface TensorAnalysisState {
  /** The tensor the result (or the request in flight) belongs to. */
  tensorId: number | null;
  /** The newest result for `tensorId`; kept, dimmed, while a re-analysis with other options runs. */
  result: TensorAnalysis | null;
  /** True when `result` came from the small result cache instead of a fresh computation. */
  cached: boolean;
  loading: boolean;
  error: string | null;
}

export interface SparsityState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  result: SparsityResult | null;
  error: string | null;
}

export interface AnalysisSlice {
  selectedTensorId: number | null;
  /** Increases when a chart selects a tensor: the table scrolls that row into view. */
  revealRequest: number;
  bins: number;
  symmetric: boolean;
  /** Display only: a logarithmic count axis shows the thin tails of a histogram. */
  logCounts: boolean;
  backendPreference: BackendPreference;
  analysis: TensorAnalysisState;
  sparsity: SparsityState;
  /** null until the worker reported which backends run here. */
  backends: BackendStatus[] | null;

  /** Selects a tensor (null clears) and analyses it; `reveal` scrolls the table to it. */
  selectTensor(id: number | null, options?: { reveal?: boolean }): void;
  setBins(bins: number): void;
  setSymmetric(symmetric: boolean): void;
  setLogCounts(logCounts: boolean): void;
  setBackendPreference(preference: BackendPreference): void;
  /** Forgets selection, results and cache; called when another model opens. */
  resetAnalysis(): void;
  refreshSparsity(): Promise<void>;
  loadBackends(): Promise<void>;
}

/** The tensor analysis and the sparsity scan run as jobs (src/state/jobs): a newer request aborts the one running. */
const TENSOR_JOB = 'analysis:tensor';
const SPARSITY_JOB = 'analysis:sparsity';

/** The last few results, so going back to a tensor or a bin count shows at once. Cleared per model. */
const resultCache = lru<string, TensorAnalysis>(12);
const cacheKey = (id: number, o: AnalyzeOptions) => `${id}|${o.bins}|${o.symmetric ? 's' : 'r'}|${o.backend}`;

const IDLE_ANALYSIS: TensorAnalysisState = { tensorId: null, result: null, cached: false, loading: false, error: null };

export const createAnalysisSlice: StateCreator<StudioState, [], [], AnalysisSlice> = (set, get) => {
  function options(): AnalyzeOptions {
    const s = get();
    return { bins: s.bins, symmetric: s.symmetric, backend: s.backendPreference };
  }

  /** Analyses the selected tensor with the current options; never rejects. */
  async function analyseSelected(): Promise<void> {
    const { selectedTensorId: id, summary, analysis } = get();
    const tensor = id === null ? undefined : summary?.tensors[id];
    if (id === null || !tensor) {
      jobs.supersede(TENSOR_JOB);
      set({ analysis: IDLE_ANALYSIS });
      return;
    }
    const blocked = notAnalysable(tensor);
    if (blocked) {
      jobs.supersede(TENSOR_JOB);
      set({ analysis: { ...IDLE_ANALYSIS, tensorId: id } });
      return;
    }
    const opts = options();
    const key = cacheKey(id, opts);
    const hit = resultCache.get(key);
    if (hit) {
      jobs.supersede(TENSOR_JOB);
      set({ analysis: { tensorId: id, result: hit, cached: true, loading: false, error: null } });
      return;
    }
    // Same tensor, other options: keep the old chart (dimmed) instead of flashing an empty panel.
    const keep = analysis.tensorId === id ? analysis.result : null;
    set({ analysis: { tensorId: id, result: keep, cached: false, loading: true, error: null } });
    await jobs.run(TENSOR_JOB, (signal) => modelWorker.analyzeTensor(id, opts, signal), {
      done: (result) => {
        resultCache.set(key, result);
        set({ analysis: { tensorId: id, result, cached: false, loading: false, error: null } });
      },
      failed: (err) => set({ analysis: { tensorId: id, result: null, cached: false, loading: false, error: messageOf(err) } }),
    });
  }

  return {
    selectedTensorId: null,
    revealRequest: 0,
    bins: DEFAULT_ANALYZE_OPTIONS.bins,
    symmetric: DEFAULT_ANALYZE_OPTIONS.symmetric,
    logCounts: false,
    backendPreference: DEFAULT_ANALYZE_OPTIONS.backend,
    analysis: IDLE_ANALYSIS,
    sparsity: { status: 'idle', result: null, error: null },
    backends: null,

    selectTensor: (id, { reveal = false } = {}) => {
      const changed = id !== get().selectedTensorId;
      set((s) => ({ selectedTensorId: id, revealRequest: reveal ? s.revealRequest + 1 : s.revealRequest }));
      if (changed || get().analysis.error) void analyseSelected();
    },
    setBins: (bins) => {
      if (bins === get().bins) return;
      set({ bins });
      void analyseSelected();
    },
    setSymmetric: (symmetric) => {
      if (symmetric === get().symmetric) return;
      set({ symmetric });
      void analyseSelected();
    },
    setLogCounts: (logCounts) => set({ logCounts }),
    setBackendPreference: (backendPreference) => {
      if (backendPreference === get().backendPreference) return;
      set({ backendPreference });
      void analyseSelected();
      void get().refreshSparsity();
    },

    resetAnalysis: () => {
      jobs.supersede(TENSOR_JOB, SPARSITY_JOB);
      resultCache.clear();
      set({ selectedTensorId: null, analysis: IDLE_ANALYSIS, sparsity: { status: 'idle', result: null, error: null } });
    },

    refreshSparsity: async () => {
      if (!get().summary) return;
      set((s) => ({ sparsity: { status: 'loading', result: s.sparsity.result, error: null } }));
      await jobs.run(SPARSITY_JOB, (signal) => modelWorker.layerSparsity(get().backendPreference, signal), {
        done: (result) => set({ sparsity: { status: 'ready', result, error: null } }),
        failed: (err) => set({ sparsity: { status: 'error', result: null, error: messageOf(err) } }),
      });
    },

    loadBackends: async () => {
      if (get().backends) return;
      try {
        set({ backends: await modelWorker.backendStatus() });
      } catch {
        // Without a report the control still offers every choice; the worker falls back by itself.
      }
    },
  };
};

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return message.trim() || 'The analysis failed for an unknown reason.';
}
