import { lstat, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertConfinedLocation, externalPathRefusal } from '../core/onnx/external-path';
import type { SourceFile } from '../core/onnx/source';

/** A file on disk read by range, so external data is never loaded whole. */
export async function fileSource(filePath: string): Promise<SourceFile> {
  const info = await stat(filePath);
  if (!info.isFile()) throw new Error(`${filePath} is not a file`);
  return {
    name: path.basename(filePath),
    size: info.size,
    async read(offset, length) {
      const handle = await open(filePath, 'r');
      try {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === length ? out : out.subarray(0, done);
      } finally {
        await handle.close();
      }
    },
  };
}

/**
 * Resolves an external-data location inside `dir` to a file, or undefined when there is none. Locations that
 * leave `dir` (absolute, "..", or a symlink whose target lies outside) are refused with one message, raised
 * before anything outside is looked at, so the answer never depends on what exists there.
 */
export function dataFileResolver(dir: string) {
  return async (location: string): Promise<SourceFile | undefined> => {
    assertConfinedLocation(location);
    const root = await realpath(dir).catch(() => path.resolve(dir));
    const full = path.resolve(root, location);
    const inside = (real: string) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
    // Walk up from the file to the first path that exists: a link (dangling or not) on the way out is refused
    // before anything says whether the target exists.
    let probe = full;
    let real: string | undefined;
    for (;;) {
      real = await realpath(probe).catch(() => undefined);
      if (real !== undefined) break;
      if ((await lstat(probe).catch(() => undefined))?.isSymbolicLink()) throw externalPathRefusal(location);
      const parent = path.dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
    if (real === undefined || !inside(real)) throw externalPathRefusal(location);
    if (probe !== full) return undefined;
    const info = await stat(real).catch(() => undefined);
    return info?.isFile() ? fileSource(real) : undefined;
  };
}
