import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import path from 'node:path';
import { compressModel, gzipSize, type CompressOptions, type CompressResult, type StaticOptions } from '../../core/compress/compress';
import type { StaticReport } from '../../core/compress/quantize/static';
import { staticCalibrationNames } from '../../core/compress/quantize/static';
import { modelFilesOf } from '../../core/eval/model-files';
import { captureActivations, DEFAULT_CALIBRATION_SAMPLES, splitCalibration } from '../../core/teacher/capture';
import { collectHessians } from '../../core/teacher/gptq-layers';
import type { RefitLayerReport, RefitOptions } from '../../core/teacher/refit';
import { changedLayers, formatDb, reportStages, teacherStudentReport, type TeacherStudentReport } from '../../core/teacher/report';
import type { EvalRuntime, EvalSample, ModelFiles } from '../../core/eval/types';
import type { QuantizeOptions } from '../../core/compress/quantize/quantize';
import { evalDataset, evalSettings, nodeRuntime, UsageError, type EvalDataFlags } from '../eval-data';
import { COVERAGE_WARN_BELOW, describeLeft, type Coverage } from '../../core/compress/coverage';
import { describeUpgrade } from '../../core/onnx/upgrade';
import type { PruneGroupReport, PruneOptions, PruneReport } from '../../core/compress/prune/apply';
import type { QuantReport } from '../../core/compress/quantize/report';
import { openModel, summarizeModel, type OpenedModel } from '../../core/onnx/open';
import {
  DEFAULT_PRUNE,
  DEFAULT_QUANTIZE,
  RecipeError,
  compressedFileName,
  externalDataFileName,
  validatePrune,
  validateQuantize,
  validateRecipe,
  type PruneRecipe,
  type QuantizeRecipe,
  type Recipe,
} from '../../core/recipe';
import { formatBytes, formatCount, oneLine, table } from '../format';
import { dataFileResolver, fileSource } from '../node-source';
import { checkOutputPath, writeFileSafely } from '../safe-write';
import { parseSize } from './sensitivity';

export interface CompressFlags {
  output?: string;
  recipe?: string;
  saveRecipe?: string;
  bits?: string;
  granularity?: string;
  blockSize?: string;
  symmetric?: boolean;
  asymmetric?: boolean;
  range?: string;
  percentile?: string;
  format?: string;
  exclude?: string[];
  excludeOp?: string[];
  override?: string[];
  sparsity?: string;
  pattern?: string;
  global?: boolean;
  layerCap?: string;
  norm?: string;
  groupImportance?: string;
  externalData?: string;
  /** Write the model (exit 0) even when the recipe compressed nothing. */
  allowUnchanged?: boolean;
  /** Weights in OUTPUT_data beside the model at any size (always so over 2 GB). */
  saveExternalData?: boolean;
  /** Static int8: calibration data (the eval loaders), sample count, range method, bias correction. */
  calibData?: string;
  calibSamples?: string;
  calibMethod?: string;
  staticWeights?: string;
  biasCorrection?: boolean;
  /** GPTQ for weights (calibrated like static), its dampening and activation order. */
  gptq?: boolean;
  gptqDamp?: string;
  actOrder?: boolean;
  /** Channel pruning: refit the layers reading the cut channels by least squares on the calibration data. */
  refit?: boolean;
  /** The teacher–student report on the calibration data (needs --calib-data). */
  teacherReport?: boolean;
  /** SparseGPT masks (calibrated like GPTQ) instead of magnitude: --prune-method magnitude|sparsegpt. */
  pruneMethod?: string;
  /** The issue's names: --weights rtn|gptq (--gptq), --activations 8 (--format static), --calibration M (--calib-method), --calibration-samples N (--calib-samples). */
  weights?: string;
  activations?: string;
  calibration?: string;
  calibrationSamples?: string;
  /** How calibration data is shaped: synthetic dims/floats, image preprocessing, onnxruntime threads. */
  calibShape?: Pick<EvalDataFlags, 'dims' | 'floats' | 'threads' | 'image'>;
  /** --memory-budget as given (size or N% of this machine's memory). */
  memoryBudget?: string;
  json: boolean;
}

function number(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new RecipeError(`${flag} needs a number (got "${value}")`);
  return n;
}

const QUANT_FLAGS = [
  'bits',
  'granularity',
  'blockSize',
  'symmetric',
  'asymmetric',
  'range',
  'percentile',
  'format',
  'override',
  'excludeOp',
  'calibSamples',
  'calibMethod',
  'staticWeights',
  'biasCorrection',
  'gptq',
  'gptqDamp',
  'actOrder',
] as const;
const PRUNE_FLAGS = ['sparsity', 'pattern', 'global', 'layerCap', 'norm', 'groupImportance', 'refit'] as const;

/**
 * Flags and recipe file are two views of one recipe: flags given on the command line win. Prune flags add a
 * prune step; quantization runs when its flags or the recipe ask for it, or when nothing else was asked (int8).
 */
