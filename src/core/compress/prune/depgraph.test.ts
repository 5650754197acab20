/**
 * The channel-dependency analysis on small graphs, one rule each: what is coupled, what is rewritten, what is kept
 * and why. Every model that the analysis lets through is pruned at 50 % and run in onnxruntime-node.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { NodeProto } from 'onnx-buf';
import { DT, attr, graph, model, node, serialize, tensor, valueInfo } from '../../../../test/fixtures/onnx-helpers.ts';
import { realisticWeights } from '../../../../test/fixtures/patterns';
import { EditableModel } from '../../onnx/editable';
import { openModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { inferShapes } from '../../analysis/shapes';
import { DEFAULT_PRUNE } from '../../recipe';
import { pruneModel } from '../compress';
import { analyzeChannels } from './depgraph';

let seed = 1;
const w = (name: string, dims: number[]) => tensor({ name, dtype: DT.FLOAT, dims, values: realisticWeights(seed++, dims, { std: 0.3 }) });
const ints = (name: string, values: number[]) => tensor({ name, dtype: DT.INT64, dims: [values.length], values });
const conv = (name: string, x: string, wName: string, y: string, extra: ReturnType<typeof attr.int>[] = []) =>
  node('Conv', name, [x, wName], [y], [attr.ints('kernel_shape', [1, 1]), ...extra]);

interface Case {
  bytes: Uint8Array;
  input: number[];
}

function build(nodes: NodeProto[], inits: ReturnType<typeof w>[], input: number[], output: number[], opset = 13, out = 'y'): Case {
  const g = graph({ name: 'g', nodes, inputs: [valueInfo('x', DT.FLOAT, input)], outputs: [valueInfo(out, DT.FLOAT, output)], initializers: inits });
  return { bytes: serialize(model(g, { '': opset })), input };
}

async function analyze(c: Case) {
  const work = new EditableModel(await openModel([bytesSource('m.onnx', c.bytes)]));
  return analyzeChannels(work.model, work.catalog, inferShapes(work.model, {}, work.catalog));
}

const producersOf = (a: Awaited<ReturnType<typeof analyze>>) =>
  a.groups.map((g) => ({ producers: g.producers.map((p) => p.layer), channels: g.components.length, blocked: g.blocked }));

async function pruneAndRun(c: Case, sparsity = 0.5) {
  const result = await pruneModel(await openModel([bytesSource('m.onnx', c.bytes)]), { ...DEFAULT_PRUNE, pattern: 'channel', sparsity });
  const session = await ort.InferenceSession.create(result.bytes, { graphOptimizationLevel: 'basic' });
  const n = c.input.reduce((a, b) => a * b, 1);
  const out = await session.run({
    x: new ort.Tensor(
      'float32',
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7)),
      c.input,
    ),
  });
  await session.release();
  return { ...result, out: Object.values(out)[0]! };
}

/** x [1,8,4,4] → conv a (8→16) → … → conv out (→ 4) → y */
const head = (x: string): [NodeProto[], ReturnType<typeof w>[]] => [[conv('out', x, 'out.w', 'y')], [w('out.w', [4, 16, 1, 1])]];

