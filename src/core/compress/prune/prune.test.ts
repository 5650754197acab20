/**
 * Pruned models are loaded and run in onnxruntime-node. Structured pruning: same output shapes, the parameter
 * count predicted from the kept channels, output-identical at 0 %. Masks: exact sparsity and N:M structure.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { depthwiseConvNet, mlp, plainConvNet, residualConvNet, type ConvNetFixture } from '../../../../test/fixtures/convnets';
import { openModel, summarizeModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_PRUNE, type PruneRecipe } from '../../recipe';
import { pruneModel } from '../compress';

async function run(bytes: Uint8Array, name: string, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic' });
  const n = dims.reduce((a, b) => a * b, 1);
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 0.2 * Math.cos(i * 1.3)),
    dims,
  );
  const out = await session.run({ [name]: x });
  const t = out[session.outputNames[0]!]!;
  return { data: t.data as Float32Array, dims: t.dims };
}

const params = async (bytes: Uint8Array) => summarizeModel(await openModel([bytesSource('m.onnx', bytes)])).parameterCount;
const prune = async (bytes: Uint8Array, recipe: Partial<PruneRecipe>) =>
  pruneModel(await openModel([bytesSource('m.onnx', bytes)]), { ...DEFAULT_PRUNE, ...recipe });

describe('structured channel pruning', () => {
  const cases: [ConvNetFixture, number][] = [
    [plainConvNet(), 3], // conv1, conv2, fc (fc feeds the output, so left alone)
    [depthwiseConvNet(), 3],
    [mlp(), 3],
  ];
  for (const [fx] of cases) {
    it(`${fx.name}: output-identical at 0%`, async () => {
      const { bytes } = await prune(fx.bytes, { pattern: 'channel', sparsity: 0 });
      const a = await run(fx.bytes, fx.input.name, fx.input.dims);
      const b = await run(bytes, fx.input.name, fx.input.dims);
      expect([...b.data]).toEqual([...a.data]);
    });

    it(`${fx.name}: 50% of channels removed → same output shape, predicted parameter count`, async () => {
      const { bytes, report } = await prune(fx.bytes, { pattern: 'channel', sparsity: 0.5 });
      const pruned = report.layers.filter((l) => l.action === 'prune');
      expect(pruned.length).toBeGreaterThan(0);
      for (const l of pruned) expect(l.channelsAfter).toBe(Math.max(1, Math.round(l.channelsBefore! * 0.5)));
      const a = await run(fx.bytes, fx.input.name, fx.input.dims);
      const b = await run(bytes, fx.input.name, fx.input.dims);
      expect(b.dims).toEqual(a.dims);
      expect(b.data.every(Number.isFinite)).toBe(true);
      // Parameter count of the written model = before − what the report says was removed from every touched tensor.
      expect(await params(bytes)).toBeLessThan(await params(fx.bytes));
      expect(report.paramsAfter).toBeLessThan(report.paramsBefore);
    });
  }

  it('plain conv net: exact parameter arithmetic (conv1 16→8 channels, conv2 32→16, Flatten into the Gemm)', async () => {
    const fx = plainConvNet();
    const { bytes, report } = await prune(fx.bytes, { pattern: 'channel', sparsity: 0.5 });
    const byName = new Map(report.layers.map((l) => [l.name, l]));
    expect(byName.get('c1.w')).toMatchObject({ action: 'prune', channelsBefore: 16, channelsAfter: 8, paramsAfter: 8 * 3 * 9 });
    expect(byName.get('c2.w')).toMatchObject({ action: 'prune', channelsBefore: 32, channelsAfter: 16, paramsAfter: 16 * 8 * 9 });
    expect(byName.get('fc.w')!.action).toBe('skip'); // its outputs are the graph output
    expect(byName.get('fc.w')!.reason).toMatch(/graph output/);
    // before: 16·27 + 16 + 4·16 (BN) + 32·144 + 32 + 10·512 + 10 = 432 + 16 + 64 + 4608 + 32 + 5120 + 10 = 10 282
    // after:   8·27 +  8 + 4·8       + 16·72  + 16 + 10·256 + 10 = 216 +  8 + 32 + 1152 + 16 + 2560 + 10 =  3 994
    expect(await params(fx.bytes)).toBe(10282);
    expect(await params(bytes)).toBe(3994);
    // MACs: conv1 16·16·16·27 → 8·16·16·27; conv2 32·8·8·144 → 16·8·8·72; fc 10·512 → 10·256
    expect(report.macsBefore).toBe(16 * 256 * 27 + 32 * 64 * 144 + 5120);
    expect(report.macsAfter).toBe(8 * 256 * 27 + 16 * 64 * 72 + 2560);
    expect(byName.get('c2.w')).toMatchObject({ macsBefore: 32 * 64 * 144, macsAfter: 16 * 64 * 72 });
  });

  it('residual Add: the producers it joins are pruned together (one channel group)', async () => {
    const fx = residualConvNet();
    const { bytes, report } = await prune(fx.bytes, { pattern: 'channel', sparsity: 0.5 });
    const byName = new Map(report.layers.map((l) => [l.name, l]));
    // stem and res2 meet at the skip Add: the same 4 of their 8 channels go from both.
    expect(byName.get('stem.w')).toMatchObject({ action: 'prune', channelsAfter: 4 });
    expect(byName.get('r2.w')).toMatchObject({ action: 'prune', channelsAfter: 4 });
    expect(byName.get('stem.w')!.groups).toEqual(byName.get('r2.w')!.groups);
    expect(byName.get('r1.w')).toMatchObject({ action: 'prune', channelsAfter: 4 });
    const b = await run(bytes, fx.input.name, fx.input.dims);
    expect(b.dims).toEqual([1, 4]);
  });

  it('depthwise conv follows its producer: group attribute and BN shrink with it', async () => {
    const fx = depthwiseConvNet();
    const { bytes } = await prune(fx.bytes, { pattern: 'channel', sparsity: 0.25 });
    const summary = summarizeModel(await openModel([bytesSource('d.onnx', bytes)]));
    const dw = summary.tensors.find((t) => t.name === 'dw.w')!;
    expect(dw.shape).toEqual([12, 1, 3, 3]);
    expect(summary.tensors.find((t) => t.name === 'bn2.scale')!.shape).toEqual([12]);
    expect(summary.tensors.find((t) => t.name === 'pw.w')!.shape).toEqual([20, 12, 1, 1]); // 24 → 18 → a multiple of 4: 20
  });

  it('demo model: 50% structured, runs, smaller file', async () => {
    const demo = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const { bytes, report } = await prune(demo, { pattern: 'channel', sparsity: 0.5 });
    expect(bytes.byteLength).toBeLessThan(demo.byteLength * 0.6);
    expect(
      report.layers
        .filter((l) => l.action === 'prune')
        .map((l) => l.name)
        .sort(),
    ).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight']);
    const out = await run(bytes, 'input', [2, 1, 28, 28]);
    expect(out.dims).toEqual([2, 10]);
  });
});

describe('mask pruning', () => {
  it('unstructured per layer: every prunable weight at exactly ⌊s·n⌋ zeros; the model runs', async () => {
    const demo = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const { bytes, report } = await prune(demo, { pattern: 'unstructured', sparsity: 0.6 });
    for (const l of report.layers.filter((x) => x.action === 'prune')) expect(Math.round(l.sparsity * l.paramsBefore)).toBe(Math.floor(0.6 * l.paramsBefore));
    expect(bytes.byteLength).toBe(demo.byteLength); // zeros are still stored
    expect(report.warnings.join(' ')).toMatch(/still stored/);
    expect((await run(bytes, 'input', [1, 1, 28, 28])).dims).toEqual([1, 10]);
  });

  it('global with a cap: total sparsity as asked, no layer beyond the cap', async () => {
    const fx = mlp();
    const { report } = await prune(fx.bytes, { pattern: 'unstructured', sparsity: 0.7, global: true, layerCap: 0.8 });
    const pruned = report.layers.filter((l) => l.action === 'prune');
    const total = pruned.reduce((n, l) => n + l.paramsBefore, 0);
    const zeros = pruned.reduce((n, l) => n + Math.round(l.sparsity * l.paramsBefore), 0);
    expect(zeros).toBe(Math.floor(0.7 * total));
    for (const l of pruned) expect(l.sparsity).toBeLessThanOrEqual(0.8 + 1e-9);
  });

  it('2:4 on a MatMul MLP: 50% exactly, with the N:M structure along K', async () => {
    const fx = mlp();
    const { bytes, report } = await prune(fx.bytes, { pattern: '2:4' });
    for (const l of report.layers.filter((x) => x.action === 'prune')) expect(l.sparsity).toBe(0.5);
    const opened = await openModel([bytesSource('m.onnx', bytes)]);
    const { readTensorFloat32 } = await import('../../onnx/open');
    const w = opened.catalog.entries.find((e) => e.name === 'l2.w')!;
    const v = await readTensorFloat32(opened, w);
    const [K, N] = w.shape as [number, number];
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k += 4) {
        let zeros = 0;
        for (let j = 0; j < 4; j++) if (v[(k + j) * N + n] === 0) zeros++;
        expect(zeros).toBe(2);
      }
  });

  it('exclusions keep a layer dense', async () => {
    const { report } = await prune(mlp().bytes, { pattern: 'unstructured', sparsity: 0.5, exclude: ['l1*'] });
    expect(report.layers.find((l) => l.name === 'l1.w')).toMatchObject({ action: 'skip' });
    expect(report.layers.find((l) => l.name === 'l2.w')).toMatchObject({ action: 'prune', sparsity: 0.5 });
  });
});

describe('pruning cancellation and progress', () => {
  it('reports progress per layer and stops on abort', async () => {
    const seen: number[] = [];
    const opened = await openModel([bytesSource('m.onnx', mlp().bytes)]);
    await pruneModel(opened, { ...DEFAULT_PRUNE, pattern: 'unstructured' }, { onProgress: (done, total) => seen.push(done / total) });
    expect(seen.length).toBe(3);
    const controller = new AbortController();
    controller.abort();
    await expect(pruneModel(opened, { ...DEFAULT_PRUNE, pattern: 'channel' }, { signal: controller.signal })).rejects.toThrow(/cancelled/);
  });
});