export async function recipeFromFlags(flags: CompressFlags): Promise<Recipe> {
  flags = resolveAliases(flags);
  let file: Recipe = { version: 1 };
  if (flags.recipe) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(flags.recipe, 'utf8'));
    } catch (err) {
      throw new RecipeError(`cannot read recipe ${flags.recipe}: ${err instanceof Error ? err.message : String(err)}`);
    }
    file = validateRecipe(json);
  }
  const given = (keys: readonly (keyof CompressFlags)[]) =>
    keys.some((k) => flags[k] !== undefined && !(Array.isArray(flags[k]) && (flags[k] as unknown[]).length === 0));
  const wantPrune = !!file.prune || given(PRUNE_FLAGS);
  if (flags.pruneMethod !== undefined && !wantPrune) throw new UsageError('--prune-method goes with pruning (--sparsity, --pattern or a recipe with prune)');
  // --calib-samples also sizes the calibration of the refit, the report and SparseGPT: alone with them it asks for no quantization.
  const sparse = flags.pruneMethod === 'sparsegpt';
  const quantFlags = flags.refit || flags.teacherReport || sparse ? QUANT_FLAGS.filter((k) => k !== 'calibSamples') : QUANT_FLAGS;
  const wantQuant = !!file.quantize || given(quantFlags) || !wantPrune;
  const recipe: Recipe = { version: 1 };
  try {
    if (wantPrune) recipe.prune = pruneFromFlags(flags, file.prune);
    if (wantQuant) recipe.quantize = quantizeFromFlags(flags, file.quantize);
  } catch (err) {
    // The recipe file passed on its own: what fails now is a flag's value, which is wrong usage (exit 2).
    if (err instanceof RecipeError) throw new UsageError(err.message);
    throw err;
  }
  return recipe;
}

function pruneFromFlags(flags: CompressFlags, base: PruneRecipe | undefined): PruneRecipe {
  const p: Partial<PruneRecipe> = { ...DEFAULT_PRUNE, ...base };
  if (flags.sparsity !== undefined) p.sparsity = number(flags.sparsity, '--sparsity');
  if (flags.pattern !== undefined) p.pattern = flags.pattern as PruneRecipe['pattern'];
  if (flags.global) p.global = true;
  if (flags.layerCap !== undefined) p.layerCap = number(flags.layerCap, '--layer-cap');
  if (flags.norm !== undefined) p.norm = flags.norm as PruneRecipe['norm'];
  if (flags.groupImportance !== undefined) p.groupImportance = flags.groupImportance as PruneRecipe['groupImportance'];
  if (flags.exclude?.length) p.exclude = [...(p.exclude ?? []), ...flags.exclude];
  if (flags.refit) p.refit = true;
  if (flags.pruneMethod !== undefined) p.method = flags.pruneMethod as PruneRecipe['method'];
  if (p.method === 'sparsegpt' && p.pattern === 'channel')
    throw new RecipeError('--prune-method sparsegpt chooses unstructured and N:M masks; channel pruning ranks channels by norm (leave --prune-method out)');
  if (flags.calibSamples !== undefined && p.method === 'sparsegpt') p.calibrationSamples = number(flags.calibSamples, '--calib-samples');
  return validatePrune(p);
}

function quantizeFromFlags(flags: CompressFlags, base: QuantizeRecipe | undefined): QuantizeRecipe {
  if (flags.symmetric && flags.asymmetric) throw new RecipeError('choose --symmetric or --asymmetric, not both');
  const q: Partial<QuantizeRecipe> = { ...DEFAULT_QUANTIZE, ...base };
  if (flags.bits !== undefined) q.bits = number(flags.bits, '--bits');
  if (flags.granularity !== undefined) q.granularity = flags.granularity as QuantizeRecipe['granularity'];
  if (flags.blockSize !== undefined) q.blockSize = number(flags.blockSize, '--block-size');
  if (flags.symmetric) q.symmetric = true;
  if (flags.asymmetric) q.symmetric = false;
  if (flags.range !== undefined) q.range = flags.range as QuantizeRecipe['range'];
  if (flags.percentile !== undefined) q.percentile = number(flags.percentile, '--percentile');
  if (flags.format !== undefined) q.format = flags.format as QuantizeRecipe['format'];
  if (flags.calibSamples !== undefined) q.calibrationSamples = number(flags.calibSamples, '--calib-samples');
  if (flags.calibMethod !== undefined) q.calibration = flags.calibMethod as QuantizeRecipe['calibration'];
  if (flags.staticWeights !== undefined) q.staticWeights = flags.staticWeights as QuantizeRecipe['staticWeights'];
  if (flags.biasCorrection) q.biasCorrection = true;
  if (flags.gptq || flags.gptqDamp !== undefined || flags.actOrder) {
    q.gptq = { ...(q.gptq ?? {}), enabled: flags.gptq || (q.gptq?.enabled ?? false) };
    if (flags.gptqDamp !== undefined) q.gptq.dampening = number(flags.gptqDamp, '--gptq-damp');
    if (flags.actOrder) q.gptq.actOrder = true;
  }
  if (flags.exclude?.length) q.exclude = [...(q.exclude ?? []), ...flags.exclude];
  if (flags.excludeOp?.length) q.excludeOps = [...(q.excludeOps ?? []), ...flags.excludeOp];
  for (const o of flags.override ?? []) {
    const at = o.lastIndexOf('=');
    if (at <= 0) throw new RecipeError(`--override takes GLOB=BITS (got "${o}")`);
    q.overrides = [...(q.overrides ?? []), { match: o.slice(0, at), bits: number(o.slice(at + 1), '--override') }];
  }
  return validateQuantize(q);
}

