/**
 * Several files opened at once are either one model with its external-data files, or several models (each
 * .onnx file one model, with the data files named after it). This splits them, without reading any bytes.
 */
const MODEL_FILE = /\.(onnx|pb)$/i;

function baseName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

function stem(name: string): string {
  return baseName(name).replace(MODEL_FILE, '');
}

/**
 * One list per model. With at most one model file, all files are one set (the model and its data, as before).
 * With several, each data file goes to the model whose name it starts with (model.onnx_data, model.onnx.data,
 * model.weights → model.onnx; the longest name wins); a data file no model name claims goes with every model
 * (each model reads only the files it references).
 */
export function splitModelSets<T extends { name: string }>(files: readonly T[]): T[][] {
  const models = files.filter((f) => MODEL_FILE.test(f.name));
  if (models.length <= 1) return files.length ? [[...files]] : [];
  const data = files.filter((f) => !MODEL_FILE.test(f.name));
  const sets = new Map<T, T[]>(models.map((m) => [m, [m]]));
  for (const d of data) {
    const owners = models.filter((m) => baseName(d.name).startsWith(stem(m.name)));
    const longest = Math.max(...owners.map((m) => stem(m.name).length));
    const owner = owners.filter((m) => stem(m.name).length === longest);
    for (const m of owner.length === 1 ? owner : models) sets.get(m)!.push(d);
  }
  return models.map((m) => sets.get(m)!);
}
