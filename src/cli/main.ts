import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ModelInputError } from '../core/onnx/types';
import type { BackendPreference } from '../kernels/registry';
import { RecipeError } from '../core/recipe';
import { BatchFailedError, compressBatch, compressCommand, type CompressFlags } from './commands/compress';
import { evalBatch, evalCommand } from './commands/eval';
import { inspectCommand } from './commands/inspect';
import { sensitivityCommand } from './commands/sensitivity';
import { PRESET_NAMES, sweepCommand } from './commands/sweep';
import { upgradeCommand } from './commands/upgrade';
import { UsageError, type EvalDataFlags } from './eval-data';
import { oneLine, terminalSafe } from './format';

export { UsageError };

const USAGE = `Compression Studio CLI

Usage:
  cstudio inspect <model.onnx> [--external-data <dir>] [--stats] [--backend auto|wasm|ts] [--memory-budget SIZE] [--json]
  cstudio compress <in.onnx>... [-o out.onnx | --out-dir DIR] [--recipe r.json] [--bits N] [--granularity tensor|channel|block]
                   [--block-size N] [--symmetric|--asymmetric] [--range minmax|percentile|mse] [--percentile P]
                   [--format auto|qdq|matmulnbits|dynamic|fp16] [--exclude GLOB]... [--exclude-op OP]...
                   [--override GLOB=BITS]... [--sparsity S --pattern unstructured|2:4|4:8|channel
                   [--global [--layer-cap C]] [--norm l1|l2] [--group-importance sum|mean]] [--save-recipe r.json]
                   [--allow-unchanged] [--save-external-data] [--memory-budget SIZE] [--json]
                   [--format static [--calib-data <dir|file>] [--calib-samples N] [--bias-correction]
                    [--calib-method minmax|percentile|entropy|mse] [--static-weights uint8|int7|int8]
                    [image flags | --dims ... --floats F]]
                   [--gptq [--gptq-damp F] [--act-order] [--calib-data <dir|file>] [--calib-samples N]]
                   [--pattern channel --refit] [--teacher-report --calib-data <dir|file>]
                   [--prune-method magnitude|sparsegpt] [--weights rtn|gptq] [--activations 8]
                   [--calibration minmax|percentile|entropy|mse] [--calibration-samples N]
  cstudio eval <original.onnx> <candidate.onnx>... [--candidates DIR] [DATA] [--runs N] [--warmup N] [--task OUTPUT=TASK]...
                   [--mask-threshold T] [--threads N] [--json]
  cstudio sweep <model.onnx> [--bits 8,4] [--sparsity 0,0.5] [--granularity channel,block] [--pattern P]
                   [--block-size N] [--preset NAME,...|all] [--recipe base.json] [DATA] [--runs N]
                   [--weights rtn,gptq] [--prune-method magnitude,sparsegpt] [TEACHER] [--csv out.csv] [--out-dir DIR] [--json]
  cstudio sensitivity <model.onnx> [compress flags | --recipe r.json] [TEACHER] [DATA] [--target-size SIZE | --max-damage X]
                   [-o out.onnx] [--save-recipe r.json] [--runs N] [--json]
  cstudio upgrade <in.onnx> --opset N [-o out.onnx] [--external-data <dir>] [--json]
  DATA: [--data <dir|file>] [--samples N] [image flags] | [--synthetic N] [--dims NAME=N,...] [--floats F]
  TEACHER: [--weights rtn|gptq [--gptq-damp F] [--act-order]] [--prune-method magnitude|sparsegpt] [--refit]
           [--activations 8 [--calibration minmax|percentile|entropy|mse] [--bias-correction] [--static-weights uint8|int8]]
           [--calibration-samples N]: calibrated once on the first N samples of DATA, which no point is measured on

Commands:
  inspect   Print a model's summary and every stored tensor (name, dtype, shape, bytes, where it lives).
  compress  Quantize and/or prune a model's weights (raising its opset when the formats need it) and write a
            model that runs in onnxruntime (web, node, python); reports coverage (weight bytes compressed).
  eval      Run a compressed model against its original in onnxruntime-node (CPU): per-output fidelity,
            accuracy on labelled data, interleaved latency, sizes.
  sweep     Compress a grid of recipes (or presets), measure each, mark the quality/latency frontier.
  sensitivity  Compress one layer at a time and rank the layers by damage; with a target, plan a
            mixed-precision recipe, compress with it and report the measured size and fidelity.
  upgrade   Raise a model's opset (7+ → at most 21), rewriting the ops whose inputs, attributes or meaning
            changed so the outputs stay the same; writes one standalone file (default name.opsetN.onnx).

Options:
  --external-data <dir>  Folder holding the model's external-data files (default: the model's folder)
  --stats                Add per-tensor statistics (min, max, mean, std, abs-max, percentiles, zero fraction)
                         and per-output-channel [min, max] ranges for weights of Conv/Gemm/MatMul
  --backend <name>       Kernel backend for --stats: auto (WASM SIMD when available), wasm or ts
  --json                 Machine-readable output
  --candidates <dir>     eval: every .onnx file in DIR (besides the original) against the original; with several
                         candidates: one summary table (or JSON array), exit 1 if any failed
  --out-dir <dir>        compress: several models (files or folders of .onnx files), each written to DIR under its
                         default name; one summary table (or one JSON array), exit 1 if any failed, the rest written
  -o, --output <file>    compress: where to write (default name.int8.onnx / name.q4.onnx …), one model only;
                         upgrade: default name.opsetN.onnx beside the input
  --opset <N>            upgrade: the opset to reach (from the model's own, at most 21)
  --recipe <file>        compress: a recipe JSON (flags given as well override it)
  --bits <2-8>           bits per weight; 3, 5, 6, 7 are stored in the next container (4 or 8)
  --granularity <g>      one scale per tensor, per output channel, or per block of --block-size (16-256)
  --format <f>           auto: MatMulNBits for 4-bit blocked MatMul/Gemm, DequantizeLinear otherwise;
                         dynamic: DynamicQuantizeLinear + MatMulInteger/ConvInteger; fp16: float16 weights+compute
                         static: int8 weights AND activations, calibrated on data, for onnxruntime's
                         integer kernels (QLinearConv, QLinearMatMul, QGemm): smaller and faster on the CPU
  --calib-data <dir|file> static: calibration data, read by the same loaders as --data (images, .npy, JSON);
                         without it, seeded random inputs are used and a warning says so
  --calib-samples <N>    static: calibration samples (default 64)
  --static-weights <t>   static: uint8 (default: U8U8, exact on every CPU, fast in wasm), int7 (U8S8 with codes
                         within ±63: onnxruntime's fast x86 path without overflow, one bit less; pair with --gptq)
                         or int8 (U8S8: fastest on x86, but CPUs without VNNI saturate its 16-bit sums)
  --calib-method <m>     static: activation ranges from minmax (default), percentile (--percentile, 99.99),
                         entropy (KL, as TensorRT) or mse
  --gptq                 GPTQ for weights (any format, bits and granularity): each layer's codes chosen with
                         the Hessian of its inputs on calibration data (--calib-data etc., as for static)
  --gptq-damp <f>        GPTQ dampening, λ = f · mean(diag H) (default 0.01)
  --act-order            GPTQ: quantize input columns in order of decreasing Hessian diagonal
  --weights <m>          rtn (round to nearest, default) | gptq (the same as --gptq)
  --activations 8        static int8 activations (the same as --format static)
  --calibration <m>      the same as --calib-method; --calibration-samples <N> the same as --calib-samples
  --prune-method <m>     unstructured and 2:4 / 4:8 masks: magnitude (default) | sparsegpt: masks chosen with the
                         Hessian of each layer's inputs on calibration data (--calib-data etc., as for --gptq) and
                         the kept weights updated to make up for the pruned ones; channel pruning stays by norm
  --bias-correction      static: fold the mean shift of each layer's weight rounding into its bias
  --refit                channel: refit each layer reading the cut channels to the original's outputs by least
                         squares on the calibration data (--calib-data etc., as for --gptq)
  --teacher-report       per compressed layer: SQNR and cosine of its output against the original's on the
                         calibration data (--calib-data required), for each step (round to nearest or pruned,
                         refit, GPTQ, bias correction), worst layer first; --json adds teacherStudent
  --exclude <glob>       leave matching tensors or layers in float (repeatable)
  --override <glob=bits> give matching tensors their own bit width (repeatable)
  --sparsity <0-0.95>    prune first: fraction of weights (or output channels) to remove
  --pattern <p>          unstructured (magnitude), 2:4 / 4:8 (N of every M along the input axis),
                         channel (remove whole channel groups: layers joined by residual Adds, gates and
                         Concats lose the same channels; the model gets smaller and faster)
  --global               unstructured: one magnitude threshold across layers, each capped at --layer-cap;
                         channel: channel groups ranked together, no group losing more than --layer-cap
  --group-importance <m> channel: a channel's importance is the sum (default) or mean of its members' L1/L2 norms
  --save-recipe <file>   write the recipe that reproduces this output (sensitivity: the planned recipe)
  --allow-unchanged      compress: write the model even when the recipe compressed nothing (otherwise exit 1
                         with the reasons); below 90 % coverage a note on stderr says what was left and why
  --save-external-data   compress: write the weights to OUTPUT_data beside the model at any size (outputs over
                         2 GB, which one ONNX file cannot hold, always are)

Evaluation (eval, sweep, sensitivity; onnxruntime-node on the CPU):
  --data <dir|file>      one .json file (batch, list of samples or the demo digits format), .npy files
                         (one per input named after it, or one sample per file; labels.npy), or a folder of
                         images with labels from sub-folder names or a labels .csv; folders are read recursively
  --samples <N>          use N samples (spread over classes when labelled)
  --synthetic <N>        N seeded random inputs from the input specs (default without --data: 32);
                         fidelity on random inputs can mislead
  --dims <name=N,...>    values for dynamic input dimensions of synthetic inputs (batch defaults to 1, others 32)
  --floats <f>           synthetic float inputs: normal (N(0,1), default), uniform01 ([0,1)), uniform11 ([-1,1))
  --image-size <N|WxH>   images: target size (default: the model input's fixed size, else 224)
  --resize <mode>        images: stretch (default) | center-crop | letterbox
  --channels <c>         images: rgb | bgr | gray (default: from the input's channel dim: 1 gray, 3 rgb)
  --layout <l>           images: nchw | nhwc (default: from the input's dims)
  --scale <s>            images: 0-1 (default) | 0-255 | -1-1
  --mean <a,b,c> --std <a,b,c>  images: per-channel normalisation after scaling; --imagenet for ImageNet's
  --runs <N>             timed runs per model (default 20; 0 skips latency); --warmup <N> untimed runs (3)
  --task <out=task>      classification | map | sequence | regression (default: inferred from the output)
  --mask-threshold <t>   map outputs: mask = value > t (default 0.5)
  --threads <N>          onnxruntime intra-op threads
  --bits, --sparsity, --granularity
                         sweep: comma-separated lists, every combination is a point (bits 32 = float weights);
                         --recipe and the other recipe flags (--exclude, --range, …) set the base of every point
  --preset <names|all>   sweep: also (or, without grid flags, only) these presets; none given: all of
                         ${PRESET_NAMES.replace(/, all$/, '')}
  --weights <m,...>      sweep: rtn, gptq or both (rtn,gptq: every integer point twice); --prune-method magnitude,sparsegpt
                         likewise for unstructured and N:M points. sweep and sensitivity calibrate the teacher-guided
                         points (GPTQ, SparseGPT, --refit, --activations 8) once, on the first --calibration-samples
                         (64) samples of DATA, and measure every point on the other samples only
  --csv <file>           sweep: also write the table as CSV
  --out-dir <dir>        sweep: write each point's model there
  --target-size <size>   sensitivity: bytes, with kB/MB/GB (1000) or KiB/MiB/GiB (1024), or N% of the original
  --max-damage <x>       sensitivity: compress the least sensitive layers while their summed damage stays ≤ x
  --memory-budget <size> compress, inspect --stats: memory the run may use (bytes, kB/MB/GB, KiB/MiB/GiB, or N% of
                         this machine's memory; default 75%); estimated from the model before any work
  -h, --help             Show this help`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  'external-data': { type: 'string' },
  stats: { type: 'boolean', default: false },
  backend: { type: 'string', default: 'auto' },
  output: { type: 'string', short: 'o' },
  recipe: { type: 'string' },
  'save-recipe': { type: 'string' },
  'allow-unchanged': { type: 'boolean' },
  'save-external-data': { type: 'boolean' },
  bits: { type: 'string' },
  granularity: { type: 'string' },
  'block-size': { type: 'string' },
  symmetric: { type: 'boolean' },
  asymmetric: { type: 'boolean' },
  range: { type: 'string' },
  percentile: { type: 'string' },
  format: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'exclude-op': { type: 'string', multiple: true },
  override: { type: 'string', multiple: true },
  sparsity: { type: 'string' },
  pattern: { type: 'string' },
  global: { type: 'boolean' },
  'layer-cap': { type: 'string' },
  norm: { type: 'string' },
  'group-importance': { type: 'string' },
  // Evaluation (eval, sweep, sensitivity).
  data: { type: 'string' },
  samples: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  synthetic: { type: 'string' },
  dims: { type: 'string' },
  task: { type: 'string', multiple: true },
  'mask-threshold': { type: 'string' },
  threads: { type: 'string' },
  floats: { type: 'string' },
  'image-size': { type: 'string' },
  resize: { type: 'string' },
  channels: { type: 'string' },
  layout: { type: 'string' },
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  imagenet: { type: 'boolean' },
  preset: { type: 'string' },
  csv: { type: 'string' },
  'out-dir': { type: 'string' },
  candidates: { type: 'string' },
  'target-size': { type: 'string' },
  'max-damage': { type: 'string' },
  opset: { type: 'string' },
  'calib-data': { type: 'string' },
  'calib-samples': { type: 'string' },
  'calib-method': { type: 'string' },
  'static-weights': { type: 'string' },
  'bias-correction': { type: 'boolean' },
  'memory-budget': { type: 'string' },
  gptq: { type: 'boolean' },
  'gptq-damp': { type: 'string' },
  'act-order': { type: 'boolean' },
  refit: { type: 'boolean' },
  'teacher-report': { type: 'boolean' },
  'prune-method': { type: 'string' },
  weights: { type: 'string' },
  activations: { type: 'string' },
  calibration: { type: 'string' },
  'calibration-samples': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type OptionName = keyof typeof OPTIONS;

