/** Adapters for ops whose attributes became inputs (axes, starts/ends, k, split, pads, min/max, ratio). */
import { attr, findAttr, getFloat, getInt, getString, removeAttr, setAttr } from '../../graph-edit';
import { DataType } from '../../../tensor/dtypes';
import type { Adapter, AdapterContext } from '../context';

/** The int64 values of an INTS attribute, exactly (bigints: INT64_MAX ends must stay INT64_MAX). */
function intsOf(ctx: AdapterContext, name: string): bigint[] | undefined {
  return findAttr(ctx.node, name)?.ints.slice();
}

/**
 * Moves INTS attribute `name` to an int64 input at `index`. An absent (or, unless `keepEmpty`, empty) attribute
 * leaves the input absent: the op's default for the missing input is the old default for the missing attribute.
 */
export function intsToInput(name: string, index: number, keepEmpty = false): Adapter {
  return (ctx) => {
    const values = intsOf(ctx, name);
    if (values === undefined) return false;
    removeAttr(ctx.node, name);
    if (values.length > 0 || keepEmpty) ctx.setInput(index, ctx.int64s(name, values));
    return true;
  };
}

/** Squeeze-13, ReduceSum-13, Reduce*-18: axes becomes input 1 (no axes: all axes, as before). */
export const axesToInput: Adapter = intsToInput('axes', 1);

/** Unsqueeze-13: axes is required; an empty list stays an (empty) input. */
export const unsqueezeAxesToInput: Adapter = intsToInput('axes', 1, true);

/** Slice-10: starts, ends and axes become inputs 1-3 (steps stay absent: 1). */
export const slice10: Adapter = (ctx) => {
  const starts = intsOf(ctx, 'starts');
  const ends = intsOf(ctx, 'ends');
  if (!starts || !ends) throw ctx.error('its starts and ends attributes are required and missing');
  const axes = intsOf(ctx, 'axes');
  removeAttr(ctx.node, 'starts', 'ends', 'axes');
  ctx.setInput(1, ctx.int64s('starts', starts));
  ctx.setInput(2, ctx.int64s('ends', ends));
  if (axes) ctx.setInput(3, ctx.int64s('axes', axes));
  return true;
};

/** TopK-10: k becomes a 1-D input of one value. */
export const topK10: Adapter = (ctx) => {
  const k = findAttr(ctx.node, 'k');
  if (!k) throw ctx.error('its k attribute is required and missing');
  removeAttr(ctx.node, 'k');
  ctx.setInput(1, ctx.int64s('k', [k.i]));
  return true;
};

/** Split-13: the split attribute becomes input 1. */
export const split13: Adapter = intsToInput('split', 1);

/** Split-18: without a split input, the number of equal parts is the num_outputs attribute. */
export const split18: Adapter = (ctx) => {
  if (ctx.node.input[1] || findAttr(ctx.node, 'num_outputs')) return false;
  setAttr(ctx.node, attr.int('num_outputs', ctx.node.output.length));
  return true;
};

/** DFT-20: the axis attribute (default 1) becomes a scalar input 2, whose default is -2. */
export const dft20: Adapter = (ctx) => {
  const axis = getInt(ctx.node, 'axis', 1);
  removeAttr(ctx.node, 'axis');
  ctx.setInput(2, ctx.int64s('axis', [axis], true));
  return true;
};

/** Clip-11: min and max attributes become optional scalar inputs of the data's type (absent: no bound). */
export const clip11: Adapter = (ctx) => {
  const min = findAttr(ctx.node, 'min');
  const max = findAttr(ctx.node, 'max');
  if (!min && !max) return false;
  const type = ctx.inputTypeOrFloat(0);
  removeAttr(ctx.node, 'min', 'max');
  if (min) ctx.setInput(1, ctx.floatingScalar('min', type, min.f));
  if (max) ctx.setInput(2, ctx.floatingScalar('max', type, max.f));
  return true;
};

/** Pad-11: pads becomes input 1, value (constant mode) a scalar input 2 of the data's type; mode stays. */
export const pad11: Adapter = (ctx) => {
  const pads = intsOf(ctx, 'pads');
  if (!pads) throw ctx.error('its pads attribute is required and missing');
  const value = getFloat(ctx.node, 'value', 0);
  const constantMode = getString(ctx.node, 'mode', 'constant') === 'constant';
  removeAttr(ctx.node, 'pads', 'value');
  ctx.setInput(1, ctx.int64s('pads', pads));
  if (constantMode && value !== 0) ctx.setInput(2, ctx.floatingScalar('value', ctx.inputTypeOrFloat(0), value));
  return true;
};

/** Dropout-12: the ratio attribute becomes a float scalar input 1 (absent: 0.5, as before). */
export const dropout12: Adapter = (ctx) => {
  const mask = ctx.node.output[1];
  if (mask && ctx.isUsed(mask)) {
    ctx.note(`its mask "${mask}" is read: in inference onnxruntime gives an all-false mask before opset 12, an all-true one (as ONNX defines it) from 12`);
  }
  const ratio = findAttr(ctx.node, 'ratio');
  if (!ratio) return false;
  removeAttr(ctx.node, 'ratio');
  ctx.setInput(1, ctx.floatingScalar('ratio', DataType.FLOAT, ratio.f));
  return true;
};
