/** The upgrade's contract: version checks, refusals that name the op and node, the registry, names and IR versions. */
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { OperatorSetIdProtoSchema, type ModelProto } from 'onnx-buf';
import { DT, graph, model, node, tensor, valueInfo } from '../../../../test/fixtures/onnx-helpers';
import { allGraphs, attr, findAttr, getInts } from '../graph-edit';
import { MAX_UPGRADE_OPSET, OpsetUpgradeError, defaultOpset, describeUpgrade, irVersionFor, upgradeOpset } from './index';
import { OP_VERSIONS, changesAt } from './op-versions';
import { COMPATIBLE, EXTRA_RULES, UPGRADE_RULES } from './registry';
import { buildCase, declare, type CaseSpec } from './upgrade.testutil';

const floats = (name: string, dims: number[], values: number[]) => tensor({ name, dtype: DT.FLOAT, dims, values });
const oneNode = (opset: number, n = node('Relu', 'relu', ['x'], ['y']), extra: Partial<CaseSpec> = {}) =>
  buildCase({ opset, nodes: [n], inputs: [{ name: 'x', dims: [1, 3, 4, 4] }], outputs: ['y'], ...extra });

function upgradeError(m: ModelProto, target: number): OpsetUpgradeError {
  try {
    upgradeOpset(m, target);
  } catch (err) {
    expect(err).toBeInstanceOf(OpsetUpgradeError);
    return err as OpsetUpgradeError;
  }
  throw new Error('expected the upgrade to fail');
}

describe('versions', () => {
  it('defaultOpset reads the "" or "ai.onnx" import, 0 when none', () => {
    const m = oneNode(11);
    expect(defaultOpset(m)).toBe(11);
    m.opsetImport[0]!.domain = 'ai.onnx';
    expect(defaultOpset(m)).toBe(11);
    m.opsetImport = [create(OperatorSetIdProtoSchema, { domain: 'ai.onnx.ml', version: 2n })];
    expect(defaultOpset(m)).toBe(0);
  });

  it('irVersionFor follows the ONNX versioning table', () => {
    const table: Record<number, number> = {
      7: 3,
      8: 3,
      9: 4,
      10: 5,
      11: 6,
      12: 7,
      13: 7,
      14: 7,
      15: 8,
      16: 8,
      17: 8,
      18: 8,
      19: 9,
      20: 9,
      21: 10,
      22: 10,
      23: 11,
      24: 12,
      25: 13,
    };
    for (const [opset, ir] of Object.entries(table)) expect(irVersionFor(Number(opset)), `opset ${opset}`).toBe(ir);
  });

  it('raises the IR version as the target needs, never lowers it', () => {
    const old = oneNode(7);
    expect(upgradeOpset(old, 21).irVersion).toEqual({ from: 3, to: 10 });
    expect(Number(old.irVersion)).toBe(10);
    const newer = oneNode(11);
    newer.irVersion = 9n;
    expect(upgradeOpset(newer, 13).irVersion).toEqual({ from: 9, to: 9 });
  });

  it('refuses a target below the model, above 21, and models older than opset 7', () => {
    expect(upgradeError(oneNode(13), 11).message).toBe('the model is at opset 13; it cannot be downgraded to 11');
    expect(upgradeError(oneNode(13), 22).message).toMatch(/opset 22 is newer than the studio upgrades to \(21 at most\)/);
    expect(upgradeError(oneNode(6), 13).message).toBe('opset 6 is older than the studio upgrades (7+)');
    expect(upgradeError(oneNode(11), 12.5).message).toMatch(/integer/);
    expect(MAX_UPGRADE_OPSET).toBe(21);
  });

  it('from === to changes nothing (and checks no op)', () => {
    const m = oneNode(13, node('FancyOp', 'f', ['x'], ['y']));
    const r = upgradeOpset(m, 13);
    expect(r).toMatchObject({ from: 13, to: 13, rewritten: {} });
    expect(describeUpgrade(r)).toBe('opset 13: no change');
  });

  it('describeUpgrade lists rewritten ops, most first', () => {
    const r = { from: 9, to: 13, irVersion: { from: 4, to: 7 }, rewritten: { Clip: 28, Slice: 10, Squeeze: 7 }, notes: [] };
    expect(describeUpgrade(r)).toBe('opset 9 → 13: Clip ×28, Slice ×10, Squeeze ×7');
    expect(describeUpgrade({ ...r, rewritten: {} })).toBe('opset 9 → 13: no node rewritten');
  });
});

