import path from 'node:path';
import { decodeModel } from '../../core/onnx/codec';
import { openModel } from '../../core/onnx/open';
import { MAX_UPGRADE_OPSET, defaultOpset, describeUpgrade, upgradeOpset } from '../../core/onnx/upgrade';
import { encodeStandalone } from '../../core/onnx/write';
import { UsageError } from '../eval-data';
import { formatBytes } from '../format';
import { dataFileResolver, fileSource } from '../node-source';
import { checkOutputPath, writeFileSafely } from '../safe-write';

export interface UpgradeFlags {
  opset?: string;
  output?: string;
  externalData?: string;
  json: boolean;
}

/** `dir/name.onnx` → `dir/name.opsetN.onnx`. */
export function upgradedFileName(modelPath: string, opset: number): string {
  const base = path.basename(modelPath).replace(/\.onnx$/i, '');
  return path.join(path.dirname(modelPath), `${base}.opset${opset}.onnx`);
}

function targetOpset(value: string | undefined): number {
  if (value === undefined) throw new UsageError(`upgrade needs --opset N, the opset to reach (at most ${MAX_UPGRADE_OPSET})`);
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--opset needs a whole number (got "${value}")`);
  const opset = Number(value);
  if (opset > MAX_UPGRADE_OPSET) throw new UsageError(`--opset ${opset} is newer than the studio upgrades to (${MAX_UPGRADE_OPSET} at most)`);
  return opset;
}

export async function upgradeCommand(modelPath: string, flags: UpgradeFlags): Promise<string> {
  const target = targetOpset(flags.opset);
  const output = flags.output ?? upgradedFileName(modelPath, target);
  await checkOutputPath(output, '-o', [modelPath]);
  const opened = await openModel([await fileSource(modelPath)], { resolveDataFile: dataFileResolver(flags.externalData ?? path.dirname(modelPath)) });
  const from = defaultOpset(opened.model);
  if (from > target) throw new UsageError(`--opset ${target} is below the model's opset ${from}; the studio does not downgrade`);
  // The opened model's raw data is shared with its file bytes: upgrade a copy.
  const model = decodeModel(opened.fileData, opened.fileName);
  const report = upgradeOpset(model, target);
  const bytes = await encodeStandalone(opened, model);
  await writeFileSafely(output, bytes);
  if (flags.json) {
    return JSON.stringify(
      { input: modelPath, output, from: report.from, to: report.to, irVersion: report.irVersion, rewritten: report.rewritten, notes: report.notes },
      null,
      2,
    );
  }
  return [describeUpgrade(report), `→ ${output} (${formatBytes(bytes.byteLength)})`, ...report.notes.map((n) => `note: ${n}`)].join('\n');
}
