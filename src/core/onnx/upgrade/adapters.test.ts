/**
 * Each adapter on a model at its source opset, upgraded to the next breaking version and to 21, run in
 * onnxruntime-node before and after: every output must agree within RELATIVE_TOLERANCE (1e-6) of its largest
 * magnitude, exactly for integer outputs.
 */
import { describe, expect, it } from 'vitest';
import { DT, graph, node, tensor, valueInfo } from '../../../../test/fixtures/onnx-helpers';
import { attr, findAttr, getString } from '../graph-edit';
import { RELATIVE_TOLERANCE, buildCase, feedsOf, opTypes, upgradeAndCompare, type CaseSpec, type UpgradeRun } from './upgrade.testutil';

async function expectSameOutputs(spec: CaseSpec, targets: number[]): Promise<UpgradeRun[]> {
  const runs: UpgradeRun[] = [];
  for (const target of targets) {
    const run = await upgradeAndCompare(buildCase(spec), target, feedsOf(spec));
    for (const d of run.diffs) {
      expect(d.dimsEqual, `${d.name} at opset ${target}: dims/type`).toBe(true);
      expect(d.maxDiff, `${d.name} at opset ${target}: max |Δ| (tolerance ${d.tolerance})`).toBeLessThanOrEqual(d.tolerance);
    }
    runs.push(run);
  }
  return runs;
}

const ints = (name: string, dims: number[], values: number[]) => tensor({ name, dtype: DT.INT64, dims, values });
const floats = (name: string, dims: number[], values: number[]) => tensor({ name, dtype: DT.FLOAT, dims, values });

it('states its tolerance', () => expect(RELATIVE_TOLERANCE).toBe(1e-6));

describe('Clip (min/max attributes → inputs at 11)', () => {
  for (const [label, attributes] of [
    ['min and max', [attr.float('min', -0.5), attr.float('max', 1.25)]],
    ['min only', [attr.float('min', -0.5)]],
    ['max only', [attr.float('max', 0.75)]],
    ['no bounds', []],
  ] as const) {
    it(`opset 9 → 11, 21: ${label}`, async () => {
      const [to11] = await expectSameOutputs(
        { opset: 9, nodes: [node('Clip', 'clip', ['x'], ['y'], [...attributes])], inputs: [{ name: 'x', dims: [2, 3, 4] }], outputs: ['y'] },
        [11, 21],
      );
      expect(to11!.upgraded.graph!.node[0]!.attribute).toHaveLength(0);
      expect(to11!.report.rewritten).toEqual(attributes.length ? { Clip: 1 } : {});
    });
  }
});

describe('Slice (starts/ends/axes → inputs at 10)', () => {
  it('opset 9 → 10, 21: negative and out-of-range ends, INT64_MAX, axes given', async () => {
    const nodes = [
      node('Slice', 'a', ['x'], ['y1'], [attr.ints('starts', [1, -3]), attr.ints('ends', [1000, -1]), attr.ints('axes', [1, 2])]),
      node('Slice', 'b', ['x'], ['y2'], [attr.ints('starts', [0, 0, 2]), attr.ints('ends', [-1, 2, 1000])]),
      node('Slice', 'c', ['x'], ['y3'], [attr.ints('starts', [-100]), attr.ints('ends', [-2]), attr.ints('axes', [-1])]),
    ];
    nodes[1]!.attribute[1]!.ints[2] = 9223372036854775807n;
    const [to10] = await expectSameOutputs({ opset: 9, nodes, inputs: [{ name: 'x', dims: [2, 5, 6] }], outputs: ['y1', 'y2', 'y3'] }, [10, 21]);
    expect(to10!.report.rewritten).toEqual({ Slice: 3 });
    expect(to10!.upgraded.graph!.node[1]!.input).toHaveLength(3);
  });
});

