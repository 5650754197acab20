import type { StateCreator } from 'zustand';
import { splitModelSets } from '../core/onnx/modelSets';
import type { ModelSummary } from '../core/onnx/types';
import { modelWorker } from './bridge';
import { jobs } from './jobs';
import { AUTO_RUN_MAX_BYTES } from './compressSlice';
import { saveFile } from './saveFile';
import type { UpgradeReport } from '../core/onnx/upgrade';
import type { StudioState } from './store';

export const DEMO_MODEL = { path: 'demo/mnist-cnn.onnx', name: 'mnist-cnn.onnx' } as const;

/** Absolute URL of the bundled demo (the worker resolves relative URLs against its own script). */
function demoUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}${DEMO_MODEL.path}`, location.href).href;
}

export type ModelStatus = 'idle' | 'loading' | 'ready';

/** "Upgrade to opset N" in the model summary: the converter compression uses, as a download of its own. */
export interface OpsetUpgradeState {
  status: 'idle' | 'running' | 'done' | 'error';
  opset: number | null;
  report: UpgradeReport | null;
  bytes: number | null;
  error: string | null;
}

export interface ModelSlice {
  summary: ModelSummary | null;
  fileName: string | null;
  /** 'loading' may coexist with a summary: the previous model stays visible while the next loads. */
  status: ModelStatus;
  /** What is being opened right now, for the loading message. */
  loadingName: string | null;
  /** A user-facing message from the last failed load; the previous model stays shown. */
  error: string | null;
  warnings: string[];
  isDemo: boolean;
  opsetUpgrade: OpsetUpgradeState;
  upgradeOpset(opset: number): Promise<void>;
  downloadUpgraded(): Promise<void>;
  /** Models opened together (several .onnx files at once), to switch between; empty for a single model. */
  modelList: OpenedSet[];
  /** Index in modelList of the model shown (or being opened); null when the shown model is not from the list. */
  activeModel: number | null;
  loadDemo(): Promise<void>;
  /** One model (with its external-data files), or several models: the first opens, the others wait in modelList. */
  openFiles(files: File[]): Promise<void>;
  /** Opens the model at `index` of modelList; the recipe stays as it is. */
  switchModel(index: number): Promise<void>;
  dismissError(): void;
  /** Said when the model worker crashed (e.g. out of memory) and was restarted with the open model; the recipe is kept. */
  workerNotice: string | null;
  dismissWorkerNotice(): void;
}

export interface OpenedSet {
  name: string;
  files: File[];
}

/** Opening a model and the opset upgrade run as jobs (src/state/jobs): a newer open aborts the one running. */
const OPEN_JOB = 'model:open';
const UPGRADE_JOB = 'model:upgrade';

const IDLE_UPGRADE: OpsetUpgradeState = { status: 'idle', opset: null, report: null, bytes: null, error: null };

export const createModelSlice: StateCreator<StudioState, [], [], ModelSlice> = (set, get) => {
  modelWorker.onCrash((message) => {
    const { fileName } = get();
    if (!fileName) return;
    // The result the crashed worker held is gone: clear it (no auto-run, which might crash again); the recipe stays.
    get().resetCompression(false);
    set({
      workerNotice: `${message} It was restarted and ${fileName} is reopened, with your recipe as it was; run Compress again for a new result.`,
    });
  });

  /** Never rejects: every failure ends up in `error`. */
  async function load(name: string, isDemo: boolean, run: (signal: AbortSignal) => Promise<ModelSummary>): Promise<void> {
    // The upgrade of the model shown belongs to it, not to the one opening.
    jobs.supersede(UPGRADE_JOB);
    set({ status: 'loading', loadingName: name, error: null });
    await jobs.run(OPEN_JOB, run, { done: opened, failed });

    function opened(summary: ModelSummary): void {
      get().resetAnalysis();
      set({
        summary,
        fileName: summary.fileName,
        status: 'ready',
        loadingName: null,
        warnings: summary.warnings,
        isDemo,
        opsetUpgrade: IDLE_UPGRADE,
      });
      // Weight views of the new model: sparsity per layer, and which kernel backends run here.
      void get().refreshSparsity();
      void get().loadBackends();
      // Compression results of the new model: at once for small models, on request for large ones.
      get().resetCompression(summary.weightBytes <= AUTO_RUN_MAX_BYTES);
      get().resetEvaluationLab(isDemo);
    }
    function failed(err: unknown): void {
      set({
        status: get().summary ? 'ready' : 'idle',
        loadingName: null,
        error: messageOf(err),
      });
    }
  }

  return {
    summary: null,
    fileName: null,
    status: 'idle',
    loadingName: null,
    error: null,
    warnings: [],
    isDemo: false,
    opsetUpgrade: IDLE_UPGRADE,
    modelList: [],
    activeModel: null,

    upgradeOpset: async (opset) => {
      set({ opsetUpgrade: { ...IDLE_UPGRADE, status: 'running', opset } });
      await jobs.run(UPGRADE_JOB, (signal) => modelWorker.upgrade(opset, signal), {
        done: ({ report, bytes }) => set({ opsetUpgrade: { status: 'done', opset, report, bytes, error: null } }),
        failed: (err) => set({ opsetUpgrade: { ...IDLE_UPGRADE, status: 'error', opset, error: messageOf(err) } }),
      });
    },

    downloadUpgraded: async () => {
      const { opsetUpgrade, fileName } = get();
      if (opsetUpgrade.status !== 'done' || !opsetUpgrade.opset || !fileName) return;
      const bytes = await modelWorker.upgradedBytes(opsetUpgrade.opset);
      if (!bytes) return set({ opsetUpgrade: { ...opsetUpgrade, status: 'error', error: 'The upgraded model is no longer held: upgrade again.' } });
      saveFile(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), upgradedFileName(fileName, opsetUpgrade.opset));
    },

    loadDemo: () => {
      set({ activeModel: null });
      return load(DEMO_MODEL.name, true, (signal) => modelWorker.openUrl(demoUrl(), DEMO_MODEL.name, signal));
    },

    openFiles: (files) => {
      if (files.length === 0) return Promise.resolve();
      const sets = splitModelSets(files);
      if (sets.length > 1) {
        set({ modelList: sets.map((set) => ({ name: set[0]!.name, files: set })), activeModel: null });
        return get().switchModel(0);
      }
      set({ modelList: [], activeModel: null });
      return openSet(files);
    },

    switchModel: (index) => {
      const entry = get().modelList[index];
      if (!entry) return Promise.resolve();
      set({ activeModel: index });
      return openSet(entry.files);
    },

    dismissError: () => set({ error: null }),
    workerNotice: null,
    dismissWorkerNotice: () => set({ workerNotice: null }),
  };

  /** Opens one model with its data files. */
  function openSet(files: File[]): Promise<void> {
    const main = files.find((f) => f.name.toLowerCase().endsWith('.onnx')) ?? files[0];
    const label = files.length > 1 ? `${main.name} and ${files.length - 1} more file${files.length > 2 ? 's' : ''}` : main.name;
    return load(label, false, (signal) => modelWorker.open(files, signal));
  }
};

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return message.trim() || 'The model could not be opened for an unknown reason.';
}

/** model.onnx → model.opset13.onnx (the CLI's default name too). */
export function upgradedFileName(fileName: string, opset: number): string {
  return `${fileName.replace(/\.onnx$/i, '')}.opset${opset}.onnx`;
}
