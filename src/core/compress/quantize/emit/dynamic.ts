/**
 * Dynamic quantization, like onnxruntime's quantize_dynamic: the weight stored as 8-bit integers, its op
 * rewritten as DynamicQuantizeLinear (activations, at run time) + MatMulInteger / ConvInteger (int32) + Cast +
 * rescale. Conv weights are uint8 because onnxruntime has no ConvInteger kernel for int8 weights.
 */
import type { NodeProto } from 'onnx-buf';
import { allGraphs, attr, floatTensor, getInt, graphOfNode, makeNode } from '../../../onnx/graph-edit';
import { constantNamed } from '../../../onnx/weight-use';
import { DataType } from '../../../tensor/dtypes';
import { codesTensor, quantizeWithBackend } from './common';
import { removeStored } from './matmulnbits';
import type { Emitter } from './types';

const CONV_ATTRIBUTES = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

export const emitDynamic: Emitter = async (ctx, entry, plan, values, rangeFrom) => {
  const { names, model, catalog } = ctx.work;
  const node = entry.consumers[0]!.node;
  const isConv = node.opType === 'Conv';
  const isGemm = node.opType === 'Gemm';
  const perChannel = plan.granularity === 'channel';
  // Weight layout the integer op reads: Conv [Cout, …] (channels on axis 0); MatMulInteger [K, N] (channels on axis 1).
  let weight = values;
  let range = rangeFrom;
  let dims = entry.shape;
  const transB = isGemm && getInt(node, 'transB', 0) === 1;
  if (transB) {
    const [n, k] = entry.shape as [number, number];
    const transpose = (v: Float32Array) => {
      const out = new Float32Array(v.length);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[j * n + i] = v[i * k + j]!;
      return out;
    };
    weight = transpose(values);
    range = rangeFrom && transpose(rangeFrom);
    dims = [k, n];
  }
  const channels = isConv ? dims[0]! : dims[1]!;
  const view = !perChannel
    ? { outer: 1, axisLength: weight.length, inner: 1 }
    : isConv
      ? { outer: 1, axisLength: channels, inner: values.length / channels }
      : { outer: dims[0]!, axisLength: channels, inner: 1 };
  // ConvInteger takes uint8 weights with one zero point: Conv weights are quantized symmetric (per channel when
  // asked: the per-channel scales live in the float rescale) and shifted by 128.
  const symmetric = ctx.recipe.symmetric || isConv;
  const q = await quantizeWithBackend(
    ctx.backend,
    weight,
    view,
    { bits: plan.bits, symmetric, granularity: perChannel ? 'channel' : 'tensor', blockSize: 0, range: ctx.recipe.range, percentile: ctx.recipe.percentile },
    range,
  );
  const codes = isConv ? Int32Array.from(q.codes, (c) => c + 128) : q.codes;
  const signed = isConv ? false : q.signed;
  // Conv scales broadcast over NCHW: stored as [1, Cout, 1, …] straight away (no unused [Cout] copy).
  const nchw = [1, channels, ...dims.slice(2).map(() => 1)];
  const scaleShape = perChannel ? (isConv ? nchw : [channels]) : [];
  const wq = await codesTensor(ctx.backend, names.fresh(`${entry.name}_quantized`), dims, codes, signed, 8);
  const ws = floatTensor(names.fresh(`${entry.name}_scale`), scaleShape, q.scales);
  const wz = await codesTensor(
    ctx.backend,
    names.fresh(`${entry.name}_zero_point`),
    isConv ? [] : scaleShape,
    isConv ? Int32Array.of(128) : q.zeroPoints,
    signed,
    8,
  );
  const initializers = [wq, ws, wz];

  const graph = graphOfNode(allGraphs(model), node)!;
  const x = node.input[0]!;
  // One DynamicQuantizeLinear per activation and graph, shared by every op that reads it.
  const activations = (ctx.shared.get('dynamic-activations') ?? new Map<string, string[]>()) as Map<string, string[]>;
  ctx.shared.set('dynamic-activations', activations);
  const key = `${graph.name}\u0000${x}`;
  const newNodes: NodeProto[] = [];
  let act = activations.get(key);
  if (!act) {
    act = [names.fresh(`${x}_quantized`), names.fresh(`${x}_scale`), names.fresh(`${x}_zero_point`)];
    newNodes.push(makeNode('DynamicQuantizeLinear', [x], act, { name: names.fresh(`${x}_DynamicQuantizeLinear`) }));
    activations.set(key, act);
  }
  const label = node.name || entry.name;
  const y = node.output[0]!;
  const int32 = names.fresh(`${y}_int32`);
  const asFloat = names.fresh(`${y}_float`);
  const scale = names.fresh(`${label}_scale_product`);
  newNodes.push(
    isConv
      ? makeNode('ConvInteger', [act[0]!, wq.name, act[2]!, wz.name], [int32], {
          name: names.fresh(`${label}_ConvInteger`),
          attributes: node.attribute.filter((a) => CONV_ATTRIBUTES.includes(a.name)),
        })
      : makeNode('MatMulInteger', [act[0]!, wq.name, act[2]!, wz.name], [int32], { name: names.fresh(`${label}_MatMulInteger`) }),
    makeNode('Cast', [int32], [asFloat], { name: names.fresh(`${label}_cast`), attributes: [attr.int('to', DataType.FLOAT)] }),
    makeNode('Mul', [act[1]!, ws.name], [scale], { name: names.fresh(`${label}_scale_mul`) }),
  );
  const bias = isConv || isGemm ? node.input[2] : undefined;
  const scaled = bias ? names.fresh(`${y}_before_bias`) : y;
  newNodes.push(makeNode('Mul', [asFloat, scale], [scaled], { name: names.fresh(`${label}_rescale`) }));
  if (bias) {
    let biasInput = bias;
    if (isConv) {
      const biasEntry = constantNamed(catalog, bias);
      if (!biasEntry) throw new Error(`Conv bias ${bias} is not a stored tensor`);
      biasInput = names.fresh(`${bias}_nchw`);
      initializers.push(floatTensor(biasInput, nchw, await ctx.work.read(biasEntry)));
      // The [Cout] bias is replaced by its NCHW copy; drop it unless another node reads it.
      if (biasEntry.consumers.length === 1) removeStored(biasEntry);
    }
    newNodes.push(makeNode('Add', [scaled, biasInput], [y], { name: names.fresh(`${label}_bias`) }));
  }
  graph.node.splice(graph.node.indexOf(node), 1, ...newNodes);
  removeStored(entry);
  entry.graph.initializer.push(...initializers);

  // Weight error in the stored layout.
  let deq = q.dequantized;
  if (transB) {
    const [n, k] = entry.shape as [number, number];
    deq = new Float32Array(values.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) deq[i * k + j] = q.dequantized[j * n + i]!;
  }
  const notes = isConv ? ["uint8 weights, symmetric around 128 (onnxruntime's ConvInteger takes no int8 weights and one zero point)"] : [];
  return { bytesAfter: initializers.reduce((n, t) => n + t.rawData.byteLength, 0), dequantized: deq, signal: q.signal, noise: q.noise, notes };
};
