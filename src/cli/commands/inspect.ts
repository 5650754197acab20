import path from 'node:path';
import { openModel, summarizeModel } from '../../core/onnx/open';
import type { ModelSummary } from '../../core/onnx/types';
import { formatBytes, formatCount, table } from '../format';
import { dataFileResolver, fileSource } from '../node-source';

export interface InspectOptions {
  externalData?: string;
  json: boolean;
}

export async function inspectCommand(modelPath: string, options: InspectOptions): Promise<string> {
  const main = await fileSource(modelPath);
  const opened = await openModel([main], { resolveDataFile: dataFileResolver(options.externalData ?? path.dirname(modelPath)) });
  const summary = summarizeModel(opened);
  return options.json ? JSON.stringify(summary, null, 2) : renderSummary(summary);
}

const shapeText = (shape: (number | string)[]) => (shape.length ? shape.join(' × ') : 'scalar');

export function renderSummary(s: ModelSummary): string {
  const out: string[] = [];
  out.push(`${s.fileName}  (${formatBytes(s.fileBytes)})`);
  out.push(`IR version ${s.irVersion}; opsets ${Object.entries(s.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}`);
  out.push(`producer: ${s.producer || '(none)'}${s.producerVersion ? ' ' + s.producerVersion : ''}`);
  out.push(`nodes: ${formatCount(s.nodeCount)} (subgraphs included); parameters: ${formatCount(s.parameterCount)}; stored tensor bytes: ${formatBytes(s.weightBytes)}`);
  out.push(`bytes by dtype: ${Object.entries(s.weightBytesByDtype).map(([d, b]) => `${d} ${formatBytes(b)}`).join(', ')}`);
  if (s.externalFiles.length) out.push(`external data: ${s.externalFiles.join(', ')}`);
  for (const w of s.warnings) out.push(`warning: ${w}`);
  out.push('', 'inputs:');
  for (const v of s.inputs) out.push(`  ${v.name}: ${v.dtype} [${shapeText(v.shape)}]`);
  out.push('outputs:');
  for (const v of s.outputs) out.push(`  ${v.name}: ${v.dtype} [${shapeText(v.shape)}]`);
  out.push('', 'op types: ' + Object.entries(s.opTypes).map(([op, n]) => `${op}×${n}`).join(', '), '');
  out.push(
    table(
      ['tensor', 'dtype', 'shape', 'elements', 'bytes', 'location', 'graph', 'consumers'],
      s.tensors.map((t) => [
        t.name,
        t.dtype,
        shapeText(t.shape),
        formatCount(t.elements),
        formatBytes(t.bytes),
        t.location === 'external' ? `external ${t.externalFile}` : t.location,
        t.graph,
        t.consumers.join(','),
      ]),
      [false, false, false, true, true, false, false, false],
    ),
  );
  return out.join('\n');
}
