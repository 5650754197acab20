/** Upsample → Resize, and Resize's own changes, each keeping the numbers the older op computes. */
import type { NodeProto } from 'onnx-buf';
import { attr, getFloats, getString, removeAttr, setAttr } from '../../graph-edit';
import type { Adapter, AdapterContext } from '../context';

/** Nodes that were Upsample: their scales are at least 1 (Upsample refuses smaller ones). */
const fromUpsample = new WeakSet<NodeProto>();

/** Upsample-9: the scales attribute becomes input 1. */
export const upsample9: Adapter = (ctx) => {
  const scales = getFloats(ctx.node, 'scales');
  if (!scales) throw ctx.error('its scales attribute is required and missing');
  removeAttr(ctx.node, 'scales');
  ctx.setInput(1, ctx.floats('scales', scales));
  return true;
};

/** Resize-10 is Upsample-9 under a new name (same inputs, same mode, same numbers). */
export const upsampleToResize: Adapter = (ctx) => {
  if (!ctx.node.input[1]) throw ctx.error('its scales input is missing');
  ctx.node.opType = 'Resize';
  if (getString(ctx.node, 'mode', 'nearest') === 'bilinear') setAttr(ctx.node, attr.string('mode', 'linear'));
  fromUpsample.add(ctx.node);
  return true;
};

/**
 * Opset 10 maps an output index to the source as x / scale and, for nearest, truncates it when up-sampling and
 * rounds it up when down-sampling (onnxruntime's opset-10 Resize and Upsample). One nearest_mode must say that.
 */
function nearestModeFor(ctx: AdapterContext, scales: string): 'floor' | 'ceil' {
  if (fromUpsample.has(ctx.node)) return 'floor';
  const values = ctx.types.constantValues(scales);
  if (!values) {
    ctx.note('its scales are computed at run time: up-sampling assumed (nearest source index rounded down)');
    return 'floor';
  }
  const up = values.some((s) => s > 1);
  const down = values.some((s) => s < 1);
  if (up && down)
    throw ctx.error(
      'nearest with scales both above and below 1 rounds source indices down on some axes and up on others, which no single nearest_mode expresses',
    );
  return down ? 'ceil' : 'floor';
}

/** Resize-11: roi input added (empty: unused), the opset-10 coordinates and rounding set explicitly. */
export const resize11: Adapter = (ctx) => {
  const [x, scales] = ctx.node.input;
  if (!x || !scales) throw ctx.error('it needs its X and scales inputs');
  const mode = getString(ctx.node, 'mode', 'nearest');
  ctx.node.input = [x, ctx.floats('roi', []), scales];
  setAttr(ctx.node, attr.string('coordinate_transformation_mode', 'asymmetric'));
  if (mode === 'nearest') setAttr(ctx.node, attr.string('nearest_mode', nearestModeFor(ctx, scales)));
  return true;
};

/** A deprecated Upsample-10 reaching opset 11 becomes Resize-11 like Upsample-9 does. */
export const upsample10To11: Adapter = (ctx) => upsampleToResize(ctx) && resize11(ctx);

/**
 * Resize-13 dropped coordinate_transformation_mode "tf_half_pixel_for_nn" (x_src = (x + 0.5) / scale), which is
 * half_pixel plus 0.5: rounding it down equals half_pixel rounded half up, rounding it half down equals
 * half_pixel rounded up.
 */
export const resize13: Adapter = (ctx) => {
  if (getString(ctx.node, 'coordinate_transformation_mode', 'half_pixel') !== 'tf_half_pixel_for_nn') return false;
  if (getString(ctx.node, 'mode', 'nearest') !== 'nearest')
    throw ctx.error('coordinate_transformation_mode "tf_half_pixel_for_nn" with a mode other than nearest has no opset-13 equivalent');
  const rounding = getString(ctx.node, 'nearest_mode', 'round_prefer_floor');
  const equivalents: Record<string, string> = { floor: 'round_prefer_ceil', round_prefer_floor: 'ceil' };
  const equivalent = equivalents[rounding];
  if (!equivalent) throw ctx.error(`coordinate_transformation_mode "tf_half_pixel_for_nn" with nearest_mode "${rounding}" has no opset-13 equivalent`);
  setAttr(ctx.node, attr.string('coordinate_transformation_mode', 'half_pixel'));
  setAttr(ctx.node, attr.string('nearest_mode', equivalent));
  return true;
};