/** The issue's flag names folded into the studio's own (one spelling of each setting reaches the recipe). */
function resolveAliases(flags: CompressFlags): CompressFlags {
  const out = { ...flags };
  const same = (a: string, b: string, alias: string, canonical: string) => {
    if (a !== b) throw new UsageError(`${alias} and ${canonical} disagree: give one of them`);
  };
  if (flags.weights !== undefined) {
    if (flags.weights !== 'rtn' && flags.weights !== 'gptq') throw new UsageError(`--weights takes rtn or gptq (got "${flags.weights}")`);
    if (flags.weights === 'rtn' && flags.gptq) throw new UsageError('--weights rtn and --gptq disagree: give one of them');
    if (flags.weights === 'gptq') out.gptq = true;
  }
  if (flags.activations !== undefined) {
    if (flags.activations !== '8') throw new UsageError(`--activations takes 8 (static int8 activations, as --format static; got "${flags.activations}")`);
    if (flags.format !== undefined) same(flags.format, 'static', '--activations 8', '--format');
    out.format = 'static';
  }
  if (flags.calibration !== undefined) {
    if (flags.calibMethod !== undefined) same(flags.calibration, flags.calibMethod, '--calibration', '--calib-method');
    out.calibMethod = flags.calibration;
  }
  if (flags.calibrationSamples !== undefined) {
    if (flags.calibSamples !== undefined) same(flags.calibrationSamples, flags.calibSamples, '--calibration-samples', '--calib-samples');
    out.calibSamples = flags.calibrationSamples;
  }
  return out;
}

export async function compressCommand(modelPath: string, flags: CompressFlags): Promise<string> {
  const recipe = await recipeFromFlags(flags);
  const memoryBudget = memoryBudgetFlag(flags.memoryBudget);
  const output = flags.output ?? compressedFileName(modelPath, recipe);
  await checkOutputs(modelPath, flags, output);
  const one = await compressOne(modelPath, recipe, flags, output, memoryBudget, (message) => process.stderr.write(oneLine(`cstudio: ${message}`) + '\n'));
  if (flags.saveRecipe) await writeFileSafely(flags.saveRecipe, JSON.stringify(recipe, null, 2) + '\n');
  return flags.json ? toJson(one.json) : one.text;
}

interface CompressedOne {
  json: Record<string, unknown>;
  text: string;
  inputBytes: number;
  outputBytes: number;
  coverage: number;
}

