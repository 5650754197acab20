/**
 * Evaluation data from files the user picked (browser) or named (CLI): the one entry point of this folder.
 *
 * - Hidden files (any path part starting with '.') and __MACOSX folders are ignored; files are sorted by path.
 * - One .json file → json.ts formats.
 * - .npy files → either one file per model input, named after it (`<input>.npy`, batch N → N samples), or,
 *   for a single-input model, one sample per file (batch dim added when the array is one rank short;
 *   a file with batch N > 1 gives N samples). An optional `labels.npy` holds one integer label per sample.
 * - Images (png, jpg/jpeg here; webp, gif, bmp through `fallbackDecode`) → one sample each for a model with a
 *   single rank-4 image input. Labels come from a CSV (`labelsCsv`, or the one .csv among the files, preferring
 *   labels.csv) or from the immediate parent folder name (by default when every image sits in a folder and
 *   there are at least two folders). Folder and class names are numbered in sorted order, like ImageFolder.
 * - `limit` keeps N samples chosen by a round-robin over classes (each class's files in path order), so every
 *   class stays represented; the kept samples stay in path order. Without labels it keeps the first N.
 */
import { EvalInputError, type EvalDataset, type EvalSample, type HostTensor } from '../types';
import type { ValueInfo } from '../../onnx/types';
import { baseName, normalizePath, parseLabelsCsv, resolveLabels, stemOf, type ResolvedLabels } from './csv';
import { decodeImage, defaultImagePrep, imageToTensor, IMAGE_EXTENSIONS, preparedDims, type FallbackDecode, type ImagePrep } from './image';
import { parseJsonData } from './json';
import { parseNpy } from './npy';
import { checkDims, convertTensor, formatShape, hasFlexibleBatch, hostDtypeOf, splitBatch, withBatchDim } from './tensor';

export interface DataFile {
  /** Relative path including folders, '/' separated. */
  path: string;
  bytes(): Promise<Uint8Array>;
}

export interface LoadOptions {
  /** Overrides of the preprocessing inferred from the model input (defaultImagePrep). */
  image?: Partial<ImagePrep>;
  labelsCsv?: DataFile;
  /** Labels from the images' parent folder names; default: true when every image sits in one of ≥ 2 folders. */
  folderLabels?: boolean;
  limit?: number;
  /** Decoder for image formats other than PNG and JPEG (the browser passes one built on createImageBitmap). */
  fallbackDecode?: FallbackDecode;
}

type FileKind = 'json' | 'npy' | 'npz' | 'image' | 'csv' | 'other';

function kindOf(path: string): FileKind {
  const name = baseName(path).toLowerCase();
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  if (extension === 'json' || extension === 'npy' || extension === 'npz' || extension === 'csv') return extension;
  if (IMAGE_EXTENSIONS.includes(extension)) return 'image';
  return 'other';
}

function isIgnored(path: string): boolean {
  return normalizePath(path)
    .split('/')
    .some((part) => part.startsWith('.') || part === '__MACOSX');
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function loadDataset(files: DataFile[], inputs: ValueInfo[], options: LoadOptions = {}): Promise<EvalDataset> {
  if (inputs.length === 0) throw new EvalInputError('The model has no inputs to feed.');
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new EvalInputError(`limit must be a positive whole number (got ${options.limit}).`);
  }
  const usable = files
    .map((f): DataFile => ({ path: normalizePath(f.path), bytes: () => f.bytes() }))
    .filter((f) => !isIgnored(f.path))
    .sort((a, b) => byPath(a.path, b.path));
  const byKind = new Map<FileKind, DataFile[]>();
  for (const file of usable) {
    const kind = kindOf(file.path);
    const group = byKind.get(kind);
    if (group) group.push(file);
    else byKind.set(kind, [file]);
  }
  const npz = byKind.get('npz');
  if (npz) throw new EvalInputError(`${npz[0]!.path}: npz archives are not supported; save each array with np.save.`);

  const present = (['json', 'npy', 'image'] as const).filter((k) => byKind.has(k));
  if (present.length === 0) {
    const seen = usable.length ? ` (got ${usable.length} file${usable.length > 1 ? 's' : ''}: ${describeExtensions(usable)})` : '';
    throw new EvalInputError(`No usable data files${seen}. Give images (PNG, JPEG), .npy arrays, or one .json file.`);
  }
  if (present.length > 1) {
    const counts = present.map((k) => `${byKind.get(k)!.length} ${k === 'image' ? 'image' : `.${k}`} file${byKind.get(k)!.length > 1 ? 's' : ''}`);
    throw new EvalInputError(`Mixed data: ${counts.join(' and ')}. Load one kind at a time.`);
  }
  const kind = present[0]!;
  if (kind === 'json') return loadJson(byKind.get('json')!, inputs, options);
  const csv = options.labelsCsv ?? pickCsv(byKind.get('csv') ?? []);
  const root = commonFolder(usable.map((f) => f.path));
  if (kind === 'npy') return loadNpy(byKind.get('npy')!, inputs, options, csv, root);
  return loadImages(byKind.get('image')!, inputs, options, csv, root);
}

