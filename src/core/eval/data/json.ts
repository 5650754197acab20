/**
 * Evaluation data from JSON. Accepted shapes:
 *
 * a) One batch:
 *    {"inputs": {"<inputName>": {"dims": [N, ...], "data": [...flat numbers]}}, "labels"?: [N labels]}
 *    When the model's first dim is dynamic (or 1) and N > 1, the batch is split into N samples of batch 1.
 *    An input's value may also be a nested array.
 * b) A list of samples:
 *    [{"<inputName>": nested arrays | {"dims", "data"}, "label"?: n, "id"?: "..."}, ...]
 *    Nested arrays give the dims; a leading batch dim of 1 is added when the model input has one more rank.
 *    For a single-input model, an element may be the bare nested array, and a sample's one key may have another name.
 * c) The studio's demo digits (public/demo/mnist-test.json):
 *    {"shape": [1, 28, 28], "count": N, "labels": [...], "pixels": "<base64 of N·prod(shape) uint8>"}
 *    → pixel / 255 (0–255 for a uint8 model), dims [1, ...shape] or the model's own dims of the same size.
 *
 * Each feed takes the model input's dtype (FLOAT → float32, INT64 → BigInt64Array, FLOAT16 → half bits, BOOL → uint8 0/1).
 * Labels are class indices; string labels that are not integers become class names, numbered in sorted order.
 */
import { EvalInputError, type EvalSample, type Feeds, type HostTensor } from '../types';
import type { ValueInfo } from '../../onnx/types';
import { labelsToIndices } from './csv';
import { checkDims, elementCount, formatShape, fromNumbers, hasFlexibleBatch, hostDtypeOf, splitBatch, withBatchDim } from './tensor';

export type JsonDataFormat = 'batch' | 'list' | 'demo';

export interface JsonData {
  samples: EvalSample[];
  format: JsonDataFormat;
  classNames?: string[];
}

export function parseJsonData(text: string, inputs: ValueInfo[], fileName = 'data.json'): JsonData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EvalInputError(`${fileName} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (isDemoDigits(json)) {
    if (inputs.length !== 1) throw new EvalInputError(`${fileName} holds demo digits, which feed a single-input model; this one has ${inputs.length} inputs.`);
    return { samples: parseDemoDigits(json, inputs[0], fileName), format: 'demo' };
  }
  if (Array.isArray(json)) return { ...parseSampleList(json, inputs, fileName), format: 'list' };
  if (isRecord(json) && isRecord(json.inputs)) return { ...parseBatch(json, inputs, fileName), format: 'batch' };
  throw new EvalInputError(
    `${fileName}: unrecognised layout. Expected {"inputs": {"<name>": {"dims", "data"}}, "labels"?}, a list of samples [{"<name>": [...], "label"?}], or the demo digits format.`,
  );
}

interface DemoDigits {
  shape: number[];
  count: number;
  labels?: unknown[];
  pixels: string;
}

function isDemoDigits(json: unknown): json is DemoDigits {
  return isRecord(json) && typeof json.pixels === 'string' && Array.isArray(json.shape) && typeof json.count === 'number';
}

/**
 * The demo digits file as samples. With `input`, the feed takes its name and dtype (uint8 keeps 0–255) and,
 * when the element count matches, its layout (e.g. [1, 784] or [1, 28, 28, 1]).
 */
export function parseDemoDigits(json: unknown, input?: ValueInfo, fileName = 'demo digits'): EvalSample[] {
  if (!isDemoDigits(json) || !json.shape.every((d) => Number.isInteger(d) && d > 0) || !Number.isInteger(json.count) || json.count < 0) {
    throw new EvalInputError(`${fileName}: not in the demo digits format {"shape", "count", "labels", "pixels"}.`);
  }
  const size = elementCount(json.shape);
  let pixels: Uint8Array;
  try {
    pixels = Uint8Array.from(atob(json.pixels), (ch) => ch.charCodeAt(0));
  } catch {
    throw new EvalInputError(`${fileName}: "pixels" is not valid base64.`);
  }
  if (pixels.length !== json.count * size) {
    throw new EvalInputError(`${fileName}: "pixels" holds ${pixels.length} bytes but count × shape needs ${json.count * size}.`);
  }
  if (json.labels && json.labels.length !== json.count) {
    throw new EvalInputError(`${fileName}: ${json.labels.length} labels for ${json.count} samples.`);
  }
  const labels = json.labels?.map((l) => Number(l));
  const name = input?.name ?? 'input';
  const dtype = input ? hostDtypeOf(input) : 'float32';
  const dims = input ? demoDims(input, json.shape) : [1, ...json.shape];
  const samples: EvalSample[] = [];
  for (let i = 0; i < json.count; i++) {
    const raw = pixels.subarray(i * size, (i + 1) * size);
    const data =
      dtype === 'uint8'
        ? raw.slice()
        : fromNumbers(
            Float32Array.from(raw, (v) => v / 255),
            dtype,
          );
    const sample: EvalSample = { feeds: { [name]: { dtype, dims, data } }, id: `demo #${i}` };
    const label = labels?.[i];
    if (label !== undefined && Number.isFinite(label)) sample.label = label;
    samples.push(sample);
  }
  return samples;
}

