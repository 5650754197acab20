/**
 * Writing an edited model: tensors still stored in the opened model's external-data files are folded in, so the
 * written file stands alone, and the model is encoded once.
 */
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation, type ModelProto, type TensorProto } from 'onnx-buf';
import { constantAttributeTensor } from './catalog';
import { MAX_PROTOBUF_BYTES, encodeModel } from './codec';
import { allGraphs } from './graph-edit';
import { baseName } from './source';
import type { OpenedModel } from './open';
import { ModelInputError } from './types';
import { checkForExport } from './validate';
import { storageBytes } from '../tensor/dtypes';

/** Every TensorProto the model stores: initializers, sparse values and indices, Constant values, in every graph. */
export function storedTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  for (const { graph } of allGraphs(model)) {
    for (const t of graph.initializer) out.push(t);
    for (const s of graph.sparseInitializer) {
      if (s.values) out.push(s.values);
      if (s.indices) out.push(s.indices);
    }
    for (const node of graph.node) {
      if (node.opType !== 'Constant') continue;
      for (const a of node.attribute) {
        const value = constantAttributeTensor(a);
        if (value && (a.name === 'value' || a.name === 'sparse_value')) {
          out.push(value.tensor);
          if (value.sparse?.indices) out.push(value.sparse.indices);
        }
      }
    }
  }
  return out;
}

/** Reads every external-data tensor of `model` from the opened model's data files into raw_data. */
export async function internalizeExternalData(opened: Pick<OpenedModel, 'dataFiles'>, model: ModelProto): Promise<void> {
  for (const tensor of storedTensors(model)) {
    if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const get = (key: string) => tensor.externalData.find((e) => e.key === key)?.value;
    const location = get('location') ?? '';
    const file = opened.dataFiles.get(baseName(location));
    if (!file) throw new ModelInputError(`External data file "${location}" is not loaded.`);
    const offset = Number(get('offset') ?? 0);
    const length = get('length');
    const size =
      length === undefined
        ? storageBytes(
            tensor.dataType,
            tensor.dims.reduce((a, b) => a * Number(b), 1),
          )
        : Number(length);
    const bytes = await file.read(offset, size);
    tensor.rawData = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
    tensor.externalData = [];
    tensor.dataLocation = TensorProto_DataLocation.DEFAULT;
  }
}

/** A model written as a .onnx file plus one external-data file (for outputs over protobuf's 2 GB). */
export interface SplitModel {
  /** The .onnx file's bytes. */
  bytes: Uint8Array;
  /** The data file: its name (relative to the model, as `location` says) and its contents, in order. */
  data: { name: string; chunks: Uint8Array[]; size: number };
}

/** Tensors of at least this many bytes move to the data file; smaller ones stay in the model. */
const EXTERNAL_MIN_BYTES = 1024;
/** Offsets in the data file are aligned like onnx's own writer aligns them, so files can be memory-mapped. */
const EXTERNAL_ALIGN = 4096;

/**
 * The model with every stored tensor of 1 KiB or more moved to one external-data file `dataName` (beside the model),
 * checked like every written model. Used when the model would not fit one protobuf file (`limit`, default 2 GB).
 */
export async function encodeWithExternalData(opened: Pick<OpenedModel, 'dataFiles'>, model: ModelProto, dataName: string): Promise<SplitModel> {
  await internalizeExternalData(opened, model);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const kv = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  for (const tensor of storedTensors(model)) {
    if (tensor.rawData.byteLength < EXTERNAL_MIN_BYTES) continue;
    const pad = (EXTERNAL_ALIGN - (size % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
    chunks.push(tensor.rawData);
    tensor.externalData = [kv('location', dataName), kv('offset', String(size)), kv('length', String(tensor.rawData.byteLength))];
    tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
    size += tensor.rawData.byteLength;
    tensor.rawData = new Uint8Array(0);
  }
  const bytes = encodeModel(model);
  if (bytes.byteLength > MAX_PROTOBUF_BYTES) throw new Error('The written model is over 2 GB even with its weights as external data.');
  checkForExport(model, bytes);
  return { bytes, data: { name: dataName, chunks, size } };
}

/** Would the model, with its external data folded in, come near `limit` bytes as one file? (Counted, not encoded.) */
export function standaloneTooBig(model: ModelProto, limit = MAX_PROTOBUF_BYTES): boolean {
  let payload = 0;
  for (const tensor of storedTensors(model)) {
    if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      const length = tensor.externalData.find((e) => e.key === 'length')?.value;
      payload +=
        length !== undefined
          ? Number(length)
          : storageBytes(
              tensor.dataType,
              tensor.dims.reduce((a, b) => a * Number(b), 1),
            );
    } else payload += tensor.rawData.byteLength;
  }
  // Typed fields and the graph itself are small next to the raw payloads; keep 64 MiB of headroom for them.
  return payload + (64 << 20) > limit;
}

/**
 * The model as one standalone ONNX file (external data folded in); fails clearly past protobuf's 2 GB. Every model
 * the studio writes passes through here and through the checker (InvalidExportError): what comes out is valid.
 */
export async function encodeStandalone(opened: Pick<OpenedModel, 'dataFiles'>, model: ModelProto): Promise<Uint8Array> {
  await internalizeExternalData(opened, model);
  const bytes = encodeModel(model);
  if (bytes.byteLength > MAX_PROTOBUF_BYTES) throw new Error('The written model is over 2 GB, which one ONNX file cannot hold.');
  checkForExport(model, bytes);
  return bytes;
}