function describeExtensions(files: DataFile[]): string {
  const extensions = [
    ...new Set(files.map((f) => (baseName(f.path).includes('.') ? baseName(f.path).slice(baseName(f.path).lastIndexOf('.')) : baseName(f.path)))),
  ];
  return extensions.slice(0, 6).join(', ') + (extensions.length > 6 ? ', …' : '');
}

function pickCsv(csvFiles: DataFile[]): DataFile | undefined {
  if (csvFiles.length <= 1) return csvFiles[0];
  const named = csvFiles.filter((f) => /^labels?\.csv$/i.test(baseName(f.path)));
  if (named.length === 1) return named[0];
  throw new EvalInputError(`Several CSV files (${csvFiles.map((f) => f.path).join(', ')}); name the labels file labels.csv or pick it explicitly.`);
}

/** The first path part when every file sits under it (the folder the user dropped), else undefined. */
function commonFolder(paths: string[]): string | undefined {
  const firsts = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
  const [only] = firsts;
  return firsts.size === 1 && only ? only : undefined;
}

async function readText(file: DataFile): Promise<string> {
  return new TextDecoder().decode(await file.bytes());
}

async function loadJson(files: DataFile[], inputs: ValueInfo[], options: LoadOptions): Promise<EvalDataset> {
  if (files.length > 1) throw new EvalInputError(`Several .json files (${files.map((f) => f.path).join(', ')}); load one at a time.`);
  const file = files[0]!;
  const parsed = parseJsonData(await readText(file), inputs, file.path);
  const { kept, note } = applyLimit(parsed.samples, options.limit);
  const labelled = kept.some((s) => s.label !== undefined);
  const what = parsed.format === 'demo' ? 'demo digits' : parsed.format === 'batch' ? 'samples from one batch' : 'samples';
  const dataset: EvalDataset = {
    name: `${file.path} (${kept.length}${labelled ? ', labelled' : ''})`,
    description: `${kept.length} ${what} from ${file.path}${labelled ? ', labelled' : ', unlabelled'}; ${describeFeeds(kept[0]!)}${note}`,
    samples: kept,
    synthetic: false,
  };
  if (parsed.classNames) dataset.classNames = parsed.classNames;
  return dataset;
}

function describeFeeds(sample: EvalSample): string {
  return Object.entries(sample.feeds)
    .map(([name, t]) => `'${name}' ${t.dtype} ${formatShape(t.dims)}`)
    .join(', ');
}

