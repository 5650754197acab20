/**
 * One recipe, applied in order: prune, then quantize the pruned weights. Returns the final model and the
 * reports of each stage. Pruned-but-dense models also get their zip size measured (zeros compress).
 */
import { openModel, type OpenedModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import type { Recipe } from '../recipe';
import { pruneModel, type PruneReport } from './prune/apply';
import { quantizeModel, type QuantReport, type QuantizeOptions } from './quantize/apply';

export interface CompressResult {
  bytes: Uint8Array;
  inputBytes: number;
  outputBytes: number;
  prune?: PruneReport;
  quantize?: QuantReport;
}

export async function compressModel(opened: OpenedModel, recipe: Recipe, options: QuantizeOptions = {}): Promise<CompressResult> {
  const inputBytes = opened.fileBytes + [...opened.dataFiles.values()].reduce((n, f) => n + f.size, 0);
  let current = opened;
  let bytes = opened.fileData;
  let prune: PruneReport | undefined;
  if (recipe.prune) {
    const pruned = await pruneModel(opened, recipe.prune, { backend: options.backend, signal: options.signal, onProgress: options.onProgress });
    prune = pruned.report;
    bytes = pruned.bytes;
    current = await openModel([bytesSource(opened.fileName, bytes)]);
  }
  let quantize: QuantReport | undefined;
  if (recipe.quantize) {
    const q = await quantizeModel(current, recipe.quantize, options);
    quantize = { ...q.report, inputBytes };
    bytes = q.bytes;
  } else if (!recipe.prune) {
    throw new Error('The recipe has neither a prune nor a quantize step: nothing to do.');
  }
  return { bytes, inputBytes, outputBytes: bytes.byteLength, prune, quantize };
}

/** Size of the file when gzip-compressed (measured), so pruning's zeros show up honestly. */
export async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}