describe('channel dependency analysis', () => {
  it('a residual Add with the graph input keeps the group joined to it, naming the input', async () => {
    const c = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Relu', 'r', ['h'], ['h1']),
        conv('b', 'h1', 'b.w', 'h2'),
        node('Add', 'skip', ['h2', 'x'], ['s']),
        conv('out', 's', 'out.w', 'y'),
      ],
      [w('a.w', [6, 8, 1, 1]), w('b.w', [8, 6, 1, 1]), w('out.w', [4, 8, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    const groups = producersOf(await analyze(c));
    expect(groups).toContainEqual({ producers: ['b'], channels: 8, blocked: 'Add "skip" joins them with the graph input "x"' });
    expect(groups).toContainEqual({ producers: ['a'], channels: 6, blocked: undefined });
    expect((await pruneAndRun(c)).out.dims).toEqual([1, 4, 4, 4]);
  });

  it('a Shape whose channel count is used (ConstantOfShape) keeps the group; one that reads only other axes does not', async () => {
    const [hn, hi] = head('h');
    const used = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Shape', 'shape', ['h'], ['s']),
        node('ConstantOfShape', 'zeros', ['s'], ['z']),
        node('Add', 'plus', ['h', 'z'], ['h2']),
        ...hn.map((n) => ((n.input[0] = 'h2'), n)),
      ],
      [w('a.w', [16, 8, 1, 1]), ...hi],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(used))[0]!.blocked).toBe('ConstantOfShape "zeros" reads them and has no channel rule');
    const [hn2, hi2] = head('h');
    const spatial = build(
      [conv('a', 'x', 'a.w', 'h'), node('Shape', 'shape', ['h'], ['s'], [attr.int('start', 2)]), node('ConstantOfShape', 'zeros', ['s'], ['z']), ...hn2],
      [w('a.w', [16, 8, 1, 1]), ...hi2],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
      15,
    );
    expect(producersOf(await analyze(spatial))[0]!.blocked).toBeUndefined();
  });

  it('Reshape to a stored shape that names the channel count is rewritten', async () => {
    const c = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Reshape', 'flat', ['h', 'shape'], ['f']),
        node('MatMul', 'mm', ['f', 'mm.w'], ['m']),
        node('Reshape', 'back', ['m', 'shape2'], ['m2']),
        conv('out', 'm2', 'out.w', 'y'),
      ],
      [w('a.w', [16, 8, 1, 1]), ints('shape', [1, 16, 16]), w('mm.w', [16, 16]), ints('shape2', [1, 16, 4, 4]), w('out.w', [4, 16, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    // h [1,16,4,4] → [1,16,16]: the channels stay on axis 1 and the literal 16 becomes the kept count; the MatMul
    // mixes the spatial axis (its weight is not sliced by these channels, it reads another axis), so the group is kept.
    const groups = producersOf(await analyze(c));
    expect(groups[0]).toMatchObject({ producers: ['a'], blocked: 'MatMul "mm" reads them along another axis' });
    const simple = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Reshape', 'r', ['h', 'shape'], ['f']),
        node('Reshape', 'back', ['f', 'shape2'], ['g']),
        conv('out', 'g', 'out.w', 'y'),
      ],
      [w('a.w', [16, 8, 1, 1]), ints('shape', [1, 16, 16]), ints('shape2', [1, 16, 4, 4]), w('out.w', [4, 16, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(simple))[0]!.blocked).toBeUndefined();
    const { out, bytes } = await pruneAndRun(simple);
    expect(out.dims).toEqual([1, 4, 4, 4]);
    const pruned = await openModel([bytesSource('p.onnx', bytes)]);
    expect(
      pruned.catalog.entries
        .filter((e) => e.name.startsWith('shape'))
        .map((e) => e.name)
        .sort(),
    ).toEqual(['shape2_pruned', 'shape_pruned']);
  });

  it('Slice along the channels is rewritten and never left empty; a Split without sizes gets explicit ones', async () => {
    const c = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Slice', 'first', ['h', 'st', 'en', 'ax'], ['h1']),
        node('Split', 'halves', ['h'], ['s1', 's2'], [attr.int('axis', 1)]),
        conv('b1', 's1', 'b1.w', 'o1'),
        conv('b2', 's2', 'b2.w', 'o2'),
        conv('c', 'h1', 'c.w', 'o3'),
        node('Add', 'sum1', ['o1', 'o2'], ['o4']),
        node('Add', 'sum2', ['o4', 'o3'], ['y']),
      ],
      [w('a.w', [16, 8, 1, 1]), ints('st', [2]), ints('en', [5]), ints('ax', [1]), w('b1.w', [4, 8, 1, 1]), w('b2.w', [4, 8, 1, 1]), w('c.w', [4, 3, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(c))[0]).toMatchObject({ producers: ['a'], channels: 16, blocked: undefined });
    for (const s of [0.5, 0.9]) expect((await pruneAndRun(c, s)).out.dims).toEqual([1, 4, 4, 4]);
  });

  it('a grouped Conv couples channel r of every group, keeping the group attribute valid', async () => {
    const [hn, hi] = head('g');
    const c = build(
      [conv('a', 'x', 'a.w', 'h'), node('Conv', 'grouped', ['h', 'gw'], ['g'], [attr.ints('kernel_shape', [1, 1]), attr.int('group', 2)]), ...hn],
      [w('a.w', [8, 8, 1, 1]), w('gw', [16, 4, 1, 1]), ...hi],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    const groups = producersOf(await analyze(c));
    expect(groups).toContainEqual({ producers: ['a'], channels: 4, blocked: undefined });
    expect(groups).toContainEqual({ producers: ['grouped'], channels: 8, blocked: undefined });
    const { bytes, out } = await pruneAndRun(c);
    expect(out.dims).toEqual([1, 4, 4, 4]);
    const pruned = await openModel([bytesSource('p.onnx', bytes)]);
    expect(pruned.catalog.entries.find((e) => e.name === 'gw')!.shape).toEqual([8, 2, 1, 1]);
  });

  it('a weight shared by two Convs couples their outputs; a tensor read elsewhere keeps its channels', async () => {
    const shared = build(
      [
        conv('a1', 'x', 'a.w', 'h1'),
        conv('a2', 'x', 'a.w', 'h2'),
        node('Concat', 'cat', ['h1', 'h2'], ['h'], [attr.int('axis', 1)]),
        conv('out', 'h', 'out.w', 'y'),
      ],
      [w('a.w', [8, 8, 1, 1]), w('out.w', [4, 16, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(shared))[0]).toMatchObject({ producers: ['a1', 'a2'], channels: 8, blocked: undefined });
    expect((await pruneAndRun(shared)).out.dims).toEqual([1, 4, 4, 4]);
    const [hn, hi] = head('h');
    const reused = build(
      [conv('a', 'x', 'a.w', 'h'), node('Gather', 'peek', ['a.w', 'idx'], ['row']), ...hn],
      [w('a.w', [16, 8, 1, 1]), ints('idx', [0]), ...hi],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(reused))[0]!.blocked).toBe('"a.w" is also read by Gather "peek"');
  });

  it('Reshape that splits the channels (a channel shuffle), a reduction over the channels and a subgraph reader keep the group', async () => {
    const [hn, hi] = head('h');
    const shuffle = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Reshape', 'split_groups', ['h', 'shape'], ['r']),
        node('Transpose', 't', ['r'], ['rt'], [attr.ints('perm', [0, 2, 1, 3, 4])]),
        node('Reshape', 'merge', ['rt', 'shape2'], ['h2']),
        ...hn.map((n) => ((n.input[0] = 'h2'), n)),
      ],
      [w('a.w', [16, 8, 1, 1]), ints('shape', [1, 2, 8, 4, 4]), ints('shape2', [1, 16, 4, 4]), ...hi],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    expect(producersOf(await analyze(shuffle))[0]!.blocked).toBe('Reshape "split_groups" splits the channels');
    const reduce = build(
      [conv('a', 'x', 'a.w', 'h'), node('ReduceMean', 'mean', ['h'], ['y'], [attr.ints('axes', [1])])],
      [w('a.w', [16, 8, 1, 1])],
      [1, 8, 4, 4],
      [1, 1, 4, 4],
    );
    expect(producersOf(await analyze(reduce))[0]!.blocked).toBe('ReduceMean "mean" reduces over the channels');
    const body = graph({ name: 'then', nodes: [node('Identity', 'use', ['h'], ['t'])], outputs: [valueInfo('t', DT.FLOAT, [1, 16, 4, 4])] });
    const sub = build(
      [conv('a', 'x', 'a.w', 'h'), node('If', 'branch', ['cond'], ['y'], [attr.graph('then_branch', body), attr.graph('else_branch', body)])],
      [w('a.w', [16, 8, 1, 1]), tensor({ name: 'cond', dtype: DT.BOOL, dims: [], values: [1] })],
      [1, 8, 4, 4],
      [1, 16, 4, 4],
    );
    expect(producersOf(await analyze(sub))[0]!.blocked).toBe('read inside a subgraph of If "branch"');
  });

  it('a depthwise Conv with channel multiplier 2 follows its input: weight rows and group shrink with it', async () => {
    const c = build(
      [
        conv('a', 'x', 'a.w', 'h'),
        node('Conv', 'dw', ['h', 'dw.w'], ['d'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1]), attr.int('group', 8)]),
        conv('out', 'd', 'out.w', 'y'),
      ],
      [w('a.w', [8, 8, 1, 1]), w('dw.w', [16, 1, 3, 3]), w('out.w', [4, 16, 1, 1])],
      [1, 8, 4, 4],
      [1, 4, 4, 4],
    );
    const a = await analyze(c);
    expect(a.groups[0]!.members.find((m) => m.slice.layer === 'dw')).toMatchObject({ channels: 16 });
    const { bytes, out } = await pruneAndRun(c);
    expect(out.dims).toEqual([1, 4, 4, 4]);
    const pruned = await openModel([bytesSource('p.onnx', bytes)]);
    expect(pruned.catalog.entries.find((e) => e.name === 'dw.w')!.shape).toEqual([8, 1, 3, 3]);
    expect(pruned.catalog.entries.find((e) => e.name === 'out.w')!.shape).toEqual([4, 8, 1, 1]);
  });
});
