/**
 * The serialisable description of "what to do to this model". The UI state, the CLI flags and the
 * exported recipe JSON are three views of this one type.
 */
import type { Granularity, RangeMethod } from './compress/quantize/math';
import { CALIBRATION_METHODS, type CalibrationMethod } from './teacher/histogram';

/** 'static': int8 weights and activations (calibrated on data) for onnxruntime's integer kernels. */
export type QuantFormat = 'auto' | 'qdq' | 'matmulnbits' | 'dynamic' | 'fp16' | 'static';

export interface BitOverride {
  /** Glob over tensor and layer (node) names: `*` any run, `?` one character. */
  match: string;
  bits: number;
}

export interface QuantizeRecipe {
  /** 2–8. Bits the runtime cannot store (3, 5, 6, 7) are quantized to that many levels in the next container. */
  bits: number;
  granularity: Granularity;
  /** 16–256, for granularity 'block'. */
  blockSize: number;
  symmetric: boolean;
  range: RangeMethod;
  /** For range 'percentile'. */
  percentile: number;
  format: QuantFormat;
  /** Globs over tensor or layer names to leave in float. */
  exclude: string[];
  /** Op types to leave in float, e.g. ["Conv"]. */
  excludeOps: string[];
  overrides: BitOverride[];
  /** Static int8: how activation ranges are chosen from the calibration statistics (default minmax). */
  calibration?: CalibrationMethod;
  /** Static int8: calibration samples taken from the data (default 64). */
  calibrationSamples?: number;
  /** Static int8: fold the mean shift of each layer's weight rounding into its bias (teacher's input means). */
  biasCorrection?: boolean;
  /**
   * Static int8: how weights are stored for the integer kernels. 'uint8' (default; U8U8, zero point 128) is exact on
   * every CPU; 'int8' (U8S8) is faster in onnxruntime on x86, but CPUs without VNNI (AVX2 only) saturate its 16-bit
   * pair sums, which can cost much accuracy (onnxruntime's own quantization notes say the same).
   */
  staticWeights?: StaticWeightType;
  /** GPTQ for weights: codes chosen with the layer inputs' Hessian (needs calibration data, like static). */
  gptq?: GptqRecipe;
}

export const STATIC_WEIGHT_TYPES = ['uint8', 'int7', 'int8'] as const;
export type StaticWeightType = (typeof STATIC_WEIGHT_TYPES)[number];

export interface GptqRecipe {
  enabled: boolean;
  /** λ = dampening · mean(diag H), 0 < dampening ≤ 1 (default 0.01). */
  dampening?: number;
  /** Columns per lazy update block, 1–4096 (default 128). */
  blockSize?: number;
  /** Quantize input columns in order of decreasing Hessian diagonal (default false). */
  actOrder?: boolean;
}

function validateGptq(input: unknown): GptqRecipe {
  if (typeof input !== 'object' || input === null) throw new RecipeError('quantize.gptq must be an object');
  const g = input as Partial<GptqRecipe>;
  const bool = (v: unknown, what: string) =>
    typeof v === 'boolean'
      ? v
      : (() => {
          throw new RecipeError(`quantize.gptq.${what} must be true or false`);
        })();
  const out: GptqRecipe = { enabled: bool(g.enabled, 'enabled') };
  if (g.dampening !== undefined) {
    if (typeof g.dampening !== 'number' || !(g.dampening > 0 && g.dampening <= 1))
      throw new RecipeError(`quantize.gptq.dampening must be in (0, 1] (got ${JSON.stringify(g.dampening)})`);
    out.dampening = g.dampening;
  }
  if (g.blockSize !== undefined) out.blockSize = intIn(g.blockSize, 1, 4096, 'quantize.gptq.blockSize');
  if (g.actOrder !== undefined) out.actOrder = bool(g.actOrder, 'actOrder');
  return out;
}

/** Static int8: calibration samples when the recipe names none. */
export const DEFAULT_CALIBRATION_SAMPLES = 64;

export type PrunePattern = 'unstructured' | '2:4' | '4:8' | 'channel';

/** How unstructured and N:M masks are chosen: by weight magnitude, or by SparseGPT (calibrated, the kept weights compensate). */
export type PruneMethod = 'magnitude' | 'sparsegpt';
export const PRUNE_METHODS: PruneMethod[] = ['magnitude', 'sparsegpt'];

export interface SparsityOverride {
  match: string;
  sparsity: number;
}