/** Opens, compresses and writes one model (safely: a temporary file renamed after success); throws, nothing written, when it fails or compresses nothing. */
async function compressOne(
  modelPath: string,
  recipe: Recipe,
  flags: CompressFlags,
  output: string,
  memoryBudget: number,
  warn: (message: string) => void,
): Promise<CompressedOne> {
  flags = resolveAliases(flags);
  // Outputs too big for one file (or with --save-external-data) keep their weights in output.onnx_data beside the model.
  const dataPath = externalDataFileName(output);
  await checkOutputPath(dataPath, '-o (its external-data file)', [modelPath, ...(flags.recipe ? [flags.recipe] : [])]);
  const opened = await openModel([await fileSource(modelPath)], { resolveDataFile: dataFileResolver(flags.externalData ?? path.dirname(modelPath)) });
  const isStatic = recipe.quantize?.format === 'static';
  const isGptq = recipe.quantize?.gptq?.enabled === true;
  const isSparse = recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel';
  if ((flags.gptqDamp !== undefined || flags.actOrder) && !isGptq) throw new UsageError('--gptq-damp and --act-order go with --gptq');
  if (isGptq && recipe.quantize!.format === 'fp16') throw new UsageError('--gptq quantizes to integer codes: it does not go with --format fp16');
  if (!isStatic && (flags.calibMethod !== undefined || flags.biasCorrection || flags.staticWeights !== undefined)) {
    throw new UsageError('--calib-method, --static-weights and --bias-correction go with --format static');
  }
  const wantRefit = recipe.prune?.refit === true;
  if (wantRefit && recipe.prune?.pattern !== 'channel')
    throw new UsageError('--refit goes with --pattern channel: it refits the layers that read the removed channels');
  if (flags.teacherReport && flags.calibData === undefined)
    throw new UsageError('--teacher-report needs --calib-data: it compares each layer with the original on real calibration inputs');
  if (!isStatic && !isGptq && !isSparse && !wantRefit && !flags.teacherReport && (flags.calibData !== undefined || flags.calibSamples !== undefined)) {
    throw new UsageError('--calib-data and --calib-samples go with --format static or --gptq (or --prune-method sparsegpt, --refit, --teacher-report)');
  }
  const data =
    isStatic || isGptq || isSparse || wantRefit || flags.teacherReport
      ? await calibrationData(opened, recipe, flags, isStatic ? 'static int8' : isGptq ? 'GPTQ' : isSparse ? 'SparseGPT' : 'the refit')
      : undefined;
  const calibration = isStatic || isGptq || isSparse ? await calibrate(opened, recipe, data!, isStatic) : undefined;
  // GPTQ's Hessians are the refit's too: one pass of the original serves both.
  const refit = wantRefit ? (calibration?.gptq ? { layers: calibration.gptq.layers } : await refitOptions(data!)) : undefined;
  // GPTQ after channel pruning: the pruned layers read fewer (and refit) inputs, so their Hessians come from the pruned model.
  const hessiansAfterPrune = isGptq && recipe.prune?.pattern === 'channel' ? prunedHessians(data!) : undefined;
  const result = await compressModel(opened, recipe, {
    ...(calibration ?? {}),
    ...(refit ? { refit } : {}),
    ...(hessiansAfterPrune ? { hessiansAfterPrune } : {}),
    memoryBudget,
    externalDataName: path.basename(dataPath),
    ...(flags.saveExternalData ? { standaloneLimit: 0 } : {}),
  });
  const cov = result.coverage;
  const changed = cov.compressedBytes > 0 || (result.prune?.layers.some((l) => l.action === 'prune') ?? false);
  if (!changed && !flags.allowUnchanged) {
    throw new NothingCompressedError(
      `nothing was compressed, so no model was written (--allow-unchanged writes it anyway). ${leftText(cov) || 'The model has no float weights.'}`,
    );
  }
  const teacherStudent = flags.teacherReport ? await teacherReport(opened, recipe, result, data!, calibration, refit, hessiansAfterPrune) : undefined;
  if (result.data) await writeFileSafely(dataPath, result.data.chunks);
  await writeFileSafely(output, result.bytes);
  const gzipBytes = recipe.prune && recipe.prune.pattern !== 'channel' ? await gzipSize(result.bytes) : undefined;
  if (cov.fraction < COVERAGE_WARN_BELOW && changed) warn(`only ${percent(cov.fraction)} of the weight bytes were compressed. ${leftText(cov)}`);
  const json = {
    input: modelPath,
    output,
    ...(result.data ? { externalData: dataPath } : {}),
    recipe,
    inputBytes: result.inputBytes,
    outputBytes: result.outputBytes,
    ...(gzipBytes !== undefined ? { gzipBytes } : {}),
    coverage: cov,
    ...(result.upgrade ? { upgrade: { ...result.upgrade, summary: describeUpgrade(result.upgrade) } } : {}),
    ...(result.prune ? { prune: result.prune } : {}),
    ...(result.quantize ? reportJson(result.quantize) : {}),
    ...(teacherStudent ? { teacherStudent } : {}),
  };
  const lines = [
    `${modelPath} (${formatBytes(result.inputBytes)}) → ${output}${result.data ? ` + ${result.data.name}` : ''} (${formatBytes(result.outputBytes)}), ↓${((1 - result.outputBytes / result.inputBytes) * 100).toFixed(1)}%${gzipBytes !== undefined ? `; gzip ${formatBytes(gzipBytes)}` : ''}`,
    `coverage: ${percent(cov.fraction)} of the weight bytes compressed (${formatBytes(cov.compressedBytes)} of ${formatBytes(cov.totalBytes)})`,
    ...cov.left.map((g) => `  left: ${oneLine(describeLeft(g, formatBytes))}`),
  ];
  if (result.upgrade) lines.push(`upgrade: ${describeUpgrade(result.upgrade)}`);
  if (result.prune) lines.push('', renderPrune(result.prune));
  if (result.prune?.refit) lines.push(...renderRefit(result.prune.refit));
  if (result.quantize) lines.push('', renderReport(result.quantize));
  if (teacherStudent) lines.push('', renderTeacherStudent(teacherStudent));
  return { json, text: lines.join('\n'), inputBytes: result.inputBytes, outputBytes: result.outputBytes, coverage: cov.fraction };
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}

/** Some models of a batch failed: the report of all (written to stdout) and exit status 1. */
export class BatchFailedError extends Error {
  constructor(
    readonly output: string,
    message: string,
  ) {
    super(message);
  }
}

/** The .onnx files a batch names: files as given, folders by their .onnx files (sorted, not recursive). */
export async function batchInputs(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let isDir = false;
    try {
      isDir = (await stat(input)).isDirectory();
    } catch {
      // A missing file fails on its own row.
    }
    if (!isDir) {
      out.push(input);
      continue;
    }
    const names = (await readdir(input, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.onnx$/i.test(e.name))
      .map((e) => e.name)
      .sort();
    if (!names.length) throw new UsageError(`${input} holds no .onnx files`);
    out.push(...names.map((n) => path.join(input, n)));
  }
  return out;
}

/**
 * Several models with one recipe: each written to --out-dir (or beside its input), one summary table or one
 * JSON array; a model that fails does not stop the others, and any failure makes the exit status 1.
 */