describe('Squeeze / Unsqueeze (axes → input at 13)', () => {
  it('opset 11 → 13, 21: with and without axes, negative axes', async () => {
    const nodes = [
      node('Squeeze', 'sq_axes', ['x'], ['a'], [attr.ints('axes', [0, -2])]),
      node('Squeeze', 'sq_all', ['x'], ['b']),
      node('Unsqueeze', 'unsq', ['a'], ['c'], [attr.ints('axes', [0, -1])]),
    ];
    await expectSameOutputs({ opset: 11, nodes, inputs: [{ name: 'x', dims: [1, 3, 1, 4] }], outputs: ['a', 'b', 'c'] }, [13, 21]);
  });

  it('opset 9 (Squeeze-1, Unsqueeze-1) → 21', async () => {
    const nodes = [node('Squeeze', 'sq', ['x'], ['a'], [attr.ints('axes', [2])]), node('Unsqueeze', 'unsq', ['a'], ['b'], [attr.ints('axes', [1])])];
    const [run] = await expectSameOutputs({ opset: 9, nodes, inputs: [{ name: 'x', dims: [2, 3, 1] }], outputs: ['b'] }, [21]);
    expect(run!.report.rewritten).toEqual({ Squeeze: 1, Unsqueeze: 1 });
  });
});

describe('Reduce* (axes → input: ReduceSum at 13, the others at 18)', () => {
  for (const op of ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare']) {
    it(`${op} opset 11 → 13, 18, 21: keepdims 0/1, no axes`, async () => {
      const nodes = [
        node(op, 'keep', ['x'], ['a'], [attr.ints('axes', [1, -1]), attr.int('keepdims', 1)]),
        node(op, 'drop', ['x'], ['b'], [attr.ints('axes', [0]), attr.int('keepdims', 0)]),
        node(op, 'all', ['x'], ['c'], [attr.int('keepdims', 0)]),
        node(op, 'all_keep', ['x'], ['d']),
      ];
      const runs = await expectSameOutputs(
        { opset: 11, nodes, inputs: [{ name: 'x', dims: [2, 3, 4], scale: 1 }], outputs: ['a', 'b', 'c', 'd'] },
        [13, 18, 21],
      );
      expect(runs[0]!.report.rewritten).toEqual(op === 'ReduceSum' ? { ReduceSum: 2 } : {});
      expect(runs[1]!.report.rewritten).toEqual({ [op]: 2 });
    });
  }
});

describe('Split (split → input at 13, num_outputs at 18)', () => {
  it('opset 11 → 13, 18, 21: with and without split', async () => {
    const nodes = [
      node('Split', 'uneven', ['x'], ['a', 'b', 'c'], [attr.int('axis', 1), attr.ints('split', [1, 2, 3])]),
      node('Split', 'equal', ['x'], ['d', 'e'], [attr.int('axis', -1)]),
    ];
    const runs = await expectSameOutputs({ opset: 11, nodes, inputs: [{ name: 'x', dims: [2, 6, 4] }], outputs: ['a', 'b', 'c', 'd', 'e'] }, [13, 18, 21]);
    const equal = runs[1]!.upgraded.graph!.node.find((n) => n.name === 'equal')!;
    expect(Number(findAttr(equal, 'num_outputs')!.i)).toBe(2);
    expect(runs[1]!.report.rewritten).toEqual({ Split: 2 });
  });

  it('opset 7 (Split-2) → 21', async () => {
    const nodes = [node('Split', 's', ['x'], ['a', 'b'], [attr.int('axis', 0), attr.ints('split', [3, 1])])];
    await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [4, 2] }], outputs: ['a', 'b'] }, [21]);
  });
});

describe('Pad (pads/value → inputs at 11)', () => {
  for (const [mode, extra] of [
    ['constant', [attr.float('value', 1.5)]],
    ['constant', []],
    ['reflect', []],
    ['edge', []],
  ] as const) {
    it(`Pad-2 ${mode}${extra.length ? ' with a value' : ''}: opset 10 → 11, 21`, async () => {
      const nodes = [node('Pad', 'pad', ['x'], ['y'], [attr.string('mode', mode), attr.ints('pads', [0, 1, 2, 0, 2, 1]), ...extra])];
      await expectSameOutputs({ opset: 10, nodes, inputs: [{ name: 'x', dims: [1, 3, 4] }], outputs: ['y'] }, [11, 21]);
    });
  }
});