export interface PruneRecipe {
  /** Fraction of weights (or output channels, for 'channel') to remove, 0–0.95. N:M patterns fix it at N/M. */
  sparsity: number;
  pattern: PrunePattern;
  /**
   * Unstructured: one magnitude threshold across layers, no layer beyond `layerCap`. Channel: channel groups ranked
   * together (importance relative to their group's mean), no group losing more than `layerCap` of its channels.
   */
  global: boolean;
  layerCap: number;
  /** Channel ranking for 'channel'. */
  norm: 'l1' | 'l2';
  /** Channel pruning: a group's channel importance is the sum (or the mean) of its members' slice norms. */
  groupImportance: 'sum' | 'mean';
  exclude: string[];
  excludeOps: string[];
  overrides: SparsityOverride[];
  /** Channel pruning: refit the layers reading the cut channels to the original's outputs (least squares on calibration data). */
  refit?: boolean;
  /**
   * Unstructured and N:M: 'sparsegpt' chooses the mask with the layer inputs' Hessian on calibration data and updates
   * the kept weights to make up for the pruned ones (default 'magnitude'; channel pruning always ranks by norm).
   */
  method?: PruneMethod;
  /** SparseGPT without a quantize step: calibration samples taken from the data (default 64). */
  calibrationSamples?: number;
}

export interface Recipe {
  version: 1;
  /** Applied first; quantization then works on the pruned weights. */
  prune?: PruneRecipe;
  quantize?: QuantizeRecipe;
}

export const DEFAULT_PRUNE: PruneRecipe = {
  sparsity: 0.5,
  pattern: 'unstructured',
  global: false,
  layerCap: 0.95,
  norm: 'l2',
  groupImportance: 'sum',
  exclude: [],
  excludeOps: [],
  overrides: [],
};

const PATTERNS: PrunePattern[] = ['unstructured', '2:4', '4:8', 'channel'];

function fraction(value: unknown, hi: number, what: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= hi))
    throw new RecipeError(`${what} must be a number from 0 to ${hi} (got ${JSON.stringify(value)})`);
  return value;
}

export function validatePrune(input: unknown): PruneRecipe {
  if (typeof input !== 'object' || input === null) throw new RecipeError('prune must be an object');
  const p = { ...DEFAULT_PRUNE, ...(input as Partial<PruneRecipe>) };
  if (typeof p.global !== 'boolean') throw new RecipeError('prune.global must be true or false');
  if (!Array.isArray(p.overrides)) throw new RecipeError('prune.overrides must be a list');
  return {
    sparsity: fraction(p.sparsity, 0.95, 'prune.sparsity'),
    pattern: oneOf(p.pattern, PATTERNS, 'prune.pattern'),
    global: p.global,
    layerCap: fraction(p.layerCap, 0.99, 'prune.layerCap'),
    norm: oneOf(p.norm, ['l1', 'l2'] as ('l1' | 'l2')[], 'prune.norm'),
    groupImportance: oneOf(p.groupImportance, ['sum', 'mean'] as ('sum' | 'mean')[], 'prune.groupImportance'),
    exclude: strings(p.exclude, 'prune.exclude'),
    excludeOps: strings(p.excludeOps, 'prune.excludeOps'),
    overrides: p.overrides.map((o: unknown, i: number) => {
      const ov = o as Partial<SparsityOverride>;
      if (typeof ov?.match !== 'string') throw new RecipeError(`prune.overrides[${i}].match must be a glob string`);
      return { match: ov.match, sparsity: fraction(ov.sparsity, 0.95, `prune.overrides[${i}].sparsity`) };
    }),
    ...(p.refit !== undefined
      ? {
          refit:
            typeof p.refit === 'boolean'
              ? p.refit
              : (() => {
                  throw new RecipeError('prune.refit must be true or false');
                })(),
        }
      : {}),
    ...(p.method !== undefined ? { method: oneOf(p.method, PRUNE_METHODS, 'prune.method') } : {}),
    ...(p.calibrationSamples !== undefined ? { calibrationSamples: intIn(p.calibrationSamples, 1, 100000, 'prune.calibrationSamples') } : {}),
  };
}

export const DEFAULT_QUANTIZE: QuantizeRecipe = {
  bits: 8,
  granularity: 'channel',
  blockSize: 32,
  symmetric: true,
  range: 'minmax',
  percentile: 99.99,
  format: 'auto',
  exclude: [],
  excludeOps: [],
  overrides: [],
};

export class RecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

const FORMATS: QuantFormat[] = ['auto', 'qdq', 'matmulnbits', 'dynamic', 'fp16', 'static'];
const GRANULARITIES: Granularity[] = ['tensor', 'channel', 'block'];
const RANGES: RangeMethod[] = ['minmax', 'percentile', 'mse'];

function intIn(value: unknown, lo: number, hi: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi)
    throw new RecipeError(`${what} must be an integer from ${lo} to ${hi} (got ${JSON.stringify(value)})`);
  return value;
}

