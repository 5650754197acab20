/**
 * A model being rewritten: one decoded copy of the opened file (its raw_data fields are views of the same file
 * bytes, so nothing is copied), its catalog and a name scope. Every step (opset upgrade, pruning, quantization)
 * edits it in turn; it is encoded once, at the end.
 */
import type { ModelProto } from 'onnx-buf';
import { buildCatalog, type CatalogEntry, type TensorCatalog } from './catalog';
import { decodeModel } from './codec';
import { NameScope } from './graph-edit';
import { readTensorFloat32, type OpenedModel } from './open';
import { defaultOpset } from './opset';

export class EditableModel {
  readonly model: ModelProto;
  catalog: TensorCatalog;
  names: NameScope;

  constructor(readonly opened: OpenedModel) {
    this.model = decodeModel(opened.fileData, opened.fileName);
    this.catalog = buildCatalog(this.model);
    this.names = new NameScope(this.model);
  }

  /** Rebuilds the catalog and the name scope after edits made without them (e.g. an opset upgrade). */
  refresh(): void {
    this.catalog = buildCatalog(this.model);
    this.names = new NameScope(this.model);
  }

  get opset(): number {
    return defaultOpset(this.model);
  }

  /** A tensor's values as float32 (from the model, or from the opened model's external-data files). */
  read(entry: CatalogEntry): Promise<Float32Array> {
    return readTensorFloat32(this.opened, entry);
  }
}