describe('Upsample → Resize (scales → input at 9, Resize at 10, Resize-11 coordinates)', () => {
  for (const mode of ['nearest', 'linear']) {
    it(`Upsample-7 ${mode}: opset 7 → 9, 10, 11, 21`, async () => {
      const nodes = [node('Upsample', 'up', ['x'], ['y'], [attr.string('mode', mode), attr.floats('scales', [1, 1, 2, 3])])];
      const runs = await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [1, 2, 3, 4] }], outputs: ['y'] }, [9, 10, 11, 21]);
      expect(opTypes(runs[0]!.upgraded)).toEqual(['Upsample']);
      expect(opTypes(runs[1]!.upgraded)).toEqual(['Resize']);
      const resize = runs[3]!.upgraded.graph!.node[0]!;
      expect(getString(resize, 'coordinate_transformation_mode', '')).toBe('asymmetric');
      expect(runs[3]!.report.rewritten).toEqual({ Upsample: 1 });
    });

    it(`Upsample-9 ${mode} (scales input): opset 9 → 10, 11, 21`, async () => {
      const nodes = [node('Upsample', 'up', ['x', 'scales'], ['y'], [attr.string('mode', mode)])];
      await expectSameOutputs(
        { opset: 9, nodes, inputs: [{ name: 'x', dims: [1, 2, 3, 4] }], outputs: ['y'], initializers: [floats('scales', [4], [1, 1, 2.5, 1.5])] },
        [10, 11, 21],
      );
    });
  }
});

describe('Resize-10 → 11 (roi input, asymmetric coordinates, nearest rounding)', () => {
  for (const mode of ['nearest', 'linear']) {
    for (const [label, scales] of [
      ['up', [1, 1, 2, 1.5]],
      ['down', [1, 1, 0.5, 0.6]],
    ] as const) {
      it(`${mode} ${label}-sampling: opset 10 → 11, 21`, async () => {
        const nodes = [node('Resize', 'resize', ['x', 'scales'], ['y'], [attr.string('mode', mode)])];
        await expectSameOutputs(
          { opset: 10, nodes, inputs: [{ name: 'x', dims: [1, 2, 5, 6] }], outputs: ['y'], initializers: [floats('scales', [4], [...scales])] },
          [11, 21],
        );
      });
    }
  }
});

describe('Resize-11 tf_half_pixel_for_nn → half_pixel at 13', () => {
  for (const nearestMode of ['round_prefer_floor', 'floor']) {
    for (const scales of [
      [1, 1, 2, 3],
      [1, 1, 0.5, 0.75],
      [1, 1, 1.7, 0.6],
    ]) {
      it(`nearest_mode ${nearestMode}, scales ${scales.slice(2)}: opset 11 → 13, 21`, async () => {
        const nodes = [
          node(
            'Resize',
            'resize',
            ['x', 'roi', 'scales'],
            ['y'],
            [attr.string('mode', 'nearest'), attr.string('coordinate_transformation_mode', 'tf_half_pixel_for_nn'), attr.string('nearest_mode', nearestMode)],
          ),
        ];
        await expectSameOutputs(
          {
            opset: 11,
            nodes,
            inputs: [{ name: 'x', dims: [1, 2, 6, 8] }],
            outputs: ['y'],
            initializers: [floats('roi', [0], []), floats('scales', [4], scales)],
          },
          [13, 21],
        );
      });
    }
  }
});

