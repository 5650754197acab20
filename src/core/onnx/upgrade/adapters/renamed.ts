/** Ops renamed or whose attribute values or defaults changed meaning. */
import { attr, findAttr, getInts, getString, removeAttr, setAttr } from '../../graph-edit';
import type { Adapter } from '../context';

/** Scatter (deprecated at 11) is ScatterElements-11 under its old name. */
export const scatter11: Adapter = (ctx) => {
  ctx.node.opType = 'ScatterElements';
  return true;
};

/** RoiAlign-16: the default coordinate mode became half_pixel; the old one (no pixel shift) is set explicitly. */
export const roiAlign16: Adapter = (ctx) => {
  if (findAttr(ctx.node, 'coordinate_transformation_mode')) return false;
  setAttr(ctx.node, attr.string('coordinate_transformation_mode', 'output_half_pixel'));
  return true;
};

/** GridSample-20 renamed its modes: bilinear → linear, bicubic → cubic (nearest stays). */
export const gridSample20: Adapter = (ctx) => {
  const renamed: Record<string, string> = { bilinear: 'linear', bicubic: 'cubic' };
  const mode = renamed[getString(ctx.node, 'mode', 'linear')];
  if (!mode) return false;
  setAttr(ctx.node, attr.string('mode', mode));
  return true;
};

/** Experimental ops of the first opsets that ONNX removed at opset 10. */
export const removedExperimental: Adapter = (ctx) => {
  throw ctx.error(`${ctx.node.opType} was an experimental op, removed from ONNX at opset 10; the studio does not rewrite it`);
};

/**
 * Scan-9 dropped Scan-8's batch axis (axis 0 of every input and output) and its sequence_lens input. A batch of 1
 * converts: the batch axis is squeezed off the inputs and put back on the outputs.
 */
export const scan9: Adapter = (ctx) => {
  const [sequenceLens, ...inputs] = ctx.node.input;
  if (sequenceLens) throw ctx.error('its sequence_lens input (sequences of different lengths in a batch) has no opset-9 equivalent');
  let batchKnown = true;
  for (const name of [...inputs, ...ctx.node.output]) {
    if (!name) continue;
    const batch = ctx.types.shape(name)?.[0];
    if (batch === undefined) batchKnown = false;
    else if (batch !== 1) throw ctx.error(`"${name}" has a batch of ${batch}; opset 9 has no batch axis, and the studio converts a batch of 1 only`);
  }
  if (!batchKnown) ctx.note('the batch size is not declared: the upgraded Scan runs with a batch of 1 only');
  const directions = getInts(ctx.node, 'directions');
  removeAttr(ctx.node, 'directions');
  if (directions) setAttr(ctx.node, attr.ints('scan_input_directions', directions));
  const squeezeBatch = [attr.ints('axes', [0])];
  ctx.node.input = inputs.map((name) => {
    if (!name) return name;
    const unbatched = ctx.fresh('unbatched');
    ctx.insertBefore(ctx.newNode('Squeeze', [name], [unbatched], squeezeBatch));
    return unbatched;
  });
  ctx.node.output.forEach((name, index) => {
    if (name) ctx.rerouteOutput(index, 'unbatched', (renamed, original) => [ctx.newNode('Unsqueeze', [renamed], [original], squeezeBatch)]);
  });
  return true;
};
