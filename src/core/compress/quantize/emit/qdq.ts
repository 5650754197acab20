/**
 * DequantizeLinear: the weight is replaced by integer codes and scales (per tensor, per channel along `axis`, or
 * per block along `axis` at opset 21) that DequantizeLinear turns back into the stored dtype at run time, so
 * whatever read the weight reads the same name and dtype as before. Conv weights in blocks are stored flattened
 * to [Cout, Cin·kh·kw] and reshaped back; bfloat16 (and float16 below opset 19) go through a Cast.
 */
import { replaceTensorWithNodes } from '../../../onnx/catalog';
import { attr, int64Vector, makeNode } from '../../../onnx/graph-edit';
import { channelLayout } from '../../../analysis/stats';
import type { GroupView } from '../math';
import { specFor } from '../plan';
import { codesTensor, quantizeWithBackend, roundedTo, scaleTensor } from './common';
import type { Emitter } from './types';

export const emitQdq: Emitter = async (ctx, entry, plan, values, rangeFrom) => {
  const { names } = ctx.work;
  const shape = entry.shape;
  const storedShape = plan.flattenTo2d ? [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)] : shape;
  const view: GroupView =
    plan.granularity === 'tensor'
      ? { outer: 1, axisLength: values.length, inner: 1 }
      : { ...channelLayout(storedShape, plan.axis!), axisLength: storedShape[plan.axis!]! };
  const q = await quantizeWithBackend(ctx.backend, values, view, specFor(ctx.recipe, plan), rangeFrom);
  const scaleShape =
    plan.granularity === 'tensor'
      ? []
      : plan.granularity === 'channel'
        ? [storedShape[plan.axis!]!]
        : storedShape.map((d, i) => (i === plan.axis ? Math.ceil(d / plan.blockSize) : d));
  const initializers = [
    await codesTensor(ctx.backend, names.fresh(`${entry.name}_quantized`), storedShape, q.codes, q.signed, plan.storedBits),
    scaleTensor(names.fresh(`${entry.name}_scale`), scaleShape, q.scales, plan.scaleType),
  ];
  if (!q.signed)
    initializers.push(
      await codesTensor(ctx.backend, names.fresh(`${entry.name}_zero_point`), scaleShape, Int16Array.from(q.zeroPoints), false, plan.storedBits),
    );
  const attributes = [];
  if (plan.granularity !== 'tensor') attributes.push(attr.int('axis', plan.axis!));
  if (plan.granularity === 'block') attributes.push(attr.int('block_size', plan.blockSize));

  // DequantizeLinear → (Reshape back) → (Cast to the stored dtype): the last one yields the weight's name.
  const steps = (plan.flattenTo2d ? 1 : 0) + (plan.castTo !== undefined ? 1 : 0);
  let value = steps ? names.fresh(`${entry.name}_dequantized`) : entry.name;
  const nodes = [
    makeNode(
      'DequantizeLinear',
      initializers.map((t) => t.name),
      [value],
      { name: names.fresh(`${entry.name}_DequantizeLinear`), attributes },
    ),
  ];
  if (plan.flattenTo2d) {
    const shapeTensor = int64Vector(names.fresh(`${entry.name}_shape`), shape);
    initializers.push(shapeTensor);
    const out = plan.castTo !== undefined ? names.fresh(`${entry.name}_reshaped`) : entry.name;
    nodes.push(makeNode('Reshape', [value, shapeTensor.name], [out], { name: names.fresh(`${entry.name}_Reshape`) }));
    value = out;
  }
  if (plan.castTo !== undefined)
    nodes.push(makeNode('Cast', [value], [entry.name], { name: names.fresh(`${entry.name}_Cast`), attributes: [attr.int('to', plan.castTo)] }));
  replaceTensorWithNodes(entry, nodes, initializers);
  const rounded = roundedTo(plan.scaleType === 'float16' ? entry.dataType : plan.castTo, q, values);
  return { bytesAfter: initializers.reduce((n, t) => n + t.rawData.byteLength, 0), ...rounded };
};
