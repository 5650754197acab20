/** The files a runtime needs to run an opened model: its ONNX file and every external-data file it refers to. */
import type { OpenedModel } from '../onnx/open';
import { baseName } from '../onnx/source';
import type { ExternalDataFile, ModelFiles } from './types';

/** Reads each referenced data file whole (the runtime loads the model from memory), keyed by the model's `location`. */
export async function modelFilesOf(opened: OpenedModel): Promise<ModelFiles> {
  const locations = new Set(opened.catalog.entries.flatMap((e) => (e.external ? [e.external.file] : [])));
  const externalData: ExternalDataFile[] = [];
  for (const location of locations) {
    const file = opened.dataFiles.get(baseName(location));
    if (!file) throw new Error(`The external data file "${location}" of ${opened.fileName} is not open.`);
    externalData.push({ path: location, data: await file.read(0, file.size) });
  }
  return externalData.length ? { bytes: opened.fileData, externalData } : { bytes: opened.fileData };
}
