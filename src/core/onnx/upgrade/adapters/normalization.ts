/** BatchNormalization, GroupNormalization, MeanVarianceNormalization and Dropout changes. */
import { attr, findAttr, getInt, removeAttr, setAttr } from '../../graph-edit';
import { DataType, dataTypeName } from '../../../tensor/dtypes';
import type { Adapter, AdapterContext } from '../context';

/** BatchNormalization-9: the spatial attribute is gone; only per-channel statistics (spatial=1) remain. */
export const batchNorm9: Adapter = (ctx) => {
  const spatial = findAttr(ctx.node, 'spatial');
  if (!spatial) return false;
  // On a 2-D input [N, C] both modes normalize per channel.
  if (Number(spatial.i) !== 1 && ctx.types.rank(ctx.node.input[0] ?? '') !== 2) {
    throw ctx.error('spatial=0 (statistics per activation rather than per channel) has no equivalent from opset 9 on');
  }
  removeAttr(ctx.node, 'spatial');
  return true;
};

/** BatchNormalization-14 has the running mean/var outputs in training mode only: unused extra outputs are dropped. */
export const batchNorm14: Adapter = (ctx) => {
  if (ctx.node.output.length <= 1) return false;
  const used = ctx.node.output.slice(1).filter((o) => ctx.isUsed(o));
  if (used.length > 0) throw ctx.error(`its training outputs (${used.join(', ')}) are used; from opset 14 they exist in training mode only`);
  ctx.keepOutputs(1);
  return true;
};

/** Dropout-10: the mask output became bool. A mask that something reads is cast back to the data's type. */
export const dropout10: Adapter = (ctx) => {
  const mask = ctx.node.output[1];
  if (mask === undefined) return false;
  if (!ctx.isUsed(mask)) {
    ctx.keepOutputs(1);
    return true;
  }
  const type = ctx.types.elemType(ctx.node.input[0] ?? '');
  if (type === undefined) throw ctx.error(`its mask output "${mask}" is used and the data's type is not declared, so the mask cannot be cast back to it`);
  ctx.rerouteOutput(1, 'mask', (renamed, original) => [ctx.newNode('Cast', [renamed], [original], [attr.int('to', type)])]);
  return true;
};

/** Experimental MeanVarianceNormalization (before opset 9) → MeanVarianceNormalization-9 with explicit axes. */
export const meanVarianceNormalization9: Adapter = (ctx) => {
  const across = findAttr(ctx.node, 'across_channels');
  const normalize = findAttr(ctx.node, 'normalize_variance');
  if (!across && !normalize) return false;
  if (normalize && Number(normalize.i) === 0) throw ctx.error('normalize_variance=0 (mean subtraction only) has no opset-9 equivalent');
  removeAttr(ctx.node, 'across_channels', 'normalize_variance');
  setAttr(ctx.node, attr.ints('axes', across && Number(across.i) === 1 ? [0, 1, 2, 3] : [0, 2, 3]));
  return true;
};

/** Repeats each of `values` `times` times: [a, b] ×2 → [a, a, b, b]. */
function repeatEach(values: readonly number[], times: number): number[] {
  return values.flatMap((v) => Array<number>(times).fill(v));
}

/**
 * GroupNormalization-21: scale and bias are per channel [C], no longer per group [G]. float32 constants are
 * expanded when C is declared; otherwise nodes repeat each group's value C/G times at run time.
 */
export const groupNorm21: Adapter = (ctx) => {
  const [x, scale, bias] = ctx.node.input;
  if (!x || !scale || !bias) throw ctx.error('it needs its X, scale and bias inputs');
  const groups = getInt(ctx.node, 'num_groups', 0);
  if (groups <= 0) throw ctx.error('its num_groups attribute is missing');
  const channels = ctx.types.shape(x)?.[1];
  const xType = ctx.types.elemType(x);
  if (xType !== undefined && xType !== DataType.FLOAT)
    ctx.note(`from opset 21 the statistics are computed in float32 (stash_type), not ${dataTypeName(xType)}`);
  let repeatAtRunTime: ReturnType<typeof groupRepeater> | undefined;
  const expand = (index: 1 | 2, name: string, suffix: string) => {
    const values = ctx.types.elemType(name) === DataType.FLOAT ? ctx.types.constantValues(name) : undefined;
    if (channels !== undefined && channels % groups === 0 && values?.length === groups) {
      ctx.node.input[index] = ctx.floats(suffix, repeatEach(values, channels / groups));
      ctx.dropInitializerIfUnused(name);
    } else {
      ctx.node.input[index] = (repeatAtRunTime ??= groupRepeater(ctx, x, groups))(name, suffix);
    }
  };
  expand(1, scale, 'scale');
  expand(2, bias, 'bias');
  return true;
};

/** Nodes computing reshape(expand(reshape(v, [-1, 1]), [1, C/G]), [-1]) for a [G] input v. */
function groupRepeater(ctx: AdapterContext, x: string, groups: number): (name: string, suffix: string) => string {
  const channels = ctx.fresh('channels');
  const perGroup = ctx.fresh('channels_per_group');
  const expandShape = ctx.fresh('expand_shape');
  ctx.insertBefore(
    ctx.newNode('Shape', [x], [channels], [attr.int('start', 1), attr.int('end', 2)]),
    ctx.newNode('Div', [channels, ctx.int64s('num_groups', [groups])], [perGroup]),
    ctx.newNode('Concat', [ctx.int64s('one', [1]), perGroup], [expandShape], [attr.int('axis', 0)]),
  );
  return (name, suffix) => {
    const column = ctx.fresh(`${suffix}_column`);
    const expanded = ctx.fresh(`${suffix}_expanded`);
    const out = ctx.fresh(`${suffix}_per_channel`);
    ctx.insertBefore(
      ctx.newNode('Reshape', [name, ctx.int64s('column_shape', [-1, 1])], [column]),
      ctx.newNode('Expand', [column, expandShape], [expanded]),
      ctx.newNode('Reshape', [expanded, ctx.int64s('flat_shape', [-1])], [out]),
    );
    return out;
  };
}
