/**
 * What the evaluation commands (eval, sweep, sensitivity) share: reading their numeric flags, turning
 * `--data <dir|file>` into the loader's file list (or `--synthetic` into generated inputs), the node runtime,
 * and the JSON shapes of fidelity and latency.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { oneLine } from './format';
import { CandidateEvaluator } from '../core/eval/candidate';
import { IMAGENET_MEAN, IMAGENET_STD, type ImagePrep } from '../core/eval/data/image';
import { loadDataset, type DataFile } from '../core/eval/data/load';
import type { LatencyStats } from '../core/eval/latency';
import type { OutputFidelity, OutputTask } from '../core/eval/metrics';
import { dynamicDims, syntheticDataset } from '../core/eval/synthetic';
import { EvalInputError, type EvalDataset, type EvalRuntime, type ModelFiles } from '../core/eval/types';
import { modelFilesOf } from '../core/eval/model-files';
import { openModel, summarizeModel, type OpenedModel } from '../core/onnx/open';
import type { ModelSummary, ValueInfo } from '../core/onnx/types';
import * as ort from 'onnxruntime-node';
import { createNodeRuntime } from '../runtime/ort-node';
import { splitCalibration } from '../core/teacher/capture';
import { dataFileResolver, fileSource } from './node-source';

/** Wrong usage (exit status 2). main.ts reports it with a pointer to --help. */
export class UsageError extends Error {}

export const DEFAULT_SYNTHETIC_SAMPLES = 32;
export const SYNTHETIC_WARNING = 'fidelity on random inputs can differ a lot from fidelity on real data; pass --data for numbers you can trust';

/** The data and measurement flags every evaluation command takes (strings as parseArgs gives them). */
export interface EvalDataFlags {
  data?: string;
  samples?: string;
  runs?: string;
  warmup?: string;
  synthetic?: string;
  dims?: string;
  task?: string[];
  maskThreshold?: string;
  threads?: string;
  /** Synthetic floats: normal | uniform01 | uniform11. */
  floats?: string;
  /** Image preprocessing for folders of images. */
  image?: { size?: string; resize?: string; channels?: string; layout?: string; scale?: string; mean?: string; std?: string; imagenet?: boolean };
  json: boolean;
}

function choice<T extends string>(value: string | undefined, flag: string, options: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!options.includes(value as T)) throw new UsageError(`${flag} must be one of ${options.join(', ')} (got "${value}")`);
  return value as T;
}

function numberList(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  const out = value.split(',').map((v) => Number(v.trim()));
  if (out.length === 0 || out.some((v) => !Number.isFinite(v)))
    throw new UsageError(`${flag} takes numbers separated by commas, e.g. 0.485,0.456,0.406 (got "${value}")`);
  return out;
}

/** The image preprocessing the flags ask for (the rest is inferred from the model input, as in the studio). */
export function imagePrepFlags(image: EvalDataFlags['image'] = {}): Partial<ImagePrep> {
  const prep: Partial<ImagePrep> = {};
  if (image.size !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/i.exec(image.size);
    if (!m || Number(m[1]) < 1) throw new UsageError(`--image-size takes N or WxH in pixels, e.g. 224 or 320x240 (got "${image.size}")`);
    prep.width = Number(m[1]);
    prep.height = Number(m[2] ?? m[1]);
  }
  const resize = choice(image.resize, '--resize', ['stretch', 'center-crop', 'letterbox'] as const);
  const channels = choice(image.channels, '--channels', ['rgb', 'bgr', 'gray'] as const);
  const layout = choice(image.layout, '--layout', ['nchw', 'nhwc'] as const);
  const scale = choice(image.scale, '--scale', ['0-1', '0-255', '-1-1'] as const);
  if (resize) prep.resize = resize;
  if (channels) prep.channels = channels;
  if (layout) prep.layout = layout;
  if (scale) prep.scale = scale;
  if (image.imagenet) {
    if (image.mean !== undefined || image.std !== undefined) throw new UsageError('--imagenet sets --mean and --std; give one or the other');
    prep.mean = IMAGENET_MEAN;
    prep.std = IMAGENET_STD;
  }
  const mean = numberList(image.mean, '--mean');
  const std = numberList(image.std, '--std');
  if (std?.some((v) => v === 0)) throw new UsageError('--std values must not be 0');
  if (mean) prep.mean = mean;
  if (std) prep.std = std;
  return prep;
}