describe('refusals name the op, the node and why', () => {
  it('BatchNormalization spatial=0 on a 4-D input', () => {
    const bn = node('BatchNormalization', 'bn_per_activation', ['x', 's', 'b', 'm', 'v'], ['y'], [attr.int('spatial', 0)]);
    const e = upgradeError(oneNode(7, bn), 9);
    expect(e.message).toMatch(/^BatchNormalization node "bn_per_activation" cannot be upgraded to opset 9: spatial=0/);
  });

  it('experimental ops removed at opset 10 (ImageScaler, Crop, Affine)', () => {
    for (const op of ['ImageScaler', 'Crop', 'Affine']) {
      const e = upgradeError(oneNode(8, node(op, `my_${op}`, ['x'], ['y'])), 10);
      expect(e.message).toMatch(new RegExp(`^${op} node "my_${op}" cannot be upgraded to opset 10: .*experimental op, removed from ONNX at opset 10`));
    }
    // Below 10 they are still ops of the model's opset.
    expect(upgradeOpset(oneNode(7, node('ImageScaler', 's', ['x'], ['y'])), 9).to).toBe(9);
  });

  it("an op the default domain does not have, or not yet at the model's opset", () => {
    expect(upgradeError(oneNode(11, node('FancyOp', 'f', ['x'], ['y'])), 13).message).toMatch(
      /^FancyOp node "f" cannot be upgraded: it is not an operator of the ONNX default domain/,
    );
    expect(upgradeError(oneNode(9, node('Resize', 'r', ['x', 's'], ['y'])), 13).message).toMatch(
      /^Resize node "r" cannot be upgraded: it is defined from opset 10 on, and the model imports opset 9/,
    );
  });

  it('checks every op before changing anything', () => {
    const m = buildCase({
      opset: 9,
      nodes: [node('Clip', 'clip', ['x'], ['c'], [attr.float('min', 0)]), node('FancyOp', 'f', ['c'], ['y'])],
      inputs: [{ name: 'x', dims: [2] }],
      outputs: ['y'],
    });
    upgradeError(m, 13);
    expect(defaultOpset(m)).toBe(9);
    expect(findAttr(m.graph!.node[0]!, 'min')).toBeDefined();
  });

  it('Resize-10 nearest with scales both above and below 1', () => {
    const m = oneNode(10, node('Resize', 'mixed', ['x', 'scales'], ['y']), { initializers: [floats('scales', [4], [1, 1, 2, 0.5])] });
    expect(upgradeError(m, 11).message).toMatch(/^Resize node "mixed" cannot be upgraded to opset 11: nearest with scales both above and below 1/);
  });

  it('Resize-11 tf_half_pixel_for_nn in linear mode', () => {
    const resize = node(
      'Resize',
      'tf_linear',
      ['x', 'roi', 'scales'],
      ['y'],
      [attr.string('mode', 'linear'), attr.string('coordinate_transformation_mode', 'tf_half_pixel_for_nn')],
    );
    expect(upgradeError(oneNode(11, resize), 13).message).toMatch(/^Resize node "tf_linear" cannot be upgraded to opset 13: .*tf_half_pixel_for_nn/);
  });

  it('BatchNormalization whose training outputs are read', () => {
    const bn = node('BatchNormalization', 'bn_train', ['x', 's', 'b', 'm', 'v'], ['y', 'running_mean']);
    const m = buildCase({ opset: 9, nodes: [bn], inputs: [{ name: 'x', dims: [1, 3, 4, 4] }], outputs: ['y', 'running_mean'] });
    expect(upgradeError(m, 14).message).toMatch(
      /^BatchNormalization node "bn_train" cannot be upgraded to opset 14: its training outputs \(running_mean\) are used/,
    );
  });

  it('Scan-8 with sequence_lens, or a batch other than 1', () => {
    const body = graph({
      name: 'body',
      nodes: [node('Identity', 'id', ['s'], ['s_out'])],
      inputs: [valueInfo('s', DT.FLOAT, [2]), valueInfo('x_t', DT.FLOAT, [2])],
      outputs: [valueInfo('s_out', DT.FLOAT, [2])],
    });
    const scan = (inputs: string[]) => node('Scan', 'loop8', inputs, ['final'], [attr.graph('body', body), attr.int('num_scan_inputs', 1)]);
    const spec = (inputs: string[], batch: number): CaseSpec => ({
      opset: 8,
      nodes: [scan(inputs)],
      inputs: [
        { name: 'lens', dims: [batch], type: 'int64' },
        { name: 'init', dims: [batch, 2] },
        { name: 'xs', dims: [batch, 5, 2] },
      ],
      outputs: ['final'],
    });
    expect(upgradeError(buildCase(spec(['lens', 'init', 'xs'], 1)), 9).message).toMatch(
      /^Scan node "loop8" cannot be upgraded to opset 9: its sequence_lens input/,
    );
    expect(upgradeError(buildCase(spec(['', 'init', 'xs'], 4)), 9).message).toMatch(/"init" has a batch of 4/);
  });

  it('a subgraph node is named with its graph path', () => {
    const body = graph({
      name: 'then',
      nodes: [node('BatchNormalization', 'inner_bn', ['x', 's', 'b', 'm', 'v'], ['t'], [attr.int('spatial', 0)])],
      outputs: [declare('t', DT.FLOAT)],
    });
    const ifNode = node('If', 'cond_if', ['c'], ['y'], [attr.graph('then_branch', body), attr.graph('else_branch', body)]);
    const e = upgradeError(oneNode(7, ifNode), 21);
    expect(e.message).toMatch(/^BatchNormalization node "inner_bn" in main\/cond_if\.then_branch cannot be upgraded to opset 9/);
  });
});

