/**
 * Reference tests for the op-traits table and the weight tracing: hand-built graphs where the channel and
 * reduction axes of each weight are known, followed through Cast, Slice, Split, Transpose, Reshape,
 * Squeeze/Unsqueeze, Flatten and Concat; the eligibility function's roles and reasons.
 */
import { describe, expect, it } from 'vitest';
import { DT, attr, graph, model, node, seededValues, serialize, tensor, valueInfo } from '../../../test/fixtures/onnx-helpers.ts';
import { tensorRole } from '../compress/roles';
import { buildCatalog } from './catalog';
import { decodeModel } from './codec';
import { attr as coreAttr } from './graph-edit';
import { weightUses } from './weight-use';

const f32 = (name: string, dims: number[]) =>
  tensor({
    name,
    dtype: DT.FLOAT,
    dims,
    values: seededValues(
      1,
      dims.reduce((a, b) => a * b, 1),
    ),
  });
const i64 = (name: string, values: number[]) => tensor({ name, dtype: DT.INT64, dims: [values.length], values });

function uses(nodes: ReturnType<typeof node>[], initializers: ReturnType<typeof tensor>[], weight: string, opsets: Record<string, number> = { '': 13 }) {
  const m = decodeModel(
    serialize(model(graph({ name: 'g', nodes, inputs: [valueInfo('x', DT.FLOAT, [1, 8])], outputs: [valueInfo('y', DT.FLOAT, [])], initializers }), opsets)),
  );
  const catalog = buildCatalog(m);
  const entry = catalog.entries.find((e) => e.name === weight)!;
  return { uses: weightUses(entry, catalog), role: tensorRole(entry, catalog) };
}

