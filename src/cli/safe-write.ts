/**
 * Output files the CLI writes: checked before any work (folder exists, not a folder itself, not the input), then
 * written to a temporary file in the target folder and renamed over the target only once complete, so a failed
 * run (disk full, file size limit, a crash) leaves every file as it was.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './eval-data';

async function samePath(a: string, b: string): Promise<boolean> {
  const resolve = async (p: string) => (await realpath(p).catch(() => undefined)) ?? path.resolve(p);
  if ((await resolve(a)) === (await resolve(b))) return true;
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Usage errors (exit 2) for an output that cannot be written: the folder is missing or not writable, the target
 * is a folder, or it names one of the inputs (which a failed or even a successful write would destroy).
 */
export async function checkOutputPath(output: string, flag: string, inputs: readonly string[] = []): Promise<void> {
  if (output.trim() === '') throw new UsageError(`${flag} needs a file name`);
  for (const input of inputs) {
    if (await samePath(output, input)) throw new UsageError(`${flag} ${output} is the input ${input}; write to another file (the input is never overwritten)`);
  }
  const info = await stat(output).catch(() => undefined);
  if (info?.isDirectory()) throw new UsageError(`${flag} ${output} is a folder; give a file name, e.g. ${path.join(output, 'model.onnx')}`);
  if (info && !info.isFile()) throw new UsageError(`${flag} ${output} exists and is not a regular file`);
  const dir = path.dirname(path.resolve(output));
  const dirInfo = await stat(dir).catch(() => undefined);
  if (!dirInfo) throw new UsageError(`${flag} ${output}: the folder ${dir} does not exist`);
  if (!dirInfo.isDirectory()) throw new UsageError(`${flag} ${output}: ${dir} is not a folder`);
  const writable = await access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!writable) throw new UsageError(`${flag} ${output}: the folder ${dir} is not writable`);
}

/**
 * Writes `data` (or its chunks, in order) to a temporary file beside `target`, then renames it over `target`; on
 * failure the temporary file is removed.
 */
export async function writeFileSafely(target: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (Array.isArray(data)) {
      const handle = await open(temp, 'wx');
      try {
        for (const chunk of data) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    } else await writeFile(temp, data, { flag: 'wx' });
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