describe('Softmax / LogSoftmax / Hardmax (2-D coercion → one axis at 13)', () => {
  for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    for (const [source, dims, axis] of [
      [9, [2, 3, 4], 1],
      [11, [2, 3, 4, 5], 1],
      [11, [2, 3, 4, 5], -3],
      [9, [2, 3, 4], undefined],
      [9, [3, 4], 0],
    ] as const) {
      it(`${op} opset ${source} → 13, 21: rank ${dims.length}, axis ${axis ?? '(default 1)'} — coerced`, async () => {
        const nodes = [node(op, 'sm', ['x'], ['y'], axis === undefined ? [] : [attr.int('axis', axis)])];
        const runs = await expectSameOutputs({ opset: source, nodes, inputs: [{ name: 'x', dims: [...dims] }], outputs: ['y'] }, [13, 21]);
        expect(opTypes(runs[0]!.upgraded)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
        expect(runs[0]!.upgraded.graph!.node[3]!.output).toEqual(['y']);
        expect(runs[0]!.upgraded.graph!.node[2]!.name).toBe('sm');
      });
    }

    it(`${op} opset 11 → 13: last axis (declared rank) keeps the op with axis -1`, async () => {
      const nodes = [node(op, 'sm', ['x'], ['y'], [attr.int('axis', 2)])];
      const [run] = await expectSameOutputs({ opset: 11, nodes, inputs: [{ name: 'x', dims: [2, 3, 4] }], outputs: ['y'] }, [13, 21]);
      expect(opTypes(run!.upgraded)).toEqual([op]);
      expect(Number(findAttr(run!.upgraded.graph!.node[0]!, 'axis')!.i)).toBe(-1);
    });

    it(`${op} opset 11 → 13: unknown rank is rewritten`, async () => {
      const nodes = [node(op, 'sm', ['x'], ['y'], [attr.int('axis', 2)])];
      const [run] = await expectSameOutputs({ opset: 11, nodes, inputs: [{ name: 'x', dims: [2, 3, 4], declared: 'none' }], outputs: ['y'] }, [13]);
      expect(opTypes(run!.upgraded)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
    });
  }
});

describe('TopK (k → input at 10)', () => {
  for (const source of [7, 9]) {
    it(`TopK-1 opset ${source} → 10, 21`, async () => {
      const nodes = [node('TopK', 'topk', ['x'], ['values', 'indices'], [attr.int('k', 3), attr.int('axis', 1)])];
      await expectSameOutputs(
        { opset: source, nodes, inputs: [{ name: 'x', dims: [2, 7] }], outputs: ['values', { name: 'indices', type: DT.INT64 }] },
        [10, 21],
      );
    });
  }
});

describe('Dropout (bool mask at 10, ratio input at 12)', () => {
  it('Dropout-7 with an unused mask: opset 7 → 10, 12, 21', async () => {
    const nodes = [node('Dropout', 'drop', ['x'], ['y', 'mask'], [attr.float('ratio', 0.3)]), node('Relu', 'relu', ['y'], ['z'])];
    const runs = await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [2, 5] }], outputs: ['z'] }, [10, 12, 21]);
    expect(runs[0]!.upgraded.graph!.node[0]!.output).toEqual(['y']);
    expect(runs[1]!.upgraded.graph!.node[0]!.input).toHaveLength(2);
  });

  it('Dropout-10 with its ratio: opset 10 → 12, 21', async () => {
    const nodes = [node('Dropout', 'drop', ['x'], ['y'], [attr.float('ratio', 0.2)])];
    await expectSameOutputs({ opset: 10, nodes, inputs: [{ name: 'x', dims: [3, 4] }], outputs: ['y'] }, [12, 21]);
  });
});

describe('BatchNormalization (spatial removed at 9, training outputs at 14)', () => {
  const params = [
    floats('scale', [3], [1, 0.5, 2]),
    floats('bias', [3], [0.1, -0.2, 0.3]),
    floats('mean', [3], [0.5, -0.5, 0]),
    floats('var', [3], [1, 2, 0.5]),
  ];
  it('BatchNormalization-7 spatial=1: opset 7 → 9, 14, 21', async () => {
    const nodes = [node('BatchNormalization', 'bn', ['x', 'scale', 'bias', 'mean', 'var'], ['y'], [attr.int('spatial', 1), attr.float('epsilon', 1e-3)])];
    const runs = await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [2, 3, 4, 4] }], outputs: ['y'], initializers: params }, [9, 14, 21]);
    expect(findAttr(runs[0]!.upgraded.graph!.node[0]!, 'spatial')).toBeUndefined();
  });

  it('BatchNormalization-9: opset 9 → 14, 21', async () => {
    const nodes = [node('BatchNormalization', 'bn', ['x', 'scale', 'bias', 'mean', 'var'], ['y'])];
    await expectSameOutputs({ opset: 9, nodes, inputs: [{ name: 'x', dims: [2, 3, 5] }], outputs: ['y'], initializers: params }, [14, 21]);
  });
});

