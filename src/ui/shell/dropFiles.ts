/**
 * Collects the files of a drop. Dropped folders are expanded (a model and its external-data files
 * often live in one folder); everything else comes straight from DataTransfer.files.
 * Must be called synchronously inside the drop handler: the DataTransfer empties afterwards.
 */
export function filesFromDrop(dataTransfer: DataTransfer): Promise<File[]> {
  const files = Array.from(dataTransfer.files);
  const entries = Array.from(dataTransfer.items)
    .filter((item) => item.kind === 'file')
    .map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null));
  if (!entries.some((entry) => entry?.isDirectory)) return Promise.resolve(files);
  return Promise.all(entries.map((entry, i) => (entry ? readEntry(entry) : Promise.resolve(files[i] ? [files[i]] : [])))).then((lists) => lists.flat());
}

async function readEntry(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    return [await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))];
  }
  if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    return (await Promise.all(children.map(readEntry))).flat();
  }
  return [];
}

/** readEntries returns entries in batches; keep reading until it returns none. */
async function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

export function dragHasFiles(event: DragEvent | React.DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}
