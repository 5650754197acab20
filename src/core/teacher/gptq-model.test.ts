/**
 * GPTQ end to end in onnxruntime-node: 4-bit weights in blocks of 32, Hessians from calibration inputs, output
 * SQNR against the original on inputs calibration never saw, compared with plain round-to-nearest on the same
 * grid. Thresholds are what was measured here minus a margin (see docs-gptq-snippet.md).
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { resNetStyle } from '../../../test/fixtures/channel-groups';
import { transformerBlock } from '../../../test/fixtures/patterns';
import { readRealModel } from '../../../test/helpers/models';
import { melWindows } from '../../../test/helpers/wakeword';
import { compareOutputs } from '../../../test/helpers/ort-compare';
import { createNodeRuntime } from '../../runtime/ort-node';
import { compressModel } from '../compress/compress';
import { openModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { DEFAULT_PRUNE, DEFAULT_QUANTIZE, type QuantizeRecipe } from '../recipe';
import type { EvalSample } from '../eval/types';
import { collectHessians } from './gptq-layers';
import { captureActivations } from './capture';
import { staticCalibrationNames } from '../compress/quantize/static';

ort.env.logLevel = 'error';
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, logSeverityLevel: 3 };
const runtime = createNodeRuntime({ threads: 1 });
const measured: Record<string, { rtn: number; gptq: number; actOrder?: number }> = {};
afterAll(() => console.log('GPTQ 4-bit blocks of 32, held-out output SQNR (dB):', JSON.stringify(measured)));

type Feed = { input: string; dims: number[]; data: Float32Array };

async function outputs(bytes: Uint8Array, feeds: Feed[], name: string): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(bytes, SESSION);
  const out: number[] = [];
  for (const f of feeds) out.push(...((await s.run({ [f.input]: new ort.Tensor('float32', f.data, f.dims) }))[name]!.data as Float32Array));
  await s.release();
  return Float64Array.from(out);
}

const Q4: QuantizeRecipe = { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32 };

async function compare(label: string, bytes: Uint8Array, calib: Feed[], held: Feed[], output: string, actOrder = false) {
  const samples: EvalSample[] = calib.map((f, i) => ({ id: `calib ${i}`, feeds: { [f.input]: { dtype: 'float32', dims: f.dims, data: f.data } } }));
  const h = await collectHessians(runtime, bytes, samples, { maxTensorsPerRun: 8 });
  expect(h.unreachable).toEqual([]);
  const ref = await outputs(bytes, held, output);
  const rtn = await compressModel(await openModel([bytesSource('m.onnx', bytes)]), { version: 1, quantize: Q4 });
  const gptq = await compressModel(
    await openModel([bytesSource('m.onnx', bytes)]),
    { version: 1, quantize: { ...Q4, gptq: { enabled: true } } },
    { gptq: { layers: h.layers, options: {} } },
  );
  const r = compareOutputs(ref, await outputs(rtn.bytes, held, output)).sqnrDb;
  const g = compareOutputs(ref, await outputs(gptq.bytes, held, output)).sqnrDb;
  measured[label] = { rtn: +r.toFixed(2), gptq: +g.toFixed(2) };
  if (actOrder) {
    const ao = await compressModel(
      await openModel([bytesSource('m.onnx', bytes)]),
      { version: 1, quantize: { ...Q4, gptq: { enabled: true, actOrder: true } } },
      { gptq: { layers: h.layers, options: { actOrder: true } } },
    );
    measured[label]!.actOrder = +compareOutputs(ref, await outputs(ao.bytes, held, output)).sqnrDb.toFixed(2);
  }
  const rows = gptq.quantize!.tensors.filter((t) => t.gptq);
  expect(rows.length).toBeGreaterThan(0);
  // On the calibration inputs GPTQ never does worse than plain rounding, layer by layer.
  for (const t of rows) expect(t.gptq!.layerSqnrDb, t.name).toBeGreaterThanOrEqual(t.gptq!.rtnLayerSqnrDb - 1e-6);
  return { rtn: r, gptq: g, report: gptq, hessians: h, ref };
}

describe('GPTQ 4-bit blocks of 32 in onnxruntime-node (held-out inputs)', () => {
  it('transformer block (MatMul → MatMulNBits)', async () => {
    const f = transformerBlock();
    const feed = (s: number): Feed => ({ input: 'hidden', dims: [1, 24, 128], data: f.feeds(s).hidden!.data as Float32Array });
    const calib = Array.from({ length: 32 }, (_, i) => feed(i + 1));
    const held = Array.from({ length: 8 }, (_, i) => feed(500 + i));
    const { rtn, gptq, report } = await compare('transformer-block', f.bytes, calib, held, 'output', true);
    expect(report.quantize!.tensors.filter((t) => t.gptq).map((t) => t.format)).toContain('matmulnbits');
    expect(gptq).toBeGreaterThan(rtn + 3);
  }, 240_000);

  it('ResNet-style conv net (Conv → blocked int4 DequantizeLinear)', async () => {
    const f = resNetStyle();
    const feed = (s: number): Feed => ({ input: f.input.name, dims: f.input.dims, data: f.feed(s) });
    const calib = Array.from({ length: 32 }, (_, i) => feed(i + 1));
    const held = Array.from({ length: 8 }, (_, i) => feed(100 + i));
    const { rtn, gptq } = await compare('resnet-style', f.bytes, calib, held, 'logits', true);
    expect(gptq).toBeGreaterThan(rtn + 3);
  }, 240_000);

  it('openWakeWord embedding model (real mel inputs: calibrated on two recordings, measured on two others)', async () => {
    const bytes = readRealModel('embedding_model.onnx');
    const dims = [1, 76, 32, 1];
    const calib = [...(await melWindows(3, 12)), ...(await melWindows(5, 12))].map((data): Feed => ({ input: 'input_1', dims, data }));
    const held = [...(await melWindows(7, 8)), ...(await melWindows(11, 8))].map((data): Feed => ({ input: 'input_1', dims, data }));
    const { rtn, gptq, hessians, ref } = await compare('openwakeword-embedding', bytes, calib, held, 'conv2d_19', true);
    expect(gptq).toBeGreaterThan(rtn + 3);
    // int8 per channel, weight-only: plain rounding is poor on this model (its first Conv reads mel values around +2).
    const W8: QuantizeRecipe = { ...DEFAULT_QUANTIZE, bits: 8, granularity: 'channel' };
    const r8 = await compressModel(await openModel([bytesSource('m.onnx', bytes)]), { version: 1, quantize: W8 });
    const g8 = await compressModel(
      await openModel([bytesSource('m.onnx', bytes)]),
      { version: 1, quantize: { ...W8, gptq: { enabled: true } } },
      { gptq: { layers: hessians.layers, options: {} } },
    );
    const a = compareOutputs(ref, await outputs(r8.bytes, held, 'conv2d_19')).sqnrDb;
    const b = compareOutputs(ref, await outputs(g8.bytes, held, 'conv2d_19')).sqnrDb;
    measured['openwakeword-embedding int8 per channel'] = { rtn: +a.toFixed(2), gptq: +b.toFixed(2) };
    // Measured: 21.4 dB → 38.4 dB.
    expect(b).toBeGreaterThan(a + 10);
  }, 400_000);
});

describe('GPTQ writes its own codes in every format', () => {
  it("qdq (channel / block, symmetric / asymmetric, 2–8 bits), matmulnbits, dynamic and static: written values are GPTQ's", async () => {
    const f = resNetStyle({ width: 8, size: 16 });
    const samples: EvalSample[] = Array.from({ length: 8 }, (_, i) => ({
      id: `c${i}`,
      feeds: { [f.input.name]: { dtype: 'float32', dims: f.input.dims, data: f.feed(i + 1) } },
    }));
    const h = await collectHessians(runtime, f.bytes, samples);
    const t = transformerBlock();
    const tSamples: EvalSample[] = Array.from({ length: 4 }, (_, i) => ({
      id: `t${i}`,
      feeds: { hidden: { dtype: 'float32', dims: [1, 24, 128], data: t.feeds(i + 1).hidden!.data as Float32Array } },
    }));
    const th = await collectHessians(runtime, t.bytes, tSamples);
    const cases: [string, Uint8Array, typeof h, QuantizeRecipe][] = [
      ['conv qdq channel 8', f.bytes, h, { ...DEFAULT_QUANTIZE, bits: 8, granularity: 'channel' }],
      ['conv qdq block 4 asym', f.bytes, h, { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 16, symmetric: false }],
      ['conv qdq tensor 3', f.bytes, h, { ...DEFAULT_QUANTIZE, bits: 3, granularity: 'tensor' }],
      ['conv qdq channel 2 mse', f.bytes, h, { ...DEFAULT_QUANTIZE, bits: 2, granularity: 'channel', range: 'mse' }],
      ['conv dynamic', f.bytes, h, { ...DEFAULT_QUANTIZE, format: 'dynamic' }],
      ['matmul matmulnbits asym', t.bytes, th, { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32, symmetric: false }],
      [
        'matmul qdq channel 6 percentile',
        t.bytes,
        th,
        { ...DEFAULT_QUANTIZE, bits: 6, granularity: 'channel', range: 'percentile', percentile: 99.9, format: 'qdq' },
      ],
      ['matmul dynamic asym', t.bytes, th, { ...DEFAULT_QUANTIZE, format: 'dynamic', symmetric: false }],
    ];
    for (const [label, bytes, hs, q] of cases) {
      const r = await compressModel(
        await openModel([bytesSource('m.onnx', bytes)]),
        { version: 1, quantize: { ...q, gptq: { enabled: true } } },
        { gptq: { layers: hs.layers, options: { blockSize: 32 } } },
      );
      const rows = r.quantize!.tensors.filter((x) => x.gptq);
      expect(rows.length, label).toBeGreaterThan(0);
      for (const x of rows) {
        expect(x.gptq!.mismatched, `${label} ${x.name}`).toBe(0);
        expect(x.gptq!.layerSqnrDb, `${label} ${x.name}`).toBeGreaterThanOrEqual(x.gptq!.rtnLayerSqnrDb - 1e-6);
      }
      // The written model runs.
      const s = await ort.InferenceSession.create(r.bytes, SESSION);
      await s.release();
    }
  }, 240_000);

  it('static int8 takes GPTQ codes for its integer-kernel weights', async () => {
    const f = resNetStyle({ width: 8, size: 16 });
    const samples: EvalSample[] = Array.from({ length: 8 }, (_, i) => ({
      id: `c${i}`,
      feeds: { [f.input.name]: { dtype: 'float32', dims: f.input.dims, data: f.feed(i + 1) } },
    }));
    const opened = await openModel([bytesSource('m.onnx', f.bytes)]);
    const recipe: QuantizeRecipe = { ...DEFAULT_QUANTIZE, format: 'static', gptq: { enabled: true } };
    const cap = await captureActivations(runtime, f.bytes, await staticCalibrationNames(opened, recipe), samples);
    const h = await collectHessians(runtime, f.bytes, samples);
    const r = await compressModel(opened, { version: 1, quantize: recipe }, { calibration: cap.stats, gptq: { layers: h.layers, options: {} } });
    const rows = r.quantize!.tensors.filter((x) => x.gptq);
    expect(rows.length).toBe(r.quantize!.static!.quantizedOps.length);
    for (const x of rows) expect(x.gptq!.mismatched, x.name).toBe(0);
  }, 120_000);

  it('after unstructured pruning the pruned weights stay zero', async () => {
    const f = resNetStyle({ width: 8, size: 16 });
    const samples: EvalSample[] = Array.from({ length: 8 }, (_, i) => ({
      id: `c${i}`,
      feeds: { [f.input.name]: { dtype: 'float32', dims: f.input.dims, data: f.feed(i + 1) } },
    }));
    const h = await collectHessians(runtime, f.bytes, samples);
    const deq = new Map<string, Float32Array>();
    const r = await compressModel(
      await openModel([bytesSource('m.onnx', f.bytes)]),
      { version: 1, prune: { ...DEFAULT_PRUNE, sparsity: 0.5, pattern: 'unstructured' }, quantize: { ...Q4, gptq: { enabled: true } } },
      { gptq: { layers: h.layers, options: {} }, dequantized: deq },
    );
    const rows = r.quantize!.tensors.filter((x) => x.gptq);
    expect(rows.length).toBeGreaterThan(0);
    for (const x of rows) {
      const v = deq.get(x.name)!;
      const zeros = v.filter((y) => y === 0).length;
      // At least the pruned half is still zero (rounding may add a few more).
      expect(zeros / v.length, x.name).toBeGreaterThanOrEqual(0.49);
      expect(x.gptq!.mismatched, x.name).toBe(0);
    }
  }, 120_000);

  it('refuses GPTQ without Hessians', async () => {
    const f = resNetStyle({ width: 8, size: 16 });
    await expect(
      compressModel(await openModel([bytesSource('m.onnx', f.bytes)]), { version: 1, quantize: { ...DEFAULT_QUANTIZE, gptq: { enabled: true } } }),
    ).rejects.toThrow(/GPTQ needs calibration/);
  });
});
