import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quantizeModel, type QuantReport } from '../../core/compress/quantize/apply';
import { openModel } from '../../core/onnx/open';
import { DEFAULT_QUANTIZE, RecipeError, validateQuantize, validateRecipe, type QuantizeRecipe, type Recipe } from '../../core/recipe';
import { formatBytes, table } from '../format';
import { dataFileResolver, fileSource } from '../node-source';

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
  externalData?: string;
  json: boolean;
}

function number(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new RecipeError(`${flag} needs a number (got "${value}")`);
  return n;
}

/** Flags and recipe file are two views of one recipe: flags given on the command line win. */
export async function recipeFromFlags(flags: CompressFlags): Promise<Recipe> {
  let base: Partial<QuantizeRecipe> = {};
  if (flags.recipe) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(flags.recipe, 'utf8'));
    } catch (err) {
      throw new RecipeError(`cannot read recipe ${flags.recipe}: ${err instanceof Error ? err.message : String(err)}`);
    }
    base = validateRecipe(json).quantize ?? {};
  }
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
  if (flags.exclude?.length) q.exclude = [...(q.exclude ?? []), ...flags.exclude];
  if (flags.excludeOp?.length) q.excludeOps = [...(q.excludeOps ?? []), ...flags.excludeOp];
  for (const o of flags.override ?? []) {
    const at = o.lastIndexOf('=');
    if (at <= 0) throw new RecipeError(`--override takes GLOB=BITS (got "${o}")`);
    q.overrides = [...(q.overrides ?? []), { match: o.slice(0, at), bits: number(o.slice(at + 1), '--override') }];
  }
  return { version: 1, quantize: validateQuantize(q) };
}

/** name.onnx → name.int8.onnx / name.q4.onnx / name.q6.onnx */
export function compressedFileName(input: string, q: QuantizeRecipe): string {
  const stem = input.replace(/\.onnx$/i, '');
  const tag = q.format === 'fp16' ? 'fp16' : q.bits === 8 ? 'int8' : `q${q.bits}`;
  return `${stem}.${tag}.onnx`;
}

export async function compressCommand(modelPath: string, flags: CompressFlags): Promise<string> {
  const recipe = await recipeFromFlags(flags);
  const q = recipe.quantize!;
  const output = flags.output ?? compressedFileName(modelPath, q);
  const opened = await openModel([await fileSource(modelPath)], { resolveDataFile: dataFileResolver(flags.externalData ?? path.dirname(modelPath)) });
  const { bytes, report } = await quantizeModel(opened, q);
  await writeFile(output, bytes);
  if (flags.saveRecipe) await writeFile(flags.saveRecipe, JSON.stringify(recipe, null, 2) + '\n');
  if (flags.json) return JSON.stringify({ input: modelPath, output, recipe, ...reportJson(report) }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  return renderReport(modelPath, output, report);
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
    tensors: report.tensors.map((t) => ({
      name: t.name,
      layer: t.layer,
      op: t.op,
      action: t.action,
      ...(t.reason ? { reason: t.reason } : {}),
      bits: t.bits,
      storedBits: t.storedBits,
      format: t.action === 'quantize' ? t.format : 'float',
      granularity: t.granularity,
      ...(t.granularity === 'block' ? { blockSize: t.blockSize } : {}),
      elements: t.elements,
      bytesBefore: t.bytesBefore,
      bytesAfter: t.bytesAfter,
      sqnrDb: t.sqnrDb,
      relError: t.relError,
      notes: t.notes,
    })),
  };
}

function renderReport(input: string, output: string, r: QuantReport): string {
  const shrink = (1 - r.outputBytes / r.inputBytes) * 100;
  const lines = [
    `${input} (${formatBytes(r.inputBytes)}) → ${output} (${formatBytes(r.outputBytes)}), ↓${shrink.toFixed(1)}%`,
    `weights: ${r.effectiveBits.toFixed(2)} effective bits, ${r.storedBits.toFixed(2)} stored, ${r.bitsWithScales.toFixed(2)} with scales; opset ${r.opset}`,
    ...r.warnings.map((w) => `note: ${w}`),
    '',
    table(
      ['tensor', 'op', 'format', 'bits', 'granularity', 'SQNR dB', 'rel. error', 'bytes before', 'after', 'notes'],
      r.tensors.map((t) => [
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