describe('registry', () => {
  it('has a rule for every op whose schema changed at 8-21, and no rule for an op that did not change', () => {
    for (let v = 8; v <= 21; v++) {
      const rules = UPGRADE_RULES[v] ?? {};
      for (const op of Object.keys(OP_VERSIONS)) if (changesAt(op, v)) expect(rules[op], `${op} at opset ${v}`).toBeDefined();
      for (const op of Object.keys(rules)) expect(changesAt(op, v) || (EXTRA_RULES[v] ?? []).includes(op), `rule for ${op} at ${v}`).toBe(true);
    }
  });

  it('rewrites (not just relabels) the ops whose inputs, attributes or meaning changed', () => {
    const adapters: [number, string][] = [
      [9, 'BatchNormalization'],
      [9, 'Scan'],
      [9, 'Upsample'],
      [10, 'Dropout'],
      [10, 'Slice'],
      [10, 'TopK'],
      [10, 'Upsample'],
      [11, 'Clip'],
      [11, 'Pad'],
      [11, 'Resize'],
      [11, 'Scatter'],
      [12, 'Dropout'],
      [13, 'ReduceSum'],
      [13, 'Squeeze'],
      [13, 'Unsqueeze'],
      [13, 'Split'],
      [13, 'Softmax'],
      [13, 'LogSoftmax'],
      [13, 'Hardmax'],
      [13, 'Resize'],
      [14, 'BatchNormalization'],
      [16, 'RoiAlign'],
      [18, 'ReduceMean'],
      [18, 'ReduceMax'],
      [18, 'Split'],
      [20, 'GridSample'],
      [20, 'DFT'],
      [21, 'GroupNormalization'],
    ];
    for (const [v, op] of adapters) expect(typeof UPGRADE_RULES[v]![op], `${op} at ${v}`).toBe('function');
    expect(UPGRADE_RULES[11]!.Gemm).toBe(COMPATIBLE);
  });
});