const COMPRESS_OPTIONS: OptionName[] = [
  'recipe',
  'bits',
  'granularity',
  'block-size',
  'symmetric',
  'asymmetric',
  'range',
  'percentile',
  'format',
  'exclude',
  'exclude-op',
  'override',
  'sparsity',
  'pattern',
  'global',
  'layer-cap',
  'norm',
  'group-importance',
];
/** How input data is shaped: synthetic dims/floats, onnxruntime threads, image preprocessing (eval and calibration). */
const DATA_SHAPE_OPTIONS: OptionName[] = ['dims', 'floats', 'threads', 'image-size', 'resize', 'channels', 'layout', 'scale', 'mean', 'std', 'imagenet'];
/** Teacher-guided compression in sweep and sensitivity: calibrated on --data (held out of the measurements). */
const TEACHER_OPTIONS: OptionName[] = [
  'calib-samples',
  'calib-method',
  'static-weights',
  'bias-correction',
  'gptq',
  'gptq-damp',
  'act-order',
  'refit',
  'prune-method',
  'weights',
  'activations',
  'calibration',
  'calibration-samples',
];
/** compress's calibration: the teacher-guided flags, its own data and report, and the eval loaders' shaping flags. */
const CALIBRATION_OPTIONS: OptionName[] = ['calib-data', 'teacher-report', ...TEACHER_OPTIONS, ...DATA_SHAPE_OPTIONS];
const EVAL_OPTIONS: OptionName[] = ['data', 'samples', 'runs', 'warmup', 'synthetic', 'task', 'mask-threshold', ...DATA_SHAPE_OPTIONS];