describe('weight tracing maps the op’s axes back to the stored tensor', () => {
  it('direct weights: Conv [Cout, Cin, k, k] → channels 0, sums 1; ConvTranspose [Cin, Cout, k, k] → 1, 0; Gemm by transB; MatMul B → last, A → second-last', () => {
    expect(uses([node('Conv', 'c', ['x', 'w'], ['y'])], [f32('w', [4, 3, 3, 3])], 'w').uses[0]).toMatchObject({
      kind: 'weight',
      op: 'Conv',
      channelAxis: 0,
      reductionAxis: 1,
      path: [],
    });
    expect(uses([node('ConvTranspose', 'c', ['x', 'w'], ['y'])], [f32('w', [3, 4, 2, 2])], 'w').uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
    expect(uses([node('Gemm', 'g', ['x', 'w'], ['y'], [attr.int('transB', 1)])], [f32('w', [16, 8])], 'w').uses[0]).toMatchObject({
      channelAxis: 0,
      reductionAxis: 1,
    });
    expect(uses([node('Gemm', 'g', ['x', 'w'], ['y'])], [f32('w', [8, 16])], 'w').uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
    expect(uses([node('MatMul', 'm', ['x', 'w'], ['y'])], [f32('w', [8, 16])], 'w').uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
    expect(uses([node('MatMul', 'm', ['w', 'x'], ['y'])], [f32('w', [16, 8])], 'w').uses[0]).toMatchObject({ channelAxis: 0, reductionAxis: 1 });
  });

  it('LSTM/GRU W and R: one row per gate unit (axis 1), summed over the last axis; the bias is kept', () => {
    const r = uses(
      [node('LSTM', 'l', ['x', 'W', 'R', 'B'], ['y'], [attr.int('hidden_size', 4)])],
      [f32('W', [1, 16, 8]), f32('R', [1, 16, 4]), f32('B', [1, 32])],
      'R',
    );
    expect(r.uses[0]).toMatchObject({ kind: 'weight', op: 'LSTM', channelAxis: 1, reductionAxis: 2 });
    const b = uses(
      [node('GRU', 'l', ['x', 'W', 'R', 'B'], ['y'], [attr.int('hidden_size', 4)])],
      [f32('W', [1, 12, 8]), f32('R', [1, 12, 4]), f32('B', [1, 24])],
      'B',
    );
    expect(b.role).toEqual({ kind: 'kept', reason: 'bias' });
  });

  it('an embedding read by Gather: one scale per row, blocks along the row', () => {
    expect(uses([node('Gather', 'emb', ['E', 'x'], ['y'])], [f32('E', [100, 16])], 'E').uses[0]).toMatchObject({
      kind: 'weight',
      op: 'Gather',
      channelAxis: 0,
      reductionAxis: 1,
    });
  });

  it('an LSTM cell written as MatMul: [4H, I+H] → Slice → Transpose → MatMul finds the gate rows on stored axis 0', () => {
    const nodes = [
      node('Slice', 's', ['W', 'starts', 'ends', 'axes'], ['W_ih']),
      node('Transpose', 't', ['W_ih'], ['W_ihT'], [attr.ints('perm', [1, 0])]),
      node('MatMul', 'm', ['x', 'W_ihT'], ['y']),
    ];
    const r = uses(nodes, [f32('W', [16, 12]), i64('starts', [0]), i64('ends', [8]), i64('axes', [1])], 'W');
    expect(r.uses[0]).toMatchObject({ kind: 'weight', op: 'MatMul', path: ['Slice', 'Transpose'], channelAxis: 0, reductionAxis: 1 });
    expect(r.role.kind).toBe('weight');
  });

  it('Split, Concat, Cast, Identity and Unsqueeze/Squeeze (attribute and input forms) keep the mapping', () => {
    const split = uses(
      [
        node('Split', 's', ['W'], ['a', 'b'], [attr.int('axis', 0)]),
        node('Cast', 'c', ['b'], ['bc'], [attr.int('to', DT.FLOAT)]),
        node('MatMul', 'm', ['x', 'bc'], ['y']),
      ],
      [f32('W', [16, 6])],
      'W',
    );
    expect(split.uses[0]).toMatchObject({ op: 'MatMul', channelAxis: 1, reductionAxis: 0, path: ['Split', 'Cast'] });
    const unsq = uses(
      [
        node('Unsqueeze', 'u', ['W', 'ax'], ['Wu']),
        node('Squeeze', 'q', ['Wu', 'ax'], ['Wq']),
        node('Identity', 'i', ['Wq'], ['Wi']),
        node('Conv', 'c', ['x', 'Wi'], ['y']),
      ],
      [f32('W', [4, 3, 3, 3]), i64('ax', [0])],
      'W',
    );
    expect(unsq.uses[0]).toMatchObject({ op: 'Conv', channelAxis: 0, reductionAxis: 1 });
    const sq9 = uses(
      [
        node('Unsqueeze', 'u', ['W'], ['Wu'], [attr.ints('axes', [1])]),
        node('Squeeze', 'q', ['Wu'], ['Wq'], [attr.ints('axes', [1])]),
        node('MatMul', 'm', ['x', 'Wq'], ['y']),
      ],
      [f32('W', [8, 5])],
      'W',
      { '': 11 },
    );
    expect(sq9.uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
    const concat = uses(
      [node('Concat', 'k', ['W', 'V'], ['WV'], [attr.int('axis', 1)]), node('MatMul', 'm', ['x', 'WV'], ['y'])],
      [f32('W', [8, 5]), f32('V', [8, 3])],
      'W',
    );
    expect(concat.uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
  });

  it('Reshape and Flatten: split or merged axes map to their outermost source axis', () => {
    // [4H=16, I=6] → [4, 4, 6] (gates, hidden, input) → MatMul with B = [.., 4, 6]ᵀ? Here: Reshape [16, 6] → [2, 8, 6], MatMul B → channels last (6 = stored axis 1).
    const r = uses([node('Reshape', 'r', ['W', 'shape'], ['Wr']), node('MatMul', 'm', ['x', 'Wr'], ['y'])], [f32('W', [16, 6]), i64('shape', [2, 8, 6])], 'W');
    expect(r.uses[0]).toMatchObject({ channelAxis: 1, reductionAxis: 0 });
    // Conv weight [Cout=4, Cin=3, 3, 3] flattened to [4, 27] then MatMul A: channels on stored axis 0, summed over the merged axis (its outermost source, 1).
    const f = uses([node('Flatten', 'f', ['W'], ['Wf'], [attr.int('axis', 1)]), node('MatMul', 'm', ['Wf', 'x'], ['y'])], [f32('W', [4, 3, 3, 3])], 'W');
    expect(f.uses[0]).toMatchObject({ channelAxis: 0, reductionAxis: 1 });
    // A reshape to a computed shape cannot be followed: the op still reads a weight, without known axes.
    const computed = uses(
      [node('Shape', 's', ['x'], ['shp']), node('Reshape', 'r', ['W', 'shp'], ['Wr']), node('MatMul', 'm', ['x', 'Wr'], ['y'])],
      [f32('W', [16, 6])],
      'W',
    );
    expect(computed.uses[0]).toMatchObject({ kind: 'other', op: 'Reshape' });
  });

  it('Einsum: the constant operand’s channel axis is its last subscript that reaches the output; it sums over the first that does not', () => {
    const r = uses([node('Einsum', 'e', ['x', 'W'], ['y'], [coreAttr.string('equation', 'bij,jk->bik')])], [f32('W', [8, 16])], 'W');
    expect(r.uses[0]).toMatchObject({ kind: 'weight', op: 'Einsum', channelAxis: 1, reductionAxis: 0 });
    const implicit = uses([node('Einsum', 'e', ['W', 'x'], ['y'], [coreAttr.string('equation', 'kj,bj')])], [f32('W', [16, 8])], 'W');
    expect(implicit.uses[0]).toMatchObject({ channelAxis: 0 });
  });

  it('com.microsoft.Attention weights [hidden, 3·hidden]: channels last, summed over the first axis; its bias is kept', () => {
    const r = uses([node('Attention', 'a', ['x', 'W', 'B'], ['y'], [attr.int('num_heads', 2)], 'com.microsoft')], [f32('W', [8, 24]), f32('B', [24])], 'W', {
      '': 13,
      'com.microsoft': 1,
    });
    expect(r.uses[0]).toMatchObject({ kind: 'weight', op: 'com.microsoft.Attention', channelAxis: 1, reductionAxis: 0 });
  });
});

describe('roles: what stays float says why', () => {
  it('biases, normalization parameters and Resize scales are kept with their reason; big constants other ops read are quantized with a generic layout; small ones kept', () => {
    expect(uses([node('Conv', 'c', ['x', 'w', 'b'], ['y'])], [f32('w', [4, 3, 3, 3]), f32('b', [4])], 'b').role).toEqual({ kind: 'kept', reason: 'bias' });
    expect(uses([node('LayerNormalization', 'ln', ['x', 'g', 'b'], ['y'])], [f32('g', [8]), f32('b', [8])], 'g', { '': 17 }).role).toEqual({
      kind: 'kept',
      reason: 'normalization parameter',
    });
    expect(uses([node('Resize', 'r', ['x', 'roi', 's'], ['y'])], [f32('roi', [0]), f32('s', [4])], 's').role).toEqual({
      kind: 'kept',
      reason: 'Resize scales, not a weight',
    });
    const big = uses([node('Add', 'pos', ['x', 'P'], ['y'])], [f32('P', [64, 32])], 'P').role;
    expect(big).toMatchObject({ kind: 'constant', readers: ['Add'] });
    expect(uses([node('Add', 'pos', ['x', 'P'], ['y'])], [f32('P', [4, 8])], 'P').role).toEqual({ kind: 'kept', reason: 'small constant read by Add' });
    expect(uses([node('Add', 'pos', ['x', 'P'], ['y'])], [f32('P', [64, 32]), f32('unused', [64, 32])], 'unused').role).toEqual({
      kind: 'kept',
      reason: 'not read by any op',
    });
  });
});
