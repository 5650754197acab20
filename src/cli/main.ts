import { parseArgs } from 'node:util';
import { ModelInputError } from '../core/onnx/types';
import type { BackendPreference } from '../kernels/registry';
import { RecipeError } from '../core/recipe';
import { compressCommand } from './commands/compress';
import { inspectCommand } from './commands/inspect';

const USAGE = `Compression Studio CLI

Usage:
  cstudio inspect <model.onnx> [--external-data <dir>] [--stats] [--backend auto|wasm|ts] [--json]
  cstudio compress <in.onnx> [-o out.onnx] [--recipe r.json] [--bits N] [--granularity tensor|channel|block]
                   [--block-size N] [--symmetric|--asymmetric] [--range minmax|percentile|mse] [--percentile P]
                   [--format auto|qdq|matmulnbits|dynamic|fp16] [--exclude GLOB]... [--exclude-op OP]...
                   [--override GLOB=BITS]... [--sparsity S --pattern unstructured|2:4|4:8|channel
                   [--global [--layer-cap C]] [--norm l1|l2]] [--save-recipe r.json] [--json]

Commands:
  inspect   Print a model's summary and every stored tensor (name, dtype, shape, bytes, where it lives).
  compress  Quantize a model's weights and write a model that runs in onnxruntime (web, node, python).

Options:
  --external-data <dir>  Folder holding the model's external-data files (default: the model's folder)
  --stats                Add per-tensor statistics (min, max, mean, std, abs-max, percentiles, zero fraction)
                         and per-output-channel [min, max] ranges for weights of Conv/Gemm/MatMul
  --backend <name>       Kernel backend for --stats: auto (WASM SIMD when available), wasm or ts
  --json                 Machine-readable output
  -o, --output <file>    compress: where to write (default name.int8.onnx / name.q4.onnx …)
  --recipe <file>        compress: a recipe JSON (flags given as well override it)
  --bits <2-8>           bits per weight; 3, 5, 6, 7 are stored in the next container (4 or 8)
  --granularity <g>      one scale per tensor, per output channel, or per block of --block-size (16-256)
  --format <f>           auto: MatMulNBits for 4-bit blocked MatMul/Gemm, DequantizeLinear otherwise;
                         dynamic: DynamicQuantizeLinear + MatMulInteger/ConvInteger; fp16: float16 weights+compute
  --exclude <glob>       leave matching tensors or layers in float (repeatable)
  --override <glob=bits> give matching tensors their own bit width (repeatable)
  --sparsity <0-0.95>    prune first: fraction of weights (or output channels) to remove
  --pattern <p>          unstructured (magnitude), 2:4 / 4:8 (N of every M along the input axis),
                         channel (remove whole output channels: the model gets smaller and faster)
  --global               unstructured: one magnitude threshold across layers, each capped at --layer-cap
  --save-recipe <file>   write the recipe that reproduces this output
  -h, --help             Show this help`;

export class UsageError extends Error {}

export async function runCli(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'external-data': { type: 'string' },
      stats: { type: 'boolean', default: false },
      backend: { type: 'string', default: 'auto' },
      output: { type: 'string', short: 'o' },
      recipe: { type: 'string' },
      'save-recipe': { type: 'string' },
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) return USAGE;
  switch (command) {
    case 'inspect': {
      if (rest.length !== 1) throw new UsageError('inspect takes exactly one model path');
      const backend = values.backend ?? 'auto';
      if (!['auto', 'wasm', 'ts'].includes(backend)) throw new UsageError(`--backend must be auto, wasm or ts (got "${backend}")`);
      return inspectCommand(rest[0]!, { json: values.json ?? false, externalData: values['external-data'], stats: values.stats, backend: backend as BackendPreference });
    }
    case 'compress': {
      if (rest.length !== 1) throw new UsageError('compress takes exactly one model path');
      return compressCommand(rest[0]!, {
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
        externalData: values['external-data'],
        json: values.json ?? false,
      });
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

export async function main(argv = process.argv.slice(2)): Promise<number> {
  try {
    process.stdout.write((await runCli(argv)) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`cstudio: ${reason(err).replace(/\s+/g, ' ')}\n`);
    if (err instanceof UsageError) process.stderr.write(`Run "cstudio --help" for usage.\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
