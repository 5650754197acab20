import { parseArgs } from 'node:util';
import { ModelInputError } from '../core/onnx/types';
import type { BackendPreference } from '../kernels/registry';
import { inspectCommand } from './commands/inspect';

const USAGE = `Compression Studio CLI

Usage:
  cstudio inspect <model.onnx> [--external-data <dir>] [--stats] [--backend auto|wasm|ts] [--json]

Commands:
  inspect   Print a model's summary and every stored tensor (name, dtype, shape, bytes, where it lives).

Options:
  --external-data <dir>  Folder holding the model's external-data files (default: the model's folder)
  --stats                Add per-tensor statistics (min, max, mean, std, abs-max, percentiles, zero fraction)
                         and per-output-channel [min, max] ranges for weights of Conv/Gemm/MatMul
  --backend <name>       Kernel backend for --stats: auto (WASM SIMD when available), wasm or ts
  --json                 Machine-readable output
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
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function reason(err: unknown): string {
  if (err instanceof ModelInputError || err instanceof UsageError) return err.message;
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