export async function compressBatch(inputs: string[], flags: CompressFlags & { outDir?: string }): Promise<string> {
  if (flags.output !== undefined) throw new UsageError('-o/--output names one file: with several models use --out-dir');
  const models = await batchInputs(inputs);
  const recipe = await recipeFromFlags(flags);
  if (flags.outDir) await mkdir(flags.outDir, { recursive: true });
  const outputs = models.map((m) => (flags.outDir ? path.join(flags.outDir, path.basename(compressedFileName(m, recipe))) : compressedFileName(m, recipe)));
  const seen = new Map<string, string>();
  for (const [i, o] of outputs.entries()) {
    const key = path.resolve(o);
    const other = seen.get(key);
    if (other !== undefined) throw new UsageError(`${other} and ${models[i]} would both be written to ${o}`);
    seen.set(key, models[i]!);
  }
  if (flags.saveRecipe) await writeFileSafely(flags.saveRecipe, JSON.stringify(recipe, null, 2) + '\n');
  const memoryBudget = memoryBudgetFlag(flags.memoryBudget);
  const rows: ({ input: string; output: string } & ({ ok: true; one: CompressedOne } | { ok: false; error: string }))[] = [];
  for (const [i, input] of models.entries()) {
    const output = outputs[i]!;
    try {
      await checkOutputPath(output, '--out-dir', [input]);
      const one = await compressOne(input, recipe, flags, output, memoryBudget, (message) =>
        process.stderr.write(oneLine(`cstudio: ${input}: ${message}`) + '\n'),
      );
      rows.push({ input, output, ok: true, one });
    } catch (err) {
      rows.push({ input, output, ok: false, error: failureReason(err) });
    }
  }
  const failed = rows.filter((r) => !r.ok).length;
  const report = flags.json
    ? toJson(rows.map((r) => (r.ok ? { ok: true, ...r.one.json } : { ok: false, input: r.input, error: r.error })))
    : [
        table(
          ['model', 'output', 'before', 'after', 'ratio', 'coverage', 'status'],
          rows.map((r) =>
            r.ok
              ? [
                  r.input,
                  r.output,
                  formatBytes(r.one.inputBytes),
                  formatBytes(r.one.outputBytes),
                  `${(r.one.outputBytes / r.one.inputBytes).toFixed(2)}×`,
                  percent(r.one.coverage),
                  'ok',
                ]
              : [r.input, '-', '', '', '', '', `failed: ${r.error}`],
          ),
          [false, false, true, true, true, true, false],
        ),
        '',
        `${rows.length - failed} of ${rows.length} models compressed${failed ? `, ${failed} failed` : ''}`,
      ].join('\n');
  if (failed)
    throw new BatchFailedError(
      report,
      `${failed} of ${rows.length} models failed: ${rows
        .filter((r) => !r.ok)
        .map((r) => r.input)
        .join(', ')}`,
    );
  return report;
}

function failureReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `no such file: ${e.path ?? ''}`;
  return oneLine((err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' '));
}

interface CalibrationData {
  samples: EvalSample[];
  runtime: EvalRuntime;
  files: ModelFiles;
}

/** The calibration samples (the eval loaders, or seeded random inputs with a loud warning) and onnxruntime-node. */
async function calibrationData(opened: OpenedModel, recipe: Recipe, flags: CompressFlags, what: string): Promise<CalibrationData> {
  const q = recipe.quantize;
  const count =
    q?.calibrationSamples ??
    recipe.prune?.calibrationSamples ??
    (flags.calibSamples !== undefined ? number(flags.calibSamples, '--calib-samples') : DEFAULT_CALIBRATION_SAMPLES);
  const isStatic = what === 'static int8';
  const shape = flags.calibShape ?? {};
  const dataFlags: EvalDataFlags = {
    data: flags.calibData,
    dims: shape.dims,
    floats: shape.floats,
    threads: shape.threads,
    image: shape.image,
    json: flags.json,
    ...(flags.calibData === undefined ? { synthetic: String(count) } : {}),
  };
  const settings = evalSettings(dataFlags, 0);
  const summary = summarizeModel(opened);
  const data = await evalDataset(dataFlags, { ...settings, samples: count }, summary.inputs);
  const { calibration } = splitCalibration(data, count, false);
  if (data.synthetic) {
    process.stderr.write(
      `cstudio: WARNING: no --calib-data: ${what} is calibrated on ${calibration.samples.length} random inputs. ${isStatic ? 'Activation ranges' : 'Layer-input statistics'} from noise can be far from those of real data and the model can lose much more accuracy than it needs to; pass --calib-data with a few dozen real inputs.\n`,
    );
  }
  return { samples: calibration.samples, runtime: nodeRuntime(settings), files: await modelFilesOf(opened) };
}

/**
 * Static int8's, GPTQ's and SparseGPT's calibration in onnxruntime-node: the original model run with the needed
 * activations (static) or layer inputs (GPTQ, SparseGPT: one pass serves both) as extra outputs on the calibration samples.
 */
