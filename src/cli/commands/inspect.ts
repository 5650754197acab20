import path from 'node:path';
import { checkMemoryBudget } from '../../core/memory';
import { memoryBudgetFlag } from './compress';
import { openModel, summarizeModel } from '../../core/onnx/open';
import { statsForEntry } from '../../core/analysis/analyze';
import type { TensorStats } from '../../core/analysis/stats';
import type { ModelSummary, TensorInfo } from '../../core/onnx/types';
import { BackendRegistry, type BackendPreference } from '../../kernels/registry';
import { formatBytes, formatCount, oneLine, table } from '../format';
import { dataFileResolver, fileSource } from '../node-source';

export interface InspectOptions {
  externalData?: string;
  json: boolean;
  /** Add per-tensor statistics and per-channel ranges. */
  stats?: boolean;
  backend?: BackendPreference;
  /** --memory-budget as given (checked for --stats). */
  memoryBudget?: string;
}

type TensorWithStats = TensorInfo & { stats?: TensorStats; channelRanges?: [number, number][]; statsBackend?: string };

export async function inspectCommand(modelPath: string, options: InspectOptions): Promise<string> {
  const main = await fileSource(modelPath);
  const opened = await openModel([main], { resolveDataFile: dataFileResolver(options.externalData ?? path.dirname(modelPath)) });
  const summary = summarizeModel(opened);
  if (options.stats) {
    checkMemoryBudget(opened, 'stats', memoryBudgetFlag(options.memoryBudget));
    const registry = new BackendRegistry(() => undefined);
    for (const entry of opened.catalog.entries) {
      const backend = await registry.choose(options.backend ?? 'auto', entry.elements);
      const result = await statsForEntry(opened, entry, backend);
      if (!result) continue;
      const info = summary.tensors[entry.id] as TensorWithStats;
      info.stats = result.stats;
      if (result.channelRanges) info.channelRanges = result.channelRanges;
      info.statsBackend = backend.name;
    }
  }
  return options.json ? JSON.stringify(summary, jsonNumbers, 2) : renderSummary(summary);
}

/** JSON has no NaN/Infinity: write them as null (the stats of an all-NaN tensor). */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

const g4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));

const shapeText = (shape: (number | string)[]) => (shape.length ? shape.join(' × ') : 'scalar');

export function renderSummary(s: ModelSummary): string {
  const out: string[] = [];
  out.push(`${oneLine(s.fileName)}  (${formatBytes(s.fileBytes)})`);
  out.push(
    `IR version ${s.irVersion}; opsets ${Object.entries(s.opsets)
      .map(([d, v]) => `${oneLine(d)} ${v}`)
      .join(', ')}`,
  );
  out.push(`producer: ${oneLine(s.producer) || '(none)'}${s.producerVersion ? ' ' + oneLine(s.producerVersion) : ''}`);
  out.push(
    `nodes: ${formatCount(s.nodeCount)} (subgraphs included); parameters: ${formatCount(s.parameterCount)}; stored tensor bytes: ${formatBytes(s.weightBytes)}`,
  );
  out.push(
    `bytes by dtype: ${Object.entries(s.weightBytesByDtype)
      .map(([d, b]) => `${d} ${formatBytes(b)}`)
      .join(', ')}`,
  );
  if (s.externalFiles.length) out.push(`external data: ${s.externalFiles.map(oneLine).join(', ')}`);
  for (const w of s.warnings) out.push(`warning: ${oneLine(w)}`);
  out.push('', 'inputs:');
  for (const v of s.inputs) out.push(`  ${oneLine(v.name)}: ${oneLine(v.dtype)} [${oneLine(shapeText(v.shape))}]`);
  out.push('outputs:');
  for (const v of s.outputs) out.push(`  ${oneLine(v.name)}: ${oneLine(v.dtype)} [${oneLine(shapeText(v.shape))}]`);
  out.push(
    '',
    'op types: ' +
      Object.entries(s.opTypes)
        .map(([op, n]) => `${oneLine(op)}×${n}`)
        .join(', '),
    '',
  );
  const tensors = s.tensors as TensorWithStats[];
  if (tensors.some((t) => t.stats)) {
    out.push(
      table(
        ['tensor', 'min', 'max', 'mean', 'std', 'abs-max', 'p0.1', 'p99.9', 'zeros', 'abs-max/std', 'channels'],
        tensors
          .filter((t) => t.stats)
          .map((t) => {
            const st = t.stats!;
            return [
              t.name,
              g4(st.min),
              g4(st.max),
              g4(st.mean),
              g4(st.std),
              g4(st.absMax),
              g4(st.p001),
              g4(st.p999),
              `${(st.zeroFraction * 100).toFixed(1)}%`,
              g4(st.outlierScore),
              t.channelRanges ? String(t.channelRanges.length) : '',
            ];
          }),
        [false, true, true, true, true, true, true, true, true, true, true],
      ),
      '',
    );
  }
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