describe('MaxPool-8 with indices, AveragePool-7', () => {
  it('MaxPool-8 with an Indices output: opset 8 → 21', async () => {
    const nodes = [node('MaxPool', 'pool', ['x'], ['y', 'idx'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])])];
    await expectSameOutputs({ opset: 8, nodes, inputs: [{ name: 'x', dims: [1, 2, 4, 6] }], outputs: ['y', { name: 'idx', type: DT.INT64 }] }, [10, 21]);
  });

  it('AveragePool-7 with count_include_pad: opset 7 → 21', async () => {
    const nodes = [
      node('AveragePool', 'pool', ['x'], ['y'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1]), attr.int('count_include_pad', 1)]),
    ];
    await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [1, 2, 5, 5] }], outputs: ['y'] }, [21]);
  });
});

describe('Scatter → ScatterElements at 11', () => {
  it('Scatter-9: opset 9 → 11, 21', async () => {
    const nodes = [node('Scatter', 'scatter', ['data', 'indices', 'updates'], ['y'], [attr.int('axis', 1)])];
    const runs = await expectSameOutputs(
      {
        opset: 9,
        nodes,
        inputs: [
          { name: 'data', dims: [2, 4] },
          { name: 'updates', dims: [2, 2] },
        ],
        outputs: ['y'],
        initializers: [ints('indices', [2, 2], [3, 0, 1, 2])],
      },
      [11, 21],
    );
    expect(opTypes(runs[0]!.upgraded)).toEqual(['ScatterElements']);
    expect(runs[0]!.report.rewritten).toEqual({ Scatter: 1 });
  });
});

describe('If with Squeeze / Clip in its branches (subgraphs converted)', () => {
  it('opset 10 → 13, 21', async () => {
    const thenBranch = graph({
      name: 'then',
      nodes: [
        node('Squeeze', 'then_squeeze', ['x'], ['t1'], [attr.ints('axes', [0])]),
        node('Clip', 'then_clip', ['t1'], ['t2'], [attr.float('min', -0.5), attr.float('max', 0.5)]),
      ],
      outputs: [valueInfo('t2', DT.FLOAT, [3, 4])],
    });
    const elseBranch = graph({
      name: 'else',
      nodes: [node('Squeeze', 'else_squeeze', ['x'], ['e1']), node('Softmax', 'else_softmax', ['e1'], ['e2'], [attr.int('axis', 0)])],
      outputs: [valueInfo('e2', DT.FLOAT, [3, 4])],
    });
    const nodes = [
      node('ReduceSum', 'sum', ['x'], ['s'], [attr.int('keepdims', 0)]),
      node('Greater', 'positive', ['s', 'zero'], ['cond']),
      node('If', 'branch', ['cond'], ['y'], [attr.graph('then_branch', thenBranch), attr.graph('else_branch', elseBranch)]),
    ];
    // One input takes the then branch, the other the else branch.
    for (const sign of [1, -1]) {
      const spec: CaseSpec = {
        opset: 10,
        nodes,
        inputs: [{ name: 'x', dims: [1, 3, 4], values: Array.from({ length: 12 }, (_, i) => (sign * (i + 1)) / 8) }],
        outputs: ['y'],
        initializers: [floats('zero', [], [0])],
      };
      const runs = await expectSameOutputs(spec, [13, 21]);
      const thenNodes = runs[0]!.upgraded.graph!.node.at(-1)!.attribute[0]!.g!;
      expect(thenNodes.node[0]!.input).toHaveLength(2);
      expect(thenNodes.initializer.length).toBeGreaterThan(0);
      expect(runs[0]!.report.rewritten).toEqual({ Clip: 1, Softmax: 1, Squeeze: 1 });
    }
  });
});