/** The options each command takes (besides --help); any other is a usage error rather than silently ignored. */
const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  inspect: ['json', 'external-data', 'stats', 'backend', 'memory-budget'],
  compress: [
    'json',
    'external-data',
    'output',
    'out-dir',
    'save-recipe',
    'allow-unchanged',
    'save-external-data',
    'memory-budget',
    ...COMPRESS_OPTIONS,
    ...CALIBRATION_OPTIONS,
  ],
  eval: ['json', 'candidates', ...EVAL_OPTIONS],
  sweep: ['json', ...EVAL_OPTIONS, ...COMPRESS_OPTIONS, ...TEACHER_OPTIONS, 'preset', 'csv', 'out-dir'],
  sensitivity: ['json', 'output', 'save-recipe', ...COMPRESS_OPTIONS, ...TEACHER_OPTIONS, ...EVAL_OPTIONS, 'target-size', 'max-damage'],
  upgrade: ['json', 'external-data', 'output', 'opset'],
};

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, tokens: true, options: OPTIONS });
  } catch (err) {
    // Unknown options and options missing their value are wrong usage (exit status 2).
    const e = err as NodeJS.ErrnoException;
    if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError(e.message);
    throw err;
  }
}

export async function runCli(argv: string[]): Promise<string> {
  const { values, positionals, tokens } = parse(argv);
  const [command, ...rest] = positionals;
  if (values.help || !command) return USAGE;
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command "${command}"`);
  for (const token of tokens) {
    if (token.kind === 'option' && token.name !== 'help' && !allowed.includes(token.name as OptionName))
      throw new UsageError(`${command} does not take ${token.rawName}`);
  }
  const compressFlags = (): CompressFlags => ({
    output: values.output,
    recipe: values.recipe,
    saveRecipe: values['save-recipe'],
    bits: values.bits,
    granularity: values.granularity,
    blockSize: values['block-size'],
    symmetric: values.symmetric,
    asymmetric: values.asymmetric,
    range: values.range,
    percentile: values.percentile,
    format: values.format,
    exclude: values.exclude,
    excludeOp: values['exclude-op'],
    override: values.override,
    sparsity: values.sparsity,
    pattern: values.pattern,
    global: values.global,
    layerCap: values['layer-cap'],
    norm: values.norm,
    groupImportance: values['group-importance'],
    externalData: values['external-data'],
    allowUnchanged: values['allow-unchanged'],
    saveExternalData: values['save-external-data'],
    calibData: values['calib-data'],
    calibSamples: values['calib-samples'],
    calibMethod: values['calib-method'],
    staticWeights: values['static-weights'],
    biasCorrection: values['bias-correction'],
    gptq: values.gptq,
    gptqDamp: values['gptq-damp'],
    actOrder: values['act-order'],
    refit: values.refit,
    teacherReport: values['teacher-report'],
    pruneMethod: values['prune-method'],
    weights: values.weights,
    activations: values.activations,
    calibration: values.calibration,
    calibrationSamples: values['calibration-samples'],
    calibShape: {
      dims: values.dims,
      floats: values.floats,
      threads: values.threads,
      image: {
        size: values['image-size'],
        resize: values.resize,
        channels: values.channels,
        layout: values.layout,
        scale: values.scale,
        mean: values.mean,
        std: values.std,
        imagenet: values.imagenet,
      },
    },
    memoryBudget: values['memory-budget'],
    json: values.json ?? false,
  });
  const evalFlags = (): EvalDataFlags => ({
    data: values.data,
    samples: values.samples,
    runs: values.runs,
    warmup: values.warmup,
    synthetic: values.synthetic,
    dims: values.dims,
    task: values.task,
    maskThreshold: values['mask-threshold'],
    threads: values.threads,
    floats: values.floats,
    image: {
      size: values['image-size'],
      resize: values.resize,
      channels: values.channels,
      layout: values.layout,
      scale: values.scale,
      mean: values.mean,
      std: values.std,
      imagenet: values.imagenet,
    },
    json: values.json ?? false,
  });
  switch (command) {
    case 'inspect': {
      if (rest.length !== 1) throw new UsageError('inspect takes exactly one model path');
      const backend = values.backend ?? 'auto';
      if (!['auto', 'wasm', 'ts'].includes(backend)) throw new UsageError(`--backend must be auto, wasm or ts (got "${backend}")`);
      return inspectCommand(rest[0]!, {
        json: values.json ?? false,
        externalData: values['external-data'],
        stats: values.stats,
        backend: backend as BackendPreference,
        memoryBudget: values['memory-budget'],
      });
    }
    case 'compress': {
      if (rest.length === 0) throw new UsageError('compress takes a model path (or several, with --out-dir)');
      const batch = rest.length > 1 || values['out-dir'] !== undefined || (await isDirectory(rest[0]!));
      if (!batch) return compressCommand(rest[0]!, compressFlags());
      if (values.output !== undefined) throw new UsageError('-o/--output names one file: with several models use --out-dir');
      return compressBatch(rest, { ...compressFlags(), outDir: values['out-dir'] });
    }
    case 'eval': {
      const candidates = [...rest.slice(1), ...(values.candidates ? [values.candidates] : [])];
      if (rest.length === 0 || candidates.length === 0)
        throw new UsageError('eval takes two model paths: the original and the candidate (or several candidates, or --candidates DIR)');
      if (candidates.length === 1 && values.candidates === undefined && !(await isDirectory(candidates[0]!)))
        return evalCommand(rest[0]!, candidates[0]!, evalFlags());
      return evalBatch(rest[0]!, candidates, evalFlags());
    }
    case 'sweep': {
      if (rest.length !== 1) throw new UsageError('sweep takes exactly one model path');
      return sweepCommand(rest[0]!, {
        ...evalFlags(),
        base: compressFlags(),
        bits: values.bits,
        sparsity: values.sparsity,
        granularity: values.granularity,
        pattern: values.pattern,
        blockSize: values['block-size'],
        preset: values.preset,
        csv: values.csv,
        outDir: values['out-dir'],
      });
    }
    case 'sensitivity': {
      if (rest.length !== 1) throw new UsageError('sensitivity takes exactly one model path');
      return sensitivityCommand(rest[0]!, { ...evalFlags(), compress: compressFlags(), targetSize: values['target-size'], maxDamage: values['max-damage'] });
    }
    case 'upgrade': {
      if (rest.length !== 1) throw new UsageError('upgrade takes exactly one model path');
      return upgradeCommand(rest[0]!, { opset: values.opset, output: values.output, externalData: values['external-data'], json: values.json ?? false });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function reason(err: unknown): string {
  if (err instanceof ModelInputError || err instanceof UsageError || err instanceof RecipeError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `no such file: ${e.path ?? ''}`;
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return e.message;
  return err instanceof Error ? err.message : String(err);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  try {
    process.stdout.write(terminalSafe(await runCli(argv)) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof BatchFailedError) {
      // The models that did compress were written: print the whole report, then say what failed.
      process.stdout.write(terminalSafe(err.output) + '\n');
      process.stderr.write(`cstudio: ${oneLine(err.message)}\n`);
      return 1;
    }
    process.stderr.write(`cstudio: ${oneLine(reason(err).replace(/\s+/g, ' '))}\n`);
    if (err instanceof UsageError) process.stderr.write(`Run "cstudio --help" for usage.\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
