import { open, stat } from 'node:fs/promises';
import path from 'node:path';
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

/** Resolves an external-data location (relative to `dir`) to a file, or undefined when it does not exist. */
export function dataFileResolver(dir: string) {
  return async (location: string): Promise<SourceFile | undefined> => {
    const full = path.resolve(dir, location);
    const info = await stat(full).catch(() => undefined);
    return info?.isFile() ? fileSource(full) : undefined;
  };
}