export interface EvalSettings {
  samples?: number;
  runs: number;
  warmup?: number;
  tasks?: Record<string, OutputTask>;
  maskThreshold?: number;
  threads?: number;
}

export function integerFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs a whole number ≥ ${min} (got "${value}")`);
  return n;
}

export function numberFlag(value: string | undefined, flag: string, min = -Infinity, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range = Number.isFinite(min) && Number.isFinite(max) ? ` from ${min} to ${max}` : Number.isFinite(min) ? ` ≥ ${min}` : '';
    throw new UsageError(`${flag} needs a number${range} (got "${value}")`);
  }
  return n;
}

/** "a,b,c" → ['a', 'b', 'c'] (spaces trimmed, empty parts dropped). */
export function listFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return parts.length ? parts : undefined;
}

const TASKS: OutputTask[] = ['classification', 'map', 'sequence', 'regression'];

/** `--task out=classification` (repeatable, or comma-separated) → tasks by output name, checked against the model's outputs. */
export function parseTasks(values: string[] | undefined, outputs: ValueInfo[]): Record<string, OutputTask> | undefined {
  const items = (values ?? []).flatMap((v) => listFlag(v) ?? []);
  if (items.length === 0) return undefined;
  const tasks: Record<string, OutputTask> = {};
  for (const item of items) {
    const at = item.lastIndexOf('=');
    if (at <= 0) throw new UsageError(`--task takes OUTPUT=${TASKS.join('|')} (got "${item}")`);
    const name = item.slice(0, at);
    const task = item.slice(at + 1) as OutputTask;
    if (!TASKS.includes(task)) throw new UsageError(`--task: "${task}" is not one of ${TASKS.join(', ')}`);
    if (!outputs.some((o) => o.name === name))
      throw new EvalInputError(`--task: the model has no output "${name}" (outputs: ${outputs.map((o) => o.name).join(', ')})`);
    tasks[name] = task;
  }
  return tasks;
}

/** The numeric settings, checked; `tasks` are added once the model's outputs are known. */
export function evalSettings(flags: EvalDataFlags, defaultRuns = 20): EvalSettings {
  if (flags.data !== undefined && flags.synthetic !== undefined) throw new UsageError('give --data or --synthetic, not both');
  if (flags.data !== undefined && flags.dims !== undefined) throw new UsageError('--dims sets the shapes of synthetic inputs; it does not apply with --data');
  return {
    samples: integerFlag(flags.samples, '--samples', 1),
    runs: integerFlag(flags.runs, '--runs', 0) ?? defaultRuns,
    warmup: integerFlag(flags.warmup, '--warmup', 0),
    maskThreshold: numberFlag(flags.maskThreshold, '--mask-threshold', 0, 1),
    threads: integerFlag(flags.threads, '--threads', 1),
  };
}

/** `--dims batch=1,sequence=128` → values by dimension name, checked against the inputs' dynamic dimensions. */
export function parseDims(value: string | undefined, inputs: ValueInfo[]): Record<string, number> | undefined {
  const items = listFlag(value);
  if (!items) return undefined;
  const known = dynamicDims(inputs).map((d) => d.key);
  const dims: Record<string, number> = {};
  for (const item of items) {
    const at = item.lastIndexOf('=');
    if (at <= 0) throw new UsageError(`--dims takes NAME=VALUE,… (got "${item}")`);
    const name = item.slice(0, at);
    const n = integerFlag(item.slice(at + 1), `--dims ${name}`, 1)!;
    if (!known.includes(name)) {
      throw new EvalInputError(
        `--dims: the inputs have no dynamic dimension "${name}" (${known.length ? `they have: ${known.join(', ')}` : 'every dimension is fixed'})`,
      );
    }
    dims[name] = n;
  }
  return dims;
}

/** The files under `dir` (recursively; symlinks followed once), paths relative to it and '/' separated. */
export async function dataFilesIn(dir: string): Promise<DataFile[]> {
  const out: DataFile[] = [];
  const seen = new Set<string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const real = await realpath(abs);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await readdir(abs, { withFileTypes: true });
    for (const entry of entries) {
      // Hidden files and folders (.git, .DS_Store) are not data; the loader would drop them anyway.
      if (entry.name.startsWith('.')) continue;
      const full = path.join(abs, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      const info = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
      if (!info) continue;
      if (info.isDirectory()) await walk(full, relPath);
      else if (info.isFile()) out.push({ path: relPath, bytes: async () => new Uint8Array(await readFile(full)) });
    }
  };
  await walk(dir, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `--data` as the loader's file list: a folder's files, or the one file named. */
export async function dataFilesFrom(arg: string): Promise<DataFile[]> {
  const info = await stat(arg).catch(() => undefined);
  if (!info) throw new EvalInputError(`--data: no such file or folder: ${arg}`);
  if (info.isDirectory()) {
    const files = await dataFilesIn(arg);
    if (files.length === 0) throw new EvalInputError(`--data: the folder ${arg} holds no files`);
    return files;
  }
  return [{ path: path.basename(arg), bytes: async () => new Uint8Array(await readFile(arg)) }];
}

/** The evaluation data: `--data` through the studio's loader, else seeded synthetic inputs from the input specs. */
export async function evalDataset(flags: EvalDataFlags, settings: EvalSettings, inputs: ValueInfo[]): Promise<EvalDataset> {
  if (flags.data !== undefined) {
    return loadDataset(await dataFilesFrom(flags.data), inputs, {
      image: imagePrepFlags(flags.image),
      ...(settings.samples !== undefined ? { limit: settings.samples } : {}),
    });
  }
  const count = integerFlag(flags.synthetic, '--synthetic', 1) ?? settings.samples ?? DEFAULT_SYNTHETIC_SAMPLES;
  return syntheticDataset(inputs, {
    count,
    dims: parseDims(flags.dims, inputs),
    floats: choice(flags.floats, '--floats', ['normal', 'uniform01', 'uniform11'] as const),
  });
}

/** Labelled samples among the first `used`. */
export function labelledCount(data: EvalDataset, used: number): number {
  return data.samples.slice(0, used).filter((s) => s.label !== undefined).length;
}

/** The dataset as the JSON reports show it. */
export function datasetJson(data: { name: string; description: string; synthetic: boolean; classNames?: string[] }, used: number, labelled: number) {
  return {
    name: data.name,
    description: data.description,
    samples: used,
    labelled,
    synthetic: data.synthetic,
    ...(data.classNames ? { classNames: data.classNames } : {}),
    ...(data.synthetic ? { warning: SYNTHETIC_WARNING } : {}),
  };
}

export function nodeRuntime(settings: EvalSettings): EvalRuntime {
  // onnxruntime's warnings (e.g. "Removing initializer … not used") would interleave with the report; errors still show.
  ort.env.logLevel = 'error';
  return createNodeRuntime(settings.threads ? { threads: settings.threads } : {});
}

export interface LoadedModel {
  path: string;
  /** The ONNX file and the external-data files it refers to (read from the model's folder). */
  files: ModelFiles;
  opened: OpenedModel;
  summary: ModelSummary;
}

/** Reads a model for evaluation: its bytes (for onnxruntime) and its parsed graph (inputs, outputs, compression). */
export async function loadModel(modelPath: string): Promise<LoadedModel> {
  const opened = await openModel([await fileSource(modelPath)], { resolveDataFile: dataFileResolver(path.dirname(modelPath)) });
  return { path: modelPath, files: await modelFilesOf(opened), opened, summary: summarizeModel(opened) };
}

/** JSON has no NaN/Infinity: write them as null. */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function latencyJson(l: LatencyStats) {
  return {
    median: l.medianMs,
    p90: l.p90Ms,
    p10: l.p10Ms,
    min: l.minMs,
    max: l.maxMs,
    mean: l.meanMs,
    spreadPct: l.spreadPct,
    firstRun: l.firstRunMs,
    runs: l.runs,
  };
}

export function fidelityJson(f: OutputFidelity) {
  return {
    name: f.name,
    cosine: f.cosine,
    sqnrDb: f.sqnrDb,
    maxAbs: f.maxAbs,
    top1Agreement: f.top1Agreement ?? null,
    meanAbs: f.meanAbs,
    task: f.task,
    taskSource: f.taskSource,
    headline: f.headline,
    ...(f.klDivergence !== undefined ? { klDivergence: f.klDivergence } : {}),
    ...(f.maskIoU !== undefined ? { maskIoU: f.maskIoU, maskThreshold: f.maskThreshold, flippedPixels: f.flippedPixels } : {}),
    ...(f.positionAgreement !== undefined ? { positionAgreement: f.positionAgreement } : {}),
    elements: f.elements,
    nonFinite: f.nonFinite,
  };
}

/** Short number formats for tables. */
export const fmt = {
  pct: (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? '' : `${(x * 100).toFixed(digits)}%`),
  ms: (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1)),
  cosine: (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x >= 0.9999 && x < 1 ? x.toFixed(6) : x.toFixed(4)),
  sqnr: (x: number | null | undefined) => (x === null ? '∞' : x === undefined || !Number.isFinite(x) ? '' : x.toFixed(1)),
  g3: (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : Number(x.toPrecision(3)).toString()),
  /** "↓74.1%" (or "↑3.0%") of `after` against `before`. */
  shrink: (before: number, after: number) => {
    if (!(before > 0)) return '';
    const change = (1 - after / before) * 100;
    return change >= 0 ? `↓${change.toFixed(1)}%` : `↑${(-change).toFixed(1)}%`;
  },
  ratio: (candidate: number | undefined, original: number | undefined) =>
    candidate !== undefined && original && original > 0 ? `×${(candidate / original).toFixed(2)}` : '',
};

/** "name: description" of a metric's headline, as the tables show it. */
export function headlineText(h: { metric: string; value: number } | undefined): string {
  if (!h) return '';
  return `${h.metric} ${h.metric === 'cosine' ? fmt.cosine(h.value) : fmt.pct(h.value)}`;
}

/**
 * What sweep and sensitivity share: the data, a stderr progress printer (quiet with --json) and an evaluator
 * that has run the original on every sample once.
 */
export async function candidateSetup(
  flags: EvalDataFlags,
  settings: EvalSettings,
  model: LoadedModel,
  calibrationSamples?: number,
): Promise<{ data: EvalDataset; progress: (line: string) => void; evaluator: CandidateEvaluator; calibration?: EvalDataset }> {
  settings.tasks = parseTasks(flags.task, model.summary.outputs);
  let data = await evalDataset(
    flags,
    { ...settings, ...(calibrationSamples !== undefined && settings.samples !== undefined ? { samples: settings.samples + calibrationSamples } : {}) },
    model.summary.inputs,
  );
  // Static int8 points calibrate on the first samples; every point is then measured on the others only.
  let calibration: EvalDataset | undefined;
  if (calibrationSamples !== undefined) {
    const split = splitCalibration(data, calibrationSamples, true);
    calibration = split.calibration;
    data = split.evaluation;
  }
  const progress = (line: string) => {
    if (!flags.json) process.stderr.write(oneLine(line) + '\n');
  };
  if (data.synthetic) progress(`note: no --data given: ${data.samples.length} synthetic inputs; ${SYNTHETIC_WARNING}`);
  const evaluator = await CandidateEvaluator.create(nodeRuntime(settings), model.files, data, {
    backend: 'cpu',
    samples: settings.samples,
    runs: settings.runs,
    warmup: settings.warmup,
    tasks: settings.tasks,
    maskThreshold: settings.maskThreshold,
  });
  return { data, progress, evaluator, ...(calibration ? { calibration } : {}) };
}
