/** Files the user gave us, read lazily by range: a Blob in the browser, a file handle in Node, bytes in tests. */
export interface SourceFile {
  name: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(name: string, bytes: Uint8Array): SourceFile {
  return {
    name,
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

export function blobSource(blob: Blob, name: string): SourceFile {
  return {
    name,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/** Reads a whole source (one copy: the bytes land once in memory). */
export function readWhole(source: SourceFile): Promise<Uint8Array> {
  return source.read(0, source.size);
}

/** The last path segment of a name, so "dir/model.onnx_data" and "model.onnx_data" match. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}
