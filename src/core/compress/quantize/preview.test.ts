import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_QUANTIZE } from '../../recipe';
import { referenceBackend } from '../../../kernels/ts/reference';
import { layerQuantPreview } from './preview';

const demo = () => openModel([bytesSource('demo.onnx', new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')))]);

describe('layer quantization preview', () => {
  it('int8 per-channel: 255 levels spanning the widest channel, error within half a step', async () => {
    const opened = await demo();
    const id = opened.catalog.entries.findIndex((e) => e.name === 'fc1.weight');
    const p = await layerQuantPreview(opened, id, DEFAULT_QUANTIZE, referenceBackend, 64);
    expect(p.format).toBe('qdq');
    expect(p.groups).toBe(64);
    expect(p.gridLevels).toHaveLength(255);
    expect(p.clipRange[1]).toBeCloseTo(127 * (p.gridLevels[1]! - p.gridLevels[0]!), 5);
    expect(p.histogram.counts.reduce((a, b) => a + b, 0)).toBe(50176);
    expect(p.errorHistogram.counts.reduce((a, b) => a + b, 0)).toBe(50176);
    expect(p.clippedFraction).toBe(0); // min-max ranges clip nothing
    expect(p.maxAbsError).toBeLessThanOrEqual((p.gridLevels[1]! - p.gridLevels[0]!) / 2 + 1e-9);
    expect(p.sqnrDb).toBeGreaterThan(35);
  });

  it('4-bit percentile clipping reports clipped values; excluded layers say why', async () => {
    const opened = await demo();
    const id = opened.catalog.entries.findIndex((e) => e.name === 'fc1.weight');
    const p = await layerQuantPreview(
      opened,
      id,
      { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'tensor', range: 'percentile', percentile: 99 },
      referenceBackend,
    );
    expect(p.gridLevels).toHaveLength(15);
    expect(p.clippedFraction).toBeGreaterThan(0.001);
    expect(p.clippedFraction).toBeLessThan(0.05);
    const skipped = await layerQuantPreview(opened, id, { ...DEFAULT_QUANTIZE, exclude: ['fc1*'] }, referenceBackend);
    expect(skipped.skipped).toMatch(/excluded/);
    const bias = await layerQuantPreview(
      opened,
      opened.catalog.entries.findIndex((e) => e.name === 'fc1.bias'),
      DEFAULT_QUANTIZE,
      referenceBackend,
    );
    expect(bias.skipped).toBeDefined();
  });
});
