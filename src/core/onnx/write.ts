/**
 * Writing an edited model: tensors still stored in the opened model's external-data files are folded in, so the
 * written file stands alone, and the model is encoded once.
 */
import { TensorProto_DataLocation, type ModelProto, type TensorProto } from 'onnx-buf';
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
    const size = length === undefined ? storageBytes(tensor.dataType, tensor.dims.reduce((a, b) => a * Number(b), 1)) : Number(length);
    const bytes = await file.read(offset, size);
    tensor.rawData = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
    tensor.externalData = [];
    tensor.dataLocation = TensorProto_DataLocation.DEFAULT;
  }
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