async function loadNpy(
  files: DataFile[],
  inputs: ValueInfo[],
  options: LoadOptions,
  csv: DataFile | undefined,
  root: string | undefined,
): Promise<EvalDataset> {
  const inputNames = new Set(inputs.map((i) => i.name));
  const labelFile = files.find((f) => /^labels?\.npy$/i.test(baseName(f.path)) && !inputNames.has(stemOf(f.path)));
  const dataFiles = files.filter((f) => f !== labelFile);
  const arrays = new Map<DataFile, HostTensor>();
  for (const file of files) arrays.set(file, parseNpy(await file.bytes(), file.path));
  const conversions = new Set<string>();
  const toModelDtype = (tensor: HostTensor, input: ValueInfo): HostTensor => {
    const converted = convertTensor(tensor, hostDtypeOf(input));
    if (converted !== tensor) conversions.add(`${tensor.dtype} → ${converted.dtype}`);
    return converted;
  };

  let samples: EvalSample[];
  let perFileLabels = false;
  const named = new Map(dataFiles.map((f) => [stemOf(f.path), f]));
  if (inputs.length > 1 && inputs.every((i) => named.has(i.name))) {
    // One file per model input: split each along the batch dim.
    const parts = new Map<string, HostTensor[]>();
    for (const input of inputs) {
      const file = named.get(input.name)!;
      const tensor = toModelDtype(arrays.get(file)!, input);
      const dims = withBatchDim(input, tensor.dims);
      const split = hasFlexibleBatch(input) && dims.length === input.shape.length ? splitBatch({ ...tensor, dims }) : [{ ...tensor, dims }];
      split.forEach((t, i) => checkDims(input, t.dims, `${file.path}${split.length > 1 ? ` #${i}` : ''}`));
      parts.set(input.name, split);
    }
    const counts = new Set([...parts.values()].map((p) => p.length));
    if (counts.size > 1) {
      throw new EvalInputError(
        `The .npy files hold different numbers of samples (${inputs.map((i) => `${i.name}.npy: ${parts.get(i.name)!.length}`).join(', ')}).`,
      );
    }
    const count = [...counts][0]!;
    samples = Array.from({ length: count }, (_, i) => ({
      feeds: Object.fromEntries(inputs.map((input) => [input.name, parts.get(input.name)![i]!])),
      id: `#${i}`,
    }));
  } else if (inputs.length === 1) {
    const input = inputs[0]!;
    samples = [];
    for (const file of dataFiles) {
      const tensor = toModelDtype(arrays.get(file)!, input);
      const dims = withBatchDim(input, tensor.dims);
      const split = hasFlexibleBatch(input) && dims.length === input.shape.length && dims[0]! > 1 ? splitBatch({ ...tensor, dims }) : [{ ...tensor, dims }];
      split.forEach((t, i) => {
        const id = split.length > 1 ? `${file.path} #${i}` : file.path;
        checkDims(input, t.dims, id);
        samples.push({ feeds: { [input.name]: t }, id });
      });
    }
    perFileLabels = samples.length === dataFiles.length;
  } else {
    const missing = inputs.filter((i) => !named.has(i.name)).map((i) => `${i.name}.npy`);
    throw new EvalInputError(
      `The model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); give one .npy file per input named after it. Missing: ${missing.join(', ')}.`,
    );
  }

  let labelSource = 'unlabelled';
  let classNames: string[] | undefined;
  if (labelFile) {
    const labels = arrays.get(labelFile)!;
    if (labels.data.length !== samples.length) {
      throw new EvalInputError(`${labelFile.path} holds ${labels.data.length} labels for ${samples.length} samples.`);
    }
    const values = convertTensor(labels, 'int32').data;
    samples.forEach((s, i) => (s.label = values[i] as number));
    labelSource = `labels from ${labelFile.path}`;
  } else if (perFileLabels) {
    const resolved = await fileLabels(
      dataFiles.map((f) => f.path),
      options,
      csv,
    );
    if (resolved) {
      samples.forEach((s, i) => (s.label = resolved.labels.labels[i]));
      classNames = resolved.labels.classNames;
      labelSource = resolved.source;
    }
  }

  const { kept, note } = applyLimit(samples, options.limit);
  const conversion = conversions.size ? `, converted ${[...conversions].join(', ')}` : '';
  const dataset: EvalDataset = {
    name: `${root ?? (dataFiles.length === 1 ? dataFiles[0]!.path : 'arrays')} (${kept.length}${labelSource !== 'unlabelled' ? ', labelled' : ''})`,
    description: `${kept.length} samples from ${dataFiles.length} .npy file${dataFiles.length > 1 ? 's' : ''}, ${labelSource}; ${describeFeeds(kept[0]!)}${conversion}${note}`,
    samples: kept,
    synthetic: false,
  };
  if (classNames) dataset.classNames = classNames;
  return dataset;
}

/** Labels per file from a CSV or the parent folder names; undefined when neither applies. */
async function fileLabels(paths: string[], options: LoadOptions, csv: DataFile | undefined): Promise<{ labels: ResolvedLabels; source: string } | undefined> {
  if (csv) {
    const map = parseLabelsCsv(await readText(csv), csv.path);
    return { labels: resolveLabels(paths, map, csv.path), source: `labels from ${csv.path}` };
  }
  const parents = paths.map((p) => (p.includes('/') ? baseName(p.slice(0, p.lastIndexOf('/'))) : ''));
  const folders = new Set(parents);
  const useFolders = options.folderLabels ?? (!folders.has('') && folders.size >= 2);
  if (!useFolders) return undefined;
  const loose = paths.filter((_, i) => parents[i] === '');
  if (loose.length > 0) {
    throw new EvalInputError(
      `Folder labels need every file inside a class folder; ${loose.slice(0, 3).join(', ')}${loose.length > 3 ? ', …' : ''} sit at the top level.`,
    );
  }
  return { labels: resolveLabels(paths, parents), source: `labels from ${folders.size === 1 ? 'the folder name' : 'folder names'}` };
}

async function loadImages(
  files: DataFile[],
  inputs: ValueInfo[],
  options: LoadOptions,
  csv: DataFile | undefined,
  root: string | undefined,
): Promise<EvalDataset> {
  if (inputs.length !== 1) {
    throw new EvalInputError(
      `The model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); images can feed only a model with a single image input. Use .npy or .json data.`,
    );
  }
  const input = inputs[0]!;
  const prep: ImagePrep = { ...defaultImagePrep(input), ...options.image };
  checkPrepFitsModel(prep, input);

  const paths = files.map((f) => f.path);
  const resolved = await fileLabels(paths, options, csv);
  const candidates = files.map((file, i) => ({ file, label: resolved?.labels.labels[i] }));
  const { kept, note } = applyLimit(candidates, options.limit);

  const samples: EvalSample[] = [];
  for (const { file, label } of kept) {
    const image = await decodeImage(file.path, await file.bytes(), options.fallbackDecode);
    const sample: EvalSample = { feeds: { [input.name]: imageToTensor(image, prep) }, id: file.path };
    if (label !== undefined) sample.label = label;
    samples.push(sample);
  }

  const folders = new Set(kept.map(({ file }) => (file.path.includes('/') ? file.path.slice(0, file.path.lastIndexOf('/')) : '')));
  const fromFolders = folders.size > 1 ? ` from ${folders.size} folders` : '';
  const dataset: EvalDataset = {
    name: `${root ?? 'images'} (${samples.length} images${resolved ? ', labelled' : ''})`,
    description: `${samples.length} image${samples.length === 1 ? '' : 's'}${fromFolders}, ${resolved?.source ?? 'unlabelled'}, ${describePrep(prep)}${note}`,
    samples,
    synthetic: false,
  };
  if (resolved?.labels.classNames) dataset.classNames = resolved.labels.classNames;
  return dataset;
}

function checkPrepFitsModel(prep: ImagePrep, input: ValueInfo): void {
  const dims = preparedDims(prep);
  const mismatch = input.shape.findIndex((d, axis) => typeof d === 'number' && d > 0 && d !== dims[axis]);
  if (mismatch < 0) return;
  const [c, h, w] = prep.layout === 'nchw' ? [1, 2, 3] : [3, 1, 2];
  const fix =
    mismatch === c
      ? `set channels to ${input.shape[c] === 1 ? 'gray' : 'rgb'} or change the layout`
      : mismatch === h || mismatch === w
        ? `set the size to ${input.shape[w]}×${input.shape[h]} (width×height) or change the layout`
        : 'the model needs a fixed batch other than 1, which per-image samples cannot give';
  throw new EvalInputError(
    `Images are prepared as ${formatShape(dims)} (${prep.layout.toUpperCase()}, ${prep.channels}, ${prep.width}×${prep.height}) but input '${input.name}' expects ${formatShape(input.shape)}: dim ${mismatch} differs; ${fix}.`,
  );
}

function describePrep(prep: ImagePrep): string {
  const resize = prep.resize === 'stretch' ? 'resized' : prep.resize === 'center-crop' ? 'center-cropped' : 'letterboxed';
  const scale = prep.scale === '0-1' ? 'scaled 0–1' : prep.scale === '-1-1' ? 'scaled −1–1' : 'kept 0–255';
  const normalised = prep.mean || prep.std ? `, normalised (mean ${prep.mean?.join('/') ?? 0}, std ${prep.std?.join('/') ?? 1})` : '';
  const dtype = prep.dtype === 'float32' ? '' : `, ${prep.dtype}`;
  return `${resize} ${prep.width}×${prep.height} ${prep.channels}, ${scale}${normalised}, ${prep.layout.toUpperCase()}${dtype}`;
}

function applyLimit<T extends { label?: number | undefined }>(items: T[], limit: number | undefined): { kept: T[]; note: string } {
  if (items.length === 0) throw new EvalInputError('The data holds no samples.');
  if (limit === undefined || limit >= items.length) return { kept: items, note: '' };
  const kept = interleaveByLabel(items, (item) => item.label, limit);
  const classes = new Set(items.map((i) => i.label)).size;
  return { kept, note: `; ${limit} of ${items.length} kept${classes > 1 ? ', spread over classes' : ''}` };
}

/**
 * The first `limit` items of a round-robin over label groups (groups in label order, unlabelled last; items in
 * their given order), returned in their original order.
 */
export function interleaveByLabel<T>(items: readonly T[], labelOf: (item: T) => number | undefined, limit: number): T[] {
  const groups = new Map<number, number[]>();
  items.forEach((item, index) => {
    const label = labelOf(item) ?? Number.POSITIVE_INFINITY;
    const group = groups.get(label);
    if (group) group.push(index);
    else groups.set(label, [index]);
  });
  const ordered = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, indices]) => indices);
  const chosen: number[] = [];
  for (let round = 0; chosen.length < limit; round++) {
    let any = false;
    for (const group of ordered) {
      if (round < group.length && chosen.length < limit) {
        chosen.push(group[round]!);
        any = true;
      }
    }
    if (!any) break;
  }
  return chosen.sort((a, b) => a - b).map((i) => items[i]!);
}