describe('Dropout mask read by the graph (bool mask cast back at 10)', () => {
  it('Dropout-7 with its mask as a graph output: opset 7 → 10, 11 identical', async () => {
    const nodes = [node('Dropout', 'drop', ['x'], ['y', 'mask'])];
    const runs = await expectSameOutputs({ opset: 7, nodes, inputs: [{ name: 'x', dims: [2, 5] }], outputs: ['y', 'mask'] }, [10, 11]);
    expect(opTypes(runs[0]!.upgraded)).toEqual(['Dropout', 'Cast']);
    expect(runs[0]!.upgraded.graph!.node[1]!.output).toEqual(['mask']);
  });

  it('at 12 the inference mask becomes all true (onnxruntime gave all false before): output identical, mask noted', async () => {
    const spec: CaseSpec = { opset: 7, nodes: [node('Dropout', 'drop', ['x'], ['y', 'mask'])], inputs: [{ name: 'x', dims: [2, 5] }], outputs: ['y', 'mask'] };
    const run = await upgradeAndCompare(buildCase(spec), 21, feedsOf(spec));
    expect(run.diffs.find((d) => d.name === 'y')!.maxDiff).toBe(0);
    expect(run.report.notes.join('\n')).toMatch(/all-false mask before opset 12/);
  });
});

describe('Resize with scales computed at run time', () => {
  it('Resize-10 nearest, scales from a Concat: opset 10 → 11 assumes up-sampling and says so', async () => {
    const nodes = [node('Concat', 'cat', ['ones', 'hw'], ['scales'], [attr.int('axis', 0)]), node('Resize', 'resize', ['x', 'scales'], ['y'])];
    const [run] = await expectSameOutputs(
      { opset: 10, nodes, inputs: [{ name: 'x', dims: [1, 1, 3, 4] }], outputs: ['y'], initializers: [floats('ones', [2], [1, 1]), floats('hw', [2], [2, 3])] },
      [11],
    );
    expect(run!.report.notes.join('\n')).toMatch(/computed at run time/);
  });
});

describe('GroupNormalization-18 → 21 (scale/bias per group → per channel)', () => {
  const scale = floats('scale', [2], [1.5, -0.5]);
  const bias = floats('bias', [2], [0.25, 1]);
  it('constant scale/bias with a declared channel count are expanded: opset 18 → 21', async () => {
    const nodes = [node('GroupNormalization', 'gn', ['x', 'scale', 'bias'], ['y'], [attr.int('num_groups', 2)])];
    const [run] = await expectSameOutputs({ opset: 18, nodes, inputs: [{ name: 'x', dims: [2, 6, 3] }], outputs: ['y'], initializers: [scale, bias] }, [21]);
    expect(opTypes(run!.upgraded)).toEqual(['GroupNormalization']);
    const expanded = run!.upgraded.graph!.initializer.find((t) => t.name === run!.upgraded.graph!.node[0]!.input[1])!;
    expect(expanded.dims.map(Number)).toEqual([6]);
    expect(run!.upgraded.graph!.initializer.map((t) => t.name)).not.toContain('scale');
  });

  it('computed scale/bias, undeclared channels: expanded at run time', async () => {
    const nodes = [node('Identity', 'copy', ['scale'], ['s']), node('GroupNormalization', 'gn', ['x', 's', 'bias'], ['y'], [attr.int('num_groups', 2)])];
    const [run] = await expectSameOutputs(
      { opset: 18, nodes, inputs: [{ name: 'x', dims: [2, 6, 3], declared: [null, null, null] }], outputs: ['y'], initializers: [scale, bias] },
      [21],
    );
    expect(opTypes(run!.upgraded)).toContain('Expand');
  });
});