async function calibrate(
  opened: OpenedModel,
  recipe: Recipe,
  { samples, runtime, files }: CalibrationData,
  isStatic: boolean,
): Promise<StaticOptions & Pick<QuantizeOptions, 'gptq'> & Pick<PruneOptions, 'sparsegpt'>> {
  const q = recipe.quantize;
  const sparse = recipe.prune?.method === 'sparsegpt' && recipe.prune.pattern !== 'channel';
  const calibration = { samples };
  const out: StaticOptions & Pick<QuantizeOptions, 'gptq'> & Pick<PruneOptions, 'sparsegpt'> = { calibrationSamples: calibration.samples.length };
  if (isStatic && q) {
    const names = await staticCalibrationNames(opened, q);
    const capture = await captureActivations(runtime, files, names, calibration.samples);
    if (capture.unreachable.length)
      process.stderr.write(
        `cstudio: ${capture.unreachable.length} activation(s) could not be captured and stay float: ${capture.unreachable.slice(0, 3).join(', ')}\n`,
      );
    out.calibration = capture.stats;
  }
  if (q?.gptq?.enabled || sparse) {
    // Layer inputs streamed into the Hessians a few tensors per pass (one sample's inputs held at a time); GPTQ and SparseGPT share them.
    const h = await collectHessians(runtime, files, calibration.samples, { maxTensorsPerRun: 16 });
    if (h.unreachable.length)
      process.stderr.write(
        `cstudio: ${h.unreachable.length} layer input(s) could not be captured: their weights are ${q?.gptq?.enabled ? 'rounded to nearest' : 'pruned by magnitude'}: ${h.unreachable.slice(0, 3).join(', ')}\n`,
      );
    if (q?.gptq?.enabled) out.gptq = { layers: h.layers, options: { dampening: q.gptq.dampening, blockSize: q.gptq.blockSize, actOrder: q.gptq.actOrder } };
    if (sparse) out.sparsegpt = { layers: h.layers, options: {} };
  }
  return out;
}

/** --memory-budget in bytes: a size, or N% of this machine's memory; 75 % of it when not given. */
export function memoryBudgetFlag(value: string | undefined): number {
  const total = totalmem();
  return value === undefined ? Math.floor(total * 0.75) : parseSize(value, total, '--memory-budget');
}

/** Every file a compress run writes is checked before any work: its folder exists, it is no folder, it is no input, nor the other output. */
export async function checkOutputs(modelPath: string, flags: Pick<CompressFlags, 'recipe' | 'saveRecipe'>, output: string | undefined): Promise<void> {
  const inputs = [modelPath, ...(flags.recipe ? [flags.recipe] : [])];
  if (output !== undefined) await checkOutputPath(output, '-o', inputs);
  if (flags.saveRecipe !== undefined) await checkOutputPath(flags.saveRecipe, '--save-recipe', [...inputs, ...(output !== undefined ? [output] : [])]);
}

/** The recipe changed nothing: exit 1 with the reasons, no file written. */
export class NothingCompressedError extends Error {}

const percent = (f: number) => `${(f * 100).toFixed(1)} %`;

/** "Left as they were: 12 tensors (48 kB): bias; …" */
function leftText(cov: Coverage): string {
  return cov.left.length ? `Left as they were: ${cov.left.map((g) => describeLeft(g, formatBytes)).join('; ')}.` : '';
}

function renderPrune(r: PruneReport): string {
  return [
    `pruning: parameters ${formatCount(r.paramsBefore)} → ${formatCount(r.paramsAfter)} stored; MACs per input ${formatCount(r.macsBefore)} → ${formatCount(r.macsAfter)}`,
    ...r.warnings.map((w) => `note: ${oneLine(w)}`),
    table(
      ['tensor', 'op', 'pattern', 'sparsity', 'channels', 'params before', 'after', 'MACs before', 'after', 'rel. error', 'notes'],
      r.layers.map((l) => [
        l.name,
        l.op,
        l.action === 'prune' ? l.pattern : '-',
        l.action === 'prune' ? `${(l.sparsity * 100).toFixed(1)}%` : '',
        l.channelsBefore !== undefined ? `${l.channelsBefore} → ${l.channelsAfter}` : '',
        formatCount(l.paramsBefore),
        formatCount(l.paramsAfter),
        l.macsBefore !== undefined ? formatCount(l.macsBefore) : '',
        l.macsAfter !== undefined ? formatCount(l.macsAfter) : '',
        l.action === 'prune' ? l.relError.toExponential(2) : '',
        l.reason ??
          (l.sparsegpt
            ? 'joint' in l.sparsegpt
              ? `SparseGPT, pruned and quantized in one pass: layer output ${l.sparsegpt.layerSqnrDb.toFixed(1)} dB vs ${l.sparsegpt.magnitudeLayerSqnrDb?.toFixed(1)} dB magnitude + round to nearest (calibration inputs)`
              : `SparseGPT: layer output ${l.sparsegpt.layerSqnrDb.toFixed(1)} dB vs ${l.sparsegpt.magnitudeLayerSqnrDb?.toFixed(1)} dB magnitude (calibration inputs)`
            : (l.note ?? '')),
      ]),
      [false, false, false, true, true, true, true, true, true, true, false],
    ),
    ...(r.groups?.length ? ['', renderGroups(r.groups)] : []),
  ].join('\n');
}