function oneOf<T extends string>(value: unknown, options: readonly T[], what: string): T {
  if (!options.includes(value as T)) throw new RecipeError(`${what} must be one of ${options.join(', ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new RecipeError(`${what} must be a list of strings`);
  return value as string[];
}

/** Checks a quantize section (missing fields take defaults) and returns a complete one. */
export function validateQuantize(input: unknown): QuantizeRecipe {
  if (typeof input !== 'object' || input === null) throw new RecipeError('quantize must be an object');
  const q = { ...DEFAULT_QUANTIZE, ...(input as Partial<QuantizeRecipe>) };
  const percentile = q.percentile;
  if (typeof percentile !== 'number' || !(percentile > 50 && percentile <= 100))
    throw new RecipeError(`quantize.percentile must be in (50, 100] (got ${JSON.stringify(percentile)})`);
  const overrides = q.overrides;
  if (!Array.isArray(overrides)) throw new RecipeError('quantize.overrides must be a list');
  return {
    bits: intIn(q.bits, 2, 8, 'quantize.bits'),
    granularity: oneOf(q.granularity, GRANULARITIES, 'quantize.granularity'),
    blockSize: intIn(q.blockSize, 16, 256, 'quantize.blockSize'),
    symmetric:
      typeof q.symmetric === 'boolean'
        ? q.symmetric
        : (() => {
            throw new RecipeError('quantize.symmetric must be true or false');
          })(),
    range: oneOf(q.range, RANGES, 'quantize.range'),
    percentile,
    format: oneOf(q.format, FORMATS, 'quantize.format'),
    exclude: strings(q.exclude, 'quantize.exclude'),
    excludeOps: strings(q.excludeOps, 'quantize.excludeOps'),
    overrides: overrides.map((o: unknown, i: number) => {
      const ov = o as Partial<BitOverride>;
      if (typeof ov?.match !== 'string') throw new RecipeError(`quantize.overrides[${i}].match must be a glob string`);
      return { match: ov.match, bits: intIn(ov.bits, 2, 8, `quantize.overrides[${i}].bits`) };
    }),
    ...(q.calibration !== undefined ? { calibration: oneOf(q.calibration, CALIBRATION_METHODS, 'quantize.calibration') } : {}),
    ...(q.biasCorrection !== undefined
      ? {
          biasCorrection:
            typeof q.biasCorrection === 'boolean'
              ? q.biasCorrection
              : (() => {
                  throw new RecipeError('quantize.biasCorrection must be true or false');
                })(),
        }
      : {}),
    ...(q.staticWeights !== undefined ? { staticWeights: oneOf(q.staticWeights, STATIC_WEIGHT_TYPES, 'quantize.staticWeights') } : {}),
    ...(q.calibrationSamples !== undefined ? { calibrationSamples: intIn(q.calibrationSamples, 1, 100000, 'quantize.calibrationSamples') } : {}),
    ...(q.gptq !== undefined ? { gptq: validateGptq(q.gptq) } : {}),
  };
}

export function validateRecipe(input: unknown): Recipe {
  if (typeof input !== 'object' || input === null) throw new RecipeError('a recipe must be a JSON object');
  const r = input as { version?: unknown; quantize?: unknown; prune?: unknown };
  if (r.version !== 1) throw new RecipeError(`recipe version must be 1 (got ${JSON.stringify(r.version)})`);
  return {
    version: 1,
    ...(r.prune !== undefined ? { prune: validatePrune(r.prune) } : {}),
    ...(r.quantize !== undefined ? { quantize: validateQuantize(r.quantize) } : {}),
  };
}

/** Glob → anchored RegExp: `*` matches any run, `?` one character, `\\x` a literal x; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) body += escapeRegExp(glob[++i]!);
    else if (c === '*') body += '.*';
    else if (c === '?') body += '.';
    else body += escapeRegExp(c);
  }
  return new RegExp(`^${body}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A glob that matches exactly `name` (its `*`, `?` and `\\` escaped). */
export function exactGlob(name: string): string {
  return name.replace(/[*?\\]/g, '\\$&');
}

/** Why a tensor is excluded by these globs, in words ("excluded by name" for its own exact glob), or undefined. */
export function excludedBecause(globs: string[], name: string, layer?: string): string | undefined {
  const glob = matchesAny(globs, name, layer);
  if (glob === undefined) return undefined;
  return glob === exactGlob(name) || (layer !== undefined && glob === exactGlob(layer)) ? 'excluded by name' : `excluded by pattern "${glob}"`;
}

/** name.onnx → name.int8.onnx / name.q4.onnx / name.fp16.onnx / name.pruned.onnx / name.pruned.int8.onnx */
export function compressedFileName(input: string, recipe: Recipe): string {
  const stem = input.replace(/\.onnx$/i, '');
  const q = recipe.quantize;
  const tags = [
    recipe.prune ? 'pruned' : '',
    q ? (q.format === 'fp16' ? 'fp16' : q.format === 'static' ? 'static-int8' : q.bits === 8 ? 'int8' : `q${q.bits}`) : '',
  ].filter(Boolean);
  return `${stem}.${tags.join('.')}.onnx`;
}

/** The external-data file written beside a model whose weights do not stay inside it: name.onnx → name.onnx_data. */
export function externalDataFileName(modelFile: string): string {
  return `${modelFile}_data`;
}

export function matchesAny(globs: string[], ...names: (string | undefined)[]): string | undefined {
  for (const g of globs) {
    const re = globToRegExp(g);
    if (names.some((n) => n !== undefined && re.test(n))) return g;
  }
  return undefined;
}