describe('RoiAlign-10 → 16 (old coordinate mode made explicit)', () => {
  it('opset 10 → 16, 21', async () => {
    const nodes = [
      node('RoiAlign', 'roi', ['x', 'rois', 'batch'], ['y'], [attr.int('output_height', 2), attr.int('output_width', 3), attr.int('sampling_ratio', 2)]),
    ];
    const [run] = await expectSameOutputs(
      {
        opset: 10,
        nodes,
        inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
        outputs: ['y'],
        initializers: [floats('rois', [2, 4], [0.5, 0.5, 4.2, 3.7, 1, 2, 5.5, 5.5]), ints('batch', [2], [0, 0])],
      },
      [16, 21],
    );
    expect(getString(run!.upgraded.graph!.node[0]!, 'coordinate_transformation_mode', '')).toBe('output_half_pixel');
  });
});

describe('GridSample-16 → 20 (mode names)', () => {
  for (const mode of ['bilinear', 'nearest', 'bicubic']) {
    it(`${mode}: opset 16 → 20, 21`, async () => {
      const nodes = [node('GridSample', 'gs', ['x', 'grid'], ['y'], [attr.string('mode', mode), attr.int('align_corners', 0)])];
      await expectSameOutputs(
        {
          opset: 16,
          nodes,
          inputs: [
            { name: 'x', dims: [1, 2, 4, 5] },
            { name: 'grid', dims: [1, 3, 2, 2], scale: 1.1 },
          ],
          outputs: ['y'],
        },
        [20, 21],
      );
    });
  }
});

describe('DFT-17 → 20 (axis attribute → input)', () => {
  for (const axis of [undefined, 1, 2]) {
    it(`axis ${axis ?? '(default 1)'}: opset 17 → 20, 21`, async () => {
      const nodes = [node('DFT', 'dft', ['x'], ['y'], axis === undefined ? [] : [attr.int('axis', axis)])];
      await expectSameOutputs({ opset: 17, nodes, inputs: [{ name: 'x', dims: [2, 4, 6, 1] }], outputs: ['y'] }, [20, 21]);
    });
  }
});

describe('Scan-8 → 9 (batch axis and sequence_lens dropped)', () => {
  it('batch 1: opset 8 → 9, 21', async () => {
    const body = graph({
      name: 'body',
      inputs: [valueInfo('s', DT.FLOAT, [2]), valueInfo('x_t', DT.FLOAT, [2])],
      nodes: [node('Add', 'acc', ['s', 'x_t'], ['s_next']), node('Mul', 'twice', ['s_next', 's_next'], ['out_t'])],
      outputs: [valueInfo('s_next', DT.FLOAT, [2]), valueInfo('out_t', DT.FLOAT, [2])],
    });
    const nodes = [
      node('Scan', 'scan', ['', 'init', 'xs'], ['final', 'outs'], [attr.graph('body', body), attr.int('num_scan_inputs', 1), attr.ints('directions', [1])]),
    ];
    const spec: CaseSpec = {
      opset: 8,
      nodes,
      inputs: [
        { name: 'init', dims: [1, 2] },
        { name: 'xs', dims: [1, 5, 2] },
      ],
      outputs: [
        { name: 'final', dims: [1, 2] },
        { name: 'outs', dims: [1, 5, 2] },
      ],
    };
    const runs = await expectSameOutputs(spec, [9, 21]);
    expect(opTypes(runs[0]!.upgraded)).toEqual(['Squeeze', 'Squeeze', 'Scan', 'Unsqueeze', 'Unsqueeze']);
    expect(runs[0]!.report.rewritten).toEqual({ Scan: 1 });
  });
});

