/**
 * Softmax, LogSoftmax, Hardmax-13: before opset 13 the input was coerced to 2-D at `axis` (default 1) and the op
 * ran over all the trailing dims at once; from 13 it runs over the one axis (default -1).
 */
import { attr, getInt, setAttr } from '../../graph-edit';
import type { Adapter } from '../context';

export const softmax13: Adapter = (ctx) => {
  const axis = getInt(ctx.node, 'axis', 1);
  const input = ctx.node.input[0];
  if (!input) throw ctx.error('its input is missing');
  const rank = ctx.types.rank(input);
  const isLast = axis === -1 || (rank !== undefined && (axis < 0 ? axis + rank : axis) === rank - 1);
  if (isLast) {
    if (axis === -1) return false;
    setAttr(ctx.node, attr.int('axis', -1));
    return true;
  }
  // Flatten(axis) → op over the last axis → Reshape back to the input's shape.
  const shape = ctx.fresh('input_shape');
  const flat = ctx.fresh('flat');
  ctx.insertBefore(ctx.newNode('Shape', [input], [shape]), ctx.newNode('Flatten', [input], [flat], [attr.int('axis', axis)]));
  ctx.node.input[0] = flat;
  setAttr(ctx.node, attr.int('axis', -1));
  ctx.rerouteOutput(0, 'flat_out', (renamed, original) => [ctx.newNode('Reshape', [renamed, shape], [original])]);
  return true;
};