/** Channel groups: the layers that lose the same channels, and what each group saves. */
function renderGroups(groups: PruneGroupReport[]): string {
  const layers = (g: PruneGroupReport, roles: string[]) => [...new Set(g.members.filter((m) => roles.includes(m.role)).map((m) => m.layer))];
  const list = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', '));
  const pruned = groups.filter((g) => g.action === 'prune').length;
  return [
    `channel groups: ${pruned} pruned, ${groups.length - pruned} kept whole (kept counts are multiples of 16 in groups of 64+ channels, of 8 from 32, of 4 from 16)`,
    table(
      ['group', 'channels', 'layers (outputs)', 'readers', 'importance removed', 'params before', 'after', 'MACs before', 'after', 'notes'],
      groups.map((g) => [
        `#${g.id}`,
        `${g.channelsBefore} → ${g.channelsAfter}`,
        list(layers(g, ['produces', 'follows'])),
        String(layers(g, ['reads']).length),
        g.action === 'prune' && g.importance > 0 ? `${((g.removedImportance / g.importance) * 100).toFixed(1)}%` : '',
        formatCount(g.paramsBefore),
        formatCount(g.paramsAfter),
        g.macsBefore !== undefined ? formatCount(g.macsBefore) : '',
        g.macsAfter !== undefined ? formatCount(g.macsAfter) : '',
        g.reason ?? '',
      ]),
      [false, true, false, true, true, true, true, true, true, false],
    ),
  ].join('\n');
}

function reportJson(report: QuantReport) {
  return {
    inputBytes: report.inputBytes,
    outputBytes: report.outputBytes,
    effectiveBits: report.effectiveBits,
    storedBits: report.storedBits,
    bitsWithScales: report.bitsWithScales,
    opset: report.opset,
    warnings: report.warnings,
    ...(report.static ? { static: report.static } : {}),
    tensors: report.tensors.map((t) => ({
      name: t.name,
      layer: t.layer,
      op: t.op,
      action: t.action,
      ...(t.reason ? { reason: t.reason } : {}),
      bits: t.bits,
      storedBits: t.storedBits,
      format: t.action === 'quantize' ? t.format : 'float',
      kind: t.kind,
      dtype: t.dtype,
      graph: t.graphPath,
      ...(t.path.length ? { path: t.path } : {}),
      granularity: t.granularity,
      ...(t.axis !== undefined ? { axis: t.axis } : {}),
      ...(t.granularity === 'block' ? { blockSize: t.blockSize } : {}),
      elements: t.elements,
      bytesBefore: t.bytesBefore,
      bytesAfter: t.bytesAfter,
      sqnrDb: t.sqnrDb,
      relError: t.relError,
      ...(t.gptq ? { gptq: t.gptq } : {}),
      notes: t.notes,
    })),
  };
}

function renderReport(r: QuantReport): string {
  const lines = [
    `quantization: weights: ${r.effectiveBits.toFixed(2)} effective bits, ${r.storedBits.toFixed(2)} stored, ${r.bitsWithScales.toFixed(2)} with scales; opset ${r.opset}`,
    ...r.warnings.map((w) => `note: ${oneLine(w)}`),
    ...(r.static ? renderStatic(r.static) : []),
    ...renderGptq(r),
    '',
    table(
      ['tensor', 'op', 'format', 'bits', 'granularity', 'SQNR dB', 'rel. error', 'bytes before', 'after', 'notes'],
      r.tensors
        .filter((t) => t.kind !== 'kept')
        .map((t) => [
          t.name,
          t.op,
          t.action === 'quantize' ? t.format : 'float',
          t.action === 'quantize' ? (t.bits === t.storedBits ? String(t.bits) : `${t.bits} in ${t.storedBits}`) : '-',
          t.action === 'quantize' ? (t.granularity === 'block' ? `block ${t.blockSize}` : t.granularity) : '',
          t.sqnrDb === undefined ? '' : t.sqnrDb.toFixed(1),
          t.relError === undefined ? '' : t.relError.toExponential(2),
          formatBytes(t.bytesBefore),
          formatBytes(t.bytesAfter),
          t.reason ?? t.notes.join('; '),
        ]),
      [false, false, false, false, false, true, true, true, true, false],
    ),
  ];
  return lines.join('\n');
}

/** One line per GPTQ tensor: its layer-output SQNR against plain rounding on the calibration inputs. */
function renderGptq(r: QuantReport): string[] {
  const rows = r.tensors.filter((t) => t.gptq);
  if (!rows.length) return [];
  const gains = rows.map((t) => t.gptq!.layerSqnrDb - t.gptq!.rtnLayerSqnrDb).filter(Number.isFinite);
  const mean = gains.length ? gains.reduce((a, b) => a + b, 0) / gains.length : 0;
  return [
    `GPTQ: ${rows.length} weight(s), layer-output SQNR on the calibration inputs ${mean >= 0 ? '+' : ''}${mean.toFixed(1)} dB over round-to-nearest on average (the same grid)`,
    ...rows.map((t) => `  gptq: ${t.name} (${t.op}): ${t.gptq!.layerSqnrDb.toFixed(1)} dB vs ${t.gptq!.rtnLayerSqnrDb.toFixed(1)} dB round-to-nearest`),
  ];
}

function renderStatic(s: StaticReport): string[] {
  return [
    `static int8: ${s.quantizedOps.length} op(s) for integer kernels (${[...new Set(s.quantizedOps.map((o) => o.op))].join(', ') || 'none'}), ${s.activations.length} activations quantized (uint8, ${s.method}${s.method === 'percentile' ? ` ${s.percentile}` : ''}${s.calibrationSamples !== undefined ? `, ${s.calibrationSamples} calibration samples` : ''}); BatchNorms folded: ${s.foldedBatchNorms}; Relus absorbed: ${s.removedRelus}${s.biasCorrected ? `; biases corrected: ${s.biasCorrected}` : ''}`,
    ...s.floatOps.map((o) => `  float: ${o.node} (${o.op}): ${o.reason}`),
  ];
}