describe('constants take the data type (float16 through a Cast)', () => {
  const half = (op: ReturnType<typeof node>) => [
    node('Cast', 'to_half', ['x'], ['h'], [attr.int('to', DT.FLOAT16)]),
    op,
    node('Cast', 'to_float', ['r'], ['y'], [attr.int('to', DT.FLOAT)]),
  ];
  // onnxruntime has no float16 Clip-6 kernel: it runs the source in float32 (its casts around the node elided), so a
  // bound like 0.7 would come out unrounded, where the upgraded float16 bound is 0.7 rounded to float16 as ONNX
  // says. Bounds exact in float16 keep the comparison exact.
  it('Clip-6 on float16: opset 9 → 11, 21', async () => {
    const [run] = await expectSameOutputs(
      {
        opset: 9,
        nodes: half(node('Clip', 'clip', ['h'], ['r'], [attr.float('min', -0.375), attr.float('max', 0.6875)])),
        inputs: [{ name: 'x', dims: [3, 4], scale: 1 }],
        outputs: ['y'],
      },
      [11, 21],
    );
    expect(run!.upgraded.graph!.initializer.map((t) => t.dataType)).toEqual([DT.FLOAT16, DT.FLOAT16]);
  });

  it('Pad-2 constant value on float16: opset 10 → 11, 21', async () => {
    const pad = node('Pad', 'pad', ['h'], ['r'], [attr.ints('pads', [1, 0, 0, 2]), attr.float('value', -2.5)]);
    await expectSameOutputs({ opset: 10, nodes: half(pad), inputs: [{ name: 'x', dims: [3, 4] }], outputs: ['y'] }, [11, 21]);
  });
});

describe('Loop body (ReduceSum, Squeeze, Unsqueeze inside)', () => {
  it('opset 11 → 13, 21', async () => {
    const body = graph({
      name: 'body',
      inputs: [valueInfo('i', DT.INT64, []), valueInfo('cond_in', DT.BOOL, []), valueInfo('x_in', DT.FLOAT, [1, 3])],
      nodes: [
        node('Identity', 'keep_going', ['cond_in'], ['cond_out']),
        node('ReduceSum', 'row_sum', ['x_in'], ['s'], [attr.ints('axes', [1]), attr.int('keepdims', 1)]),
        node('Div', 'scale_down', ['s', 'three'], ['s3']),
        node('Add', 'acc', ['x_in', 's3'], ['x_next']),
        node('Squeeze', 'flat', ['x_next'], ['t'], [attr.ints('axes', [0])]),
        node('Unsqueeze', 'row', ['t'], ['x_out'], [attr.ints('axes', [0])]),
      ],
      outputs: [valueInfo('cond_out', DT.BOOL, []), valueInfo('x_out', DT.FLOAT, [1, 3])],
    });
    const nodes = [node('Loop', 'loop', ['trips', 'go', 'x'], ['y'], [attr.graph('body', body)])];
    const initializers = [ints('trips', [], [3]), tensor({ name: 'go', dtype: DT.BOOL, dims: [], values: [1] }), floats('three', [], [3])];
    const runs = await expectSameOutputs({ opset: 11, nodes, inputs: [{ name: 'x', dims: [1, 3] }], outputs: ['y'], initializers }, [13, 21]);
    expect(runs[0]!.report.rewritten).toEqual({ ReduceSum: 1, Squeeze: 1, Unsqueeze: 1 });
  });
});

describe('Upsample-7 in an opset-8 model', () => {
  it('opset 8 → 9, 21', async () => {
    const nodes = [node('Upsample', 'up', ['x'], ['y'], [attr.floats('scales', [1, 1, 3, 2])])];
    await expectSameOutputs({ opset: 8, nodes, inputs: [{ name: 'x', dims: [1, 1, 2, 3] }], outputs: ['y'] }, [9, 21]);
  });
});

describe('experimental ops that became standard (onnxruntime runs both at opset 8)', () => {
  for (const [label, attributes] of [
    ['across_channels=1', [attr.int('across_channels', 1)]],
    ['defaults', []],
  ] as const) {
    it(`MeanVarianceNormalization ${label}: opset 8 → 9, 21`, async () => {
      const nodes = [node('MeanVarianceNormalization', 'mvn', ['x'], ['y'], [...attributes])];
      await expectSameOutputs({ opset: 8, nodes, inputs: [{ name: 'x', dims: [2, 3, 2, 4] }], outputs: ['y'] }, [9, 21]);
    });
  }

  it('ThresholdedRelu: opset 8 → 10, 21', async () => {
    const nodes = [node('ThresholdedRelu', 'trelu', ['x'], ['y'], [attr.float('alpha', 0.3)])];
    await expectSameOutputs({ opset: 8, nodes, inputs: [{ name: 'x', dims: [2, 6] }], outputs: ['y'] }, [10, 21]);
  });
});