describe('what the upgrade keeps and adds', () => {
  it('keeps node names, output names, graph outputs and value infos; new names are unique', () => {
    const m = buildCase({
      opset: 9,
      nodes: [
        node('Clip', 'clip', ['x'], ['clip_min'], [attr.float('min', 0), attr.float('max', 6)]),
        node('Softmax', 'softmax', ['clip_min'], ['sm']),
        node('Slice', 'slice', ['sm'], ['y'], [attr.ints('starts', [0]), attr.ints('ends', [2]), attr.ints('axes', [1])]),
      ],
      inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
      outputs: ['y'],
    });
    m.graph!.valueInfo.push(valueInfo('sm', DT.FLOAT, [1, 3, 4, 4]));
    const before = {
      names: m.graph!.node.map((n) => n.name),
      outputs: m.graph!.node.flatMap((n) => n.output),
      graphOutputs: m.graph!.output.map((o) => o.name),
      valueInfos: m.graph!.valueInfo.map((v) => v.name),
    };
    upgradeOpset(m, 21);
    const g = m.graph!;
    for (const name of before.names) expect(g.node.some((n) => n.name === name)).toBe(true);
    for (const out of before.outputs) expect(g.node.some((n) => n.output.includes(out))).toBe(true);
    expect(g.output.map((o) => o.name)).toEqual(before.graphOutputs);
    expect(g.valueInfo.map((v) => v.name)).toEqual(before.valueInfos);
    const produced = [...g.node.flatMap((n) => n.output), ...g.initializer.map((t) => t.name), ...g.input.map((i) => i.name)];
    expect(new Set(produced).size).toBe(produced.length);
    expect(new Set(g.node.map((n) => n.name)).size).toBe(g.node.length);
  });

  it('BatchNormalization-9 unused training outputs are dropped with their value infos', () => {
    const bn = node('BatchNormalization', 'bn', ['x', 's', 'b', 'm', 'v'], ['y', 'mean_out', 'var_out']);
    const m = buildCase({ opset: 9, nodes: [bn], inputs: [{ name: 'x', dims: [1, 3, 4, 4] }], outputs: ['y'] });
    m.graph!.valueInfo.push(valueInfo('mean_out', DT.FLOAT, [3]));
    expect(upgradeOpset(m, 14).rewritten).toEqual({ BatchNormalization: 1 });
    expect(m.graph!.node[0]!.output).toEqual(['y']);
    expect(m.graph!.valueInfo).toHaveLength(0);
  });

  it('equal constants share one initializer per graph', () => {
    const clips = Array.from({ length: 5 }, (_, i) =>
      node('Clip', `clip${i}`, [i ? `c${i - 1}` : 'x'], [i === 4 ? 'y' : `c${i}`], [attr.float('min', 0), attr.float('max', 6)]),
    );
    const m = buildCase({ opset: 10, nodes: clips, inputs: [{ name: 'x', dims: [4] }], outputs: ['y'] });
    const r = upgradeOpset(m, 11);
    expect(r.rewritten).toEqual({ Clip: 5 });
    expect(m.graph!.initializer).toHaveLength(2);
  });

  it('leaves nodes of other domains alone', () => {
    const custom = node('Softmax', 'custom', ['x'], ['y'], [attr.int('axis', 1)], 'com.example');
    const m = model(graph({ name: 'g', nodes: [custom], inputs: [valueInfo('x', DT.FLOAT, [2, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [2, 3, 4])] }), {
      '': 11,
      'com.example': 1,
    });
    expect(upgradeOpset(m, 13).rewritten).toEqual({});
    expect(m.graph!.node).toHaveLength(1);
    expect(m.opsetImport.find((o) => o.domain === 'com.example')!.version).toBe(1n);
  });

  it('converts nodes in every subgraph, with constants in the graph that holds the node', () => {
    const inner = graph({ name: 'inner', nodes: [node('Unsqueeze', 'deep', ['x'], ['u'], [attr.ints('axes', [0])])], outputs: [declare('u', DT.FLOAT)] });
    const innerIf = node('If', 'inner_if', ['c'], ['t'], [attr.graph('then_branch', inner), attr.graph('else_branch', inner)]);
    const outer = graph({ name: 'outer', nodes: [innerIf], outputs: [declare('t', DT.FLOAT)] });
    const m = oneNode(11, node('If', 'outer_if', ['c'], ['y'], [attr.graph('then_branch', outer), attr.graph('else_branch', outer)]));
    const r = upgradeOpset(m, 13);
    expect(r.rewritten).toEqual({ Unsqueeze: 1 });
    const deep = allGraphs(m).find((g) => g.graph.node.some((n) => n.name === 'deep'))!;
    expect(deep.depth).toBe(2);
    expect(deep.graph.initializer.map((t) => t.name)).toContain(deep.graph.node[0]!.input[1]);
    expect(m.graph!.initializer).toHaveLength(0);
  });

  it('experimental MeanVarianceNormalization becomes MeanVarianceNormalization-9 with explicit axes', () => {
    const across = node('MeanVarianceNormalization', 'mvn', ['x'], ['y'], [attr.int('across_channels', 1)]);
    const m = oneNode(8, across);
    expect(upgradeOpset(m, 9).rewritten).toEqual({ MeanVarianceNormalization: 1 });
    expect(getInts(m.graph!.node[0]!, 'axes')).toEqual([0, 1, 2, 3]);
    expect(findAttr(m.graph!.node[0]!, 'across_channels')).toBeUndefined();
    const meanOnly = node('MeanVarianceNormalization', 'mean_only', ['x'], ['y'], [attr.int('normalize_variance', 0)]);
    expect(upgradeError(oneNode(8, meanOnly), 9).message).toMatch(/normalize_variance=0/);
  });
});