/** GPTQ after channel pruning: the pruned (not yet quantized) model run on the calibration samples, its layers' input Hessians. */
export function prunedHessians(
  { samples, runtime }: Pick<CalibrationData, 'samples' | 'runtime'>,
  warn: (line: string) => void = (line) => void process.stderr.write(line),
) {
  return async (model: Uint8Array) => {
    const h = await collectHessians(runtime, model, samples, { maxTensorsPerRun: 16 });
    if (h.unreachable.length)
      warn(
        `cstudio: ${h.unreachable.length} layer input(s) of the pruned model could not be captured: their weights are rounded to nearest: ${h.unreachable.slice(0, 3).join(', ')}\n`,
      );
    return h.layers;
  };
}

/** The refit's layer-input Hessians: the original run on the calibration samples with the layers' inputs exposed. */
async function refitOptions({ samples, runtime, files }: CalibrationData): Promise<RefitOptions> {
  const h = await collectHessians(runtime, files, samples, { maxTensorsPerRun: 16 });
  if (h.unreachable.length)
    process.stderr.write(
      `cstudio: ${h.unreachable.length} layer input(s) could not be captured: those layers are not refit: ${h.unreachable.slice(0, 3).join(', ')}\n`,
    );
  return { layers: h.layers };
}

/**
 * The teacher–student report: the compression redone step by step (round to nearest or pruned, then each recovery
 * step the recipe asks for), each stage's layer outputs against the original's on the calibration samples.
 */
async function teacherReport(
  opened: OpenedModel,
  recipe: Recipe,
  result: CompressResult,
  { samples, runtime, files }: CalibrationData,
  calibration: (StaticOptions & Pick<QuantizeOptions, 'gptq'> & Pick<PruneOptions, 'sparsegpt'>) | undefined,
  refit: RefitOptions | undefined,
  hessiansAfterPrune?: CompressOptions['hessiansAfterPrune'],
): Promise<TeacherStudentReport> {
  const statics = { calibration: calibration?.calibration, calibrationSamples: calibration?.calibrationSamples };
  const plan = reportStages(recipe);
  const stages = [];
  for (const [i, step] of plan.entries()) {
    const last = i === plan.length - 1 && !result.data;
    const options: CompressOptions = {
      ...statics,
      ...(step.recipe.prune?.refit ? { refit } : {}),
      ...(step.recipe.quantize?.gptq?.enabled ? { gptq: calibration?.gptq, ...(hessiansAfterPrune ? { hessiansAfterPrune } : {}) } : {}),
      ...(step.recipe.prune?.method === 'sparsegpt' ? { sparsegpt: calibration?.sparsegpt } : {}),
    };
    stages.push({ id: step.id, label: step.label, model: last ? result.bytes : (await compressModel(opened, step.recipe, options)).bytes });
  }
  const layers = changedLayers(result.prune, result.quantize);
  return teacherStudentReport(runtime, files, stages, samples, { layers, maxTensorsPerRun: 16 });
}

function renderTeacherStudent(r: TeacherStudentReport): string {
  const compared = r.layers.filter((l) => !l.reason);
  const left = r.layers.length - compared.length;
  return [
    `teacher–student: ${compared.length} layer(s) compared with the original on ${r.samples} calibration sample(s), the layer that hurts most first${left ? `; ${left} not compared (see notes)` : ''}`,
    `  how closely each layer of the compressed model reproduces the original's layer output (higher dB is closer): ${r.stages.map((s) => s.label).join(' → ')}`,
    table(
      ['layer', 'op', `SQNR (${r.stages.map((s) => s.id).join(' → ')})`, 'cosine', 'notes'],
      r.layers.map((l) => {
        const lastCompared = [...l.stages].reverse().find((s) => s.cosine !== null);
        return [
          l.layer,
          l.op,
          l.reason ? '–' : l.stages.map((s) => formatDb(s.sqnrDb)).join(' → '),
          lastCompared?.cosine != null ? lastCompared.cosine.toFixed(4) : '',
          l.reason ?? l.at ?? l.stages.find((s) => s.reason)?.reason ?? '',
        ];
      }),
      [false, false, true, true, false],
    ),
  ].join('\n');
}

/** One line per refit layer: its layer-output SQNR on the calibration inputs as pruned and refit. */
function renderRefit(rows: RefitLayerReport[]): string[] {
  const db = (x: number) => (x === Infinity ? '∞' : x.toFixed(1));
  return [
    `refit: ${rows.filter((r) => !r.reason).length} layer(s) reading removed channels refit by least squares on the calibration inputs`,
    ...rows.map((r) =>
      r.reason
        ? `  refit: ${r.weight}: not refit: ${r.reason}`
        : `  refit: ${r.weight} (${r.op}, inputs ${r.inputsBefore} → ${r.inputsAfter}): layer output ${db(r.sqnrBeforeDb)} dB pruned → ${db(r.sqnrAfterDb)} dB refit`,
    ),
  ];
}
