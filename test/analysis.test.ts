import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeTensor, layerSparsity } from '../src/core/analysis/analyze';
import { openModel, summarizeModel } from '../src/core/onnx/open';
import { bytesSource } from '../src/core/onnx/source';
import { BackendRegistry } from '../src/kernels/registry';
import { buildInitializers, buildQuantDynamic, buildQuantMatMulNBits, buildQuantQdq, type Fixture } from './fixtures/build';

const demoBytes = () => new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
const openFixture = (fx: Fixture) => openModel([bytesSource('model.onnx', fx.bytes), ...fx.sideFiles.map((f) => bytesSource(f.name, f.bytes))]);
const registry = new BackendRegistry(() => undefined);

describe('weight roles from the consuming op', () => {
  it('demo model: conv and Gemm(transB=1) weights have output-channel axis 0, biases are not multiplied', async () => {
    const summary = summarizeModel(await openModel([bytesSource('demo.onnx', demoBytes())]));
    const byName = new Map(summary.tensors.map((t) => [t.name, t]));
    for (const name of ['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']) {
      expect(byName.get(name)!.channelAxis, name).toBe(0);
      expect(byName.get(name)!.multiplied, name).toBe(true);
    }
    for (const name of ['conv1.bias', 'fc1.bias']) {
      expect(byName.get(name)!.multiplied, name).toBe(false);
      expect(byName.get(name)!.channelAxis).toBeUndefined();
    }
    expect(byName.get('conv1.weight')!.layer).toBe('conv1');
    expect(byName.get('conv1.weight')!.layerOp).toBe('Conv');
  });

  it('MatMul weights use the last axis; weights behind DequantizeLinear keep their compute op', async () => {
    const init = summarizeModel(await openFixture(buildInitializers()));
    const matmulWeight = init.tensors.find((t) => t.layerOp === 'MatMul' && t.shape.length === 2)!;
    expect(matmulWeight.channelAxis).toBe(1);
    const qdq = summarizeModel(await openFixture(buildQuantQdq()));
    const w = qdq.tensors.find((t) => t.name === 'W_quantized')!;
    expect(w.layerOp).toBe('MatMul');
    expect(w.channelAxis).toBe(1);
    expect(w.multiplied).toBe(true);
    expect(w.isWeight).toBe(true);
  });
});

describe('layer sparsity', () => {
  it('counts float zeros of multiplied weights only', async () => {
    const opened = await openModel([bytesSource('demo.onnx', demoBytes())]);
    const { layers } = await layerSparsity(opened, registry, 'ts');
    expect(layers.map((l) => l.name).sort()).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']);
    expect(layers.every((l) => l.zeroReference === 'float zero')).toBe(true);
  });

  it('measures quantized weights against their zero point (uint8 scalar, int8 per-channel, MatMulNBits 4-bit)', async () => {
    const dyn = buildQuantDynamic();
    const dynValues = dyn.expected.tensors.find((t) => t.name === 'W_quantized')!.values!;
    const dynLayers = (await layerSparsity(await openFixture(dyn), registry, 'ts')).layers;
    expect(dynLayers).toHaveLength(1);
    expect(dynLayers[0]!.zeros).toBe(dynValues.filter((v) => v === 131).length);
    expect(dynLayers[0]!.zeroReference).toBe('zero point');

    const qdq = buildQuantQdq();
    const qdqValues = qdq.expected.tensors.find((t) => t.name === 'W_quantized')!.values!;
    const qdqLayers = (await layerSparsity(await openFixture(qdq), registry, 'ts')).layers;
    expect(qdqLayers[0]!.zeros).toBe(qdqValues.filter((v) => v === 0).length);

    const nbits = buildQuantMatMulNBits();
    const nbLayers = (await layerSparsity(await openFixture(nbits), registry, 'ts')).layers;
    expect(nbLayers.length).toBeGreaterThan(0);
    for (const layer of nbLayers) {
      const packed = nbits.expected.tensors.find((t) => t.name === layer.name)!.values!;
      expect(layer.elements).toBe(packed.length * 2);
      expect(layer.zeros).toBeLessThanOrEqual(layer.elements);
      expect(layer.zeroReference).toBe('zero point');
    }
  });
});

describe('analyzeTensor', () => {
  it('demo conv1: histogram covers every finite value, one range per output channel', async () => {
    const opened = await openModel([bytesSource('demo.onnx', demoBytes())]);
    const id = opened.catalog.entries.findIndex((e) => e.name === 'conv1.weight');
    const a = await analyzeTensor(opened, id, registry, { bins: 64, symmetric: true, backend: 'ts' });
    expect(a.backend).toBe('ts');
    expect(a.histogram.counts.reduce((x, y) => x + y, 0)).toBe(a.stats.finiteCount);
    expect(a.histogram.lo).toBe(-a.stats.absMax);
    expect(a.channels!.min).toHaveLength(8);
    expect(a.channels!.axis).toBe(0);
    for (let c = 0; c < 8; c++) {
      expect(a.channels!.min[c]).toBeGreaterThanOrEqual(a.stats.min);
      expect(a.channels!.max[c]).toBeLessThanOrEqual(a.stats.max);
    }
    expect(Math.min(...a.channels!.min)).toBe(a.stats.min);
  });
});