function demoDims(input: ValueInfo, shape: number[]): number[] {
  const natural = [1, ...shape];
  const fits = (dims: number[]) => dims.length === input.shape.length && input.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === dims[i]);
  if (fits(natural)) return natural;
  // The model may want the same pixels as [1, 784] or [1, 28, 28, 1]: take its dims if they hold the same count.
  const modelDims = input.shape.map((d, i) => (i === 0 ? 1 : d));
  if (modelDims.every((d) => typeof d === 'number' && d > 0) && elementCount(modelDims as number[]) === elementCount(shape)) {
    return modelDims as number[];
  }
  checkDims(input, natural, 'demo digits');
  return natural;
}

function parseBatch(json: Record<string, unknown>, inputs: ValueInfo[], fileName: string): { samples: EvalSample[]; classNames?: string[] } {
  const given = json.inputs as Record<string, unknown>;
  const tensors: Record<string, HostTensor> = {};
  for (const input of inputs) {
    const value = given[input.name] ?? (inputs.length === 1 && Object.keys(given).length === 1 ? Object.values(given)[0] : undefined);
    if (value === undefined) {
      throw new EvalInputError(
        `${fileName}: "inputs" has no entry for model input '${input.name}' (it has ${
          Object.keys(given)
            .map((k) => `'${k}'`)
            .join(', ') || 'none'
        }).`,
      );
    }
    const tensor = readTensor(value, input, `${fileName} input '${input.name}'`);
    tensor.dims = withBatchDim(input, tensor.dims);
    tensors[input.name] = tensor;
  }

  const split = inputs.every((input) => hasFlexibleBatch(input) && tensors[input.name]!.dims.length === input.shape.length);
  const batchSizes = new Set(inputs.map((input) => tensors[input.name]!.dims[0]));
  let samples: EvalSample[];
  if (split && batchSizes.size === 1) {
    const count = [...batchSizes][0]!;
    const parts = Object.fromEntries(inputs.map((input) => [input.name, splitBatch(tensors[input.name]!)]));
    samples = Array.from({ length: count }, (_, i) => ({
      feeds: Object.fromEntries(inputs.map((input) => [input.name, parts[input.name]![i]!])),
      id: `${fileName} #${i}`,
    }));
  } else if (split) {
    throw new EvalInputError(
      `${fileName}: the inputs have different batch sizes (${inputs.map((i) => `'${i.name}': ${tensors[i.name]!.dims[0]}`).join(', ')}).`,
    );
  } else {
    samples = [{ feeds: tensors, id: fileName }];
  }
  for (const sample of samples) for (const input of inputs) checkDims(input, sample.feeds[input.name]!.dims, fileName);

  if (json.labels === undefined) return { samples };
  if (!Array.isArray(json.labels) || json.labels.length !== samples.length) {
    throw new EvalInputError(`${fileName}: "labels" must be a list of ${samples.length} label${samples.length === 1 ? '' : 's'} (one per sample).`);
  }
  return applyLabels(samples, json.labels.map(String), fileName);
}

