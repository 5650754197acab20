import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS, readRealModel } from '../../../test/helpers/models';
import { scanModel } from '../../../test/helpers/wire-scan';
import { DataType } from '../tensor/dtypes';
import { buildCatalog, replaceTensor } from './catalog';
import { decodeModel, encodeModel } from './codec';
import { openModel, readTensorFloat32, summarizeModel } from './open';
import { bytesSource } from './source';

describe('catalog on real models', () => {
  for (const name of REAL_MODELS) {
    it(`finds every stored tensor and node in ${name}`, async () => {
      const bytes = readRealModel(name);
      const independent = scanModel(bytes);
      const opened = await openModel([bytesSource(name, bytes)]);
      const { catalog } = opened;
      expect(catalog.entries.length).toBe(independent.initializers + independent.constants);
      expect(catalog.entries.filter((e) => e.storage === 'constant').length).toBe(independent.constants);
      expect(catalog.nodeCount).toBe(independent.nodes);
      expect(catalog.graphs.length).toBe(independent.graphs);
      const rawBytes = catalog.entries.reduce((n, e) => n + e.tensor.rawData.byteLength, 0);
      expect(rawBytes).toBe(independent.rawDataBytes);
      const summary = summarizeModel(opened);
      expect(summary.nodeCount).toBe(independent.nodes);
      expect(Object.values(summary.opTypes).reduce((a, b) => a + b, 0)).toBe(independent.nodes);
      expect(summary.tensors.length).toBe(catalog.entries.length);
    });
  }

  it('finds the weights inside silero_vad If-subgraphs and their consumers', async () => {
    const opened = await openModel([bytesSource('silero_vad.onnx', readRealModel('silero_vad.onnx'))]);
    const sub = opened.catalog.entries.filter((e) => e.graphPath !== 'main');
    expect(sub.length).toBeGreaterThan(10);
    expect(sub.every((e) => /^main\/If_\d+\.(then|else)_branch/.test(e.graphPath))).toBe(true);
    const summary = summarizeModel(opened);
    const weights = summary.tensors.filter((t) => t.isWeight);
    expect(weights.some((t) => t.consumers.includes('Conv'))).toBe(true);
    expect(weights.every((t) => t.dtype === 'FLOAT')).toBe(true);
  });

  it('reads every float tensor of a real model exactly as onnxruntime sees it (Conv weights via raw_data)', async () => {
    const bytes = readRealModel('alexa_v0.1.onnx');
    const opened = await openModel([bytesSource('alexa.onnx', bytes)]);
    for (const entry of opened.catalog.entries) {
      const values = await readTensorFloat32(opened, entry);
      expect(values.length).toBe(entry.elements);
      if (entry.dataType === DataType.FLOAT) {
        const copy = new Float32Array(entry.tensor.rawData.slice().buffer);
        expect(Buffer.compare(Buffer.from(values.buffer), Buffer.from(copy.buffer))).toBe(0);
      }
    }
  });

  it('classifies shape constants as non-weights and conv kernels as weights', async () => {
    const summary = summarizeModel(await openModel([bytesSource('e.onnx', readRealModel('embedding_model.onnx'))]));
    const shapes = summary.tensors.filter((t) => t.dtype === 'INT64');
    expect(shapes.length).toBeGreaterThan(0);
    expect(shapes.every((t) => !t.isWeight)).toBe(true);
    const convWeights = summary.tensors.filter((t) => t.consumers.includes('Conv') && t.shape.length === 4);
    expect(convWeights.length).toBe(20);
    expect(convWeights.every((t) => t.isWeight)).toBe(true);
  });
});

describe('replaceTensor', () => {
  it('swaps an initializer and the written model runs with the new values', async () => {
    const bytes = readRealModel('alexa_v0.1.onnx');
    const model = decodeModel(bytes);
    const catalog = buildCatalog(model);
    const target = catalog.entries.find((e) => e.dataType === DataType.FLOAT && e.elements > 100)!;
    const zeros = create(TensorProtoSchema, { dataType: DataType.FLOAT, dims: target.tensor.dims, rawData: new Uint8Array(target.elements * 4) });
    replaceTensor(target, zeros);
    const written = encodeModel(model);
    const again = buildCatalog(decodeModel(written));
    const replaced = again.entries.find((e) => e.name === target.name)!;
    expect(replaced.tensor.rawData.every((b) => b === 0)).toBe(true);
    expect(again.entries.length).toBe(catalog.entries.length);
    const session = await ort.InferenceSession.create(written);
    expect(session.outputNames.length).toBe(1);
  });
});