function parseSampleList(list: unknown[], inputs: ValueInfo[], fileName: string): { samples: EvalSample[]; classNames?: string[] } {
  if (list.length === 0) throw new EvalInputError(`${fileName} holds an empty list.`);
  const labelStrings: string[] = [];
  const samples = list.map((entry, index): EvalSample => {
    const where = `${fileName} sample ${index}`;
    const record: Record<string, unknown> = Array.isArray(entry) && inputs.length === 1 ? { [inputs[0]!.name]: entry } : isRecord(entry) ? entry : {};
    if (!isRecord(entry) && !(Array.isArray(entry) && inputs.length === 1)) {
      throw new EvalInputError(`${where}: expected an object {"${inputs[0]?.name ?? 'input'}": [...], "label"?: n}.`);
    }
    const dataKeys = Object.keys(record).filter((k) => k !== 'label' && k !== 'id');
    const feeds: Feeds = {};
    for (const input of inputs) {
      const value = record[input.name] ?? (inputs.length === 1 && dataKeys.length === 1 ? record[dataKeys[0]!] : undefined);
      if (value === undefined) throw new EvalInputError(`${where} has no value for model input '${input.name}'.`);
      const tensor = readTensor(value, input, `${where} input '${input.name}'`);
      tensor.dims = withBatchDim(input, tensor.dims);
      checkDims(input, tensor.dims, where);
      feeds[input.name] = tensor;
    }
    if (record.label !== undefined && record.label !== null) labelStrings.push(String(record.label));
    return { feeds, id: typeof record.id === 'string' ? record.id : `${fileName} #${index}` };
  });
  if (labelStrings.length === 0) return { samples };
  if (labelStrings.length !== samples.length) {
    throw new EvalInputError(`${fileName}: ${labelStrings.length} of ${samples.length} samples have a "label"; label all or none.`);
  }
  return applyLabels(samples, labelStrings, fileName);
}

function applyLabels(samples: EvalSample[], values: string[], fileName: string): { samples: EvalSample[]; classNames?: string[] } {
  const bad = values.find((v) => v.trim() === '' || /^-/.test(v.trim()));
  if (bad !== undefined) throw new EvalInputError(`${fileName}: label '${bad}' is not a class index or class name.`);
  const { labels, classNames } = labelsToIndices(values);
  samples.forEach((s, i) => (s.label = labels[i]));
  return classNames ? { samples, classNames } : { samples };
}

/** A {"dims", "data"} object or a nested array, as a tensor of the input's dtype. */
function readTensor(value: unknown, input: ValueInfo, where: string): HostTensor {
  const dtype = hostDtypeOf(input);
  let dims: number[];
  let flat: number[];
  if (isRecord(value) && Array.isArray(value.dims) && Array.isArray(value.data)) {
    dims = value.dims.map(Number);
    if (!dims.every((d) => Number.isInteger(d) && d >= 0)) throw new EvalInputError(`${where}: dims ${JSON.stringify(value.dims)} are not whole numbers.`);
    flat = value.data.flat(Infinity).map((v) => toNumber(v, where));
    if (flat.length !== elementCount(dims)) {
      throw new EvalInputError(`${where}: dims ${formatShape(dims)} need ${elementCount(dims)} values but "data" has ${flat.length}.`);
    }
  } else if (Array.isArray(value) || typeof value === 'number' || typeof value === 'boolean') {
    dims = nestedDims(value, where);
    flat = (Array.isArray(value) ? value.flat(Infinity) : [value]).map((v) => toNumber(v, where));
  } else {
    throw new EvalInputError(`${where}: expected a nested array of numbers or {"dims": [...], "data": [...]}.`);
  }
  return { dtype, dims, data: fromNumbers(flat, dtype) };
}

function nestedDims(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) return [];
  const inner = value.map((v) => nestedDims(v, where));
  const first = inner[0] ?? [];
  if (inner.some((d) => d.length !== first.length || d.some((n, i) => n !== first[i]))) {
    throw new EvalInputError(`${where}: the nested arrays are ragged (rows of different lengths).`);
  }
  return [value.length, ...first];
}

function toNumber(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null) return NaN; // JSON has no NaN; null is the usual stand-in.
  throw new EvalInputError(`${where}: ${JSON.stringify(value)} is not a number.`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
