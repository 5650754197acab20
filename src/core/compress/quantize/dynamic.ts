/**
 * Dynamic quantization, like ONNX Runtime's quantize_dynamic: weights stored as 8-bit integers, activations
 * quantized at run time by DynamicQuantizeLinear, products in MatMulInteger / ConvInteger (int32), then
 * rescaled to float. Conv weights are uint8 because onnxruntime has no ConvInteger kernel for int8 weights.
 */
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, type GraphProto, type NodeProto } from 'onnx-buf';
import { multipliedBy } from '../../analysis/channel-axis';
import type { TensorCatalog } from '../../onnx/catalog';
import { readTensorFloat32, type OpenedModel } from '../../onnx/open';
import { DataType } from '../../tensor/dtypes';
import { excludedBecause, matchesAny, type QuantizeRecipe } from '../../recipe';
import { referenceBackend } from '../../../kernels/ts/reference';
import { defaultOpset, opsetUpgradeBlockers } from './opset';
import { codesTensor, editableCopy, errorFromSums, quantizeWithBackend, finishReport, floatAttr, floatTensor, intAttr, intsAttr, uniqueName, type QuantizeOptions, type TensorReport } from './apply';

function graphOf(catalog: TensorCatalog, node: NodeProto): GraphProto {
  return catalog.graphs.find((g) => g.graph.node.includes(node))!.graph;
}

export async function quantizeDynamic(opened: OpenedModel, recipe: QuantizeRecipe, options: QuantizeOptions = {}) {
  const { model, catalog, names } = editableCopy(opened);
  const modelOpset = defaultOpset(model);
  const warnings: string[] = [];
  let opset = modelOpset;
  if (modelOpset < 11) {
    const blockers = opsetUpgradeBlockers(model, 11);
    if (blockers.length) throw new Error(`Dynamic quantization needs opset 11 (DynamicQuantizeLinear); this model is at ${modelOpset} and ${blockers.join(', ')} changed meaning since.`);
    opset = 11;
    warnings.push(`The model's opset ${modelOpset} moves to 11 for DynamicQuantizeLinear.`);
  }
  const reports: TensorReport[] = [];
  const quantizedActivations = new Map<string, [string, string, string]>(); // per graph+name
  const perChannel = recipe.granularity !== 'tensor';
  if (recipe.granularity === 'block') warnings.push('Dynamic quantization has no per-block form: weights use one scale per output channel.');

  for (const entry of catalog.entries) {
    const how = multipliedBy(entry, catalog);
    if (!how) continue;
    const node = entry.consumers.length === 1 ? entry.consumers[0]!.node : undefined;
    const base = { entryId: entry.id, name: entry.name, layer: how.node.name || how.op, op: how.op, elements: entry.elements, bytesBefore: entry.bytes, format: 'dynamic' as const, granularity: perChannel ? ('channel' as const) : ('tensor' as const), blockSize: 0, notes: [] as string[] };
    const skip = (reason: string) => reports.push({ ...base, action: 'skip', reason, bits: 32, storedBits: 32, bytesAfter: entry.bytes });
    if (entry.dataType !== DataType.FLOAT) { skip('not a float32 weight'); continue; }
    const excluded = excludedBecause(recipe.exclude, entry.name, base.layer);
    if (excluded) { skip(excluded); continue; }
    if (recipe.excludeOps.includes(how.op)) { skip(`${how.op} layers excluded`); continue; }
    if (!node || entry.consumers[0]!.inputIndex !== 1) { skip('dynamic quantization rewrites a MatMul/Gemm/Conv that is the weight\'s only reader'); continue; }
    const isConv = node.opType === 'Conv' && entry.shape.length >= 3;
    const isMatMul = node.opType === 'MatMul' && entry.shape.length === 2;
    const isGemm = node.opType === 'Gemm' && intAttr(node, 'transA', 0) === 0 && floatAttr(node, 'alpha', 1) === 1 && (!node.input[2] || floatAttr(node, 'beta', 1) === 1);
    if (!isConv && !isMatMul && !isGemm) { skip(`${node.opType} with these attributes has no integer form`); continue; }
    if (options.signal?.aborted) throw new DOMException('Quantization cancelled', 'AbortError');

    const values = await readTensorFloat32(opened, opened.catalog.entries[entry.id]!);
    const bits = Math.min(8, recipe.overrides.find((o) => matchesAny([o.match], entry.name, base.layer))?.bits ?? recipe.bits);
    // Weight layout the integer op reads: Conv [Cout, …] (channels axis 0); MatMulInteger [K, N] (channels axis 1).
    let weight = values;
    let dims = entry.shape;
    const transB = isGemm && intAttr(node, 'transB', 0) === 1;
    if (transB) {
      const [n, k] = entry.shape as [number, number];
      weight = new Float32Array(values.length);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) weight[j * n + i] = values[i * k + j]!;
      dims = [k, n];
    }
    const channels = isConv ? dims[0]! : dims[1]!;
    const view = isConv ? { outer: 1, axisLength: channels, inner: values.length / channels } : { outer: dims[0]!, axisLength: channels, inner: 1 };
    // onnxruntime's ConvInteger takes uint8 weights with one zero point: Conv weights are quantized symmetric
    // (per channel when asked: the per-channel scales live in the float rescale) and shifted by 128.
    const symmetric = recipe.symmetric || isConv;
    const q = await quantizeWithBackend(options.backend ?? referenceBackend, weight, perChannel ? view : { outer: 1, axisLength: weight.length, inner: 1 }, { bits, symmetric, granularity: perChannel ? 'channel' : 'tensor', blockSize: 0, range: recipe.range, percentile: recipe.percentile });
    let codes: ArrayLike<number> = q.codes;
    const zeroPoints: ArrayLike<number> = q.zeroPoints;
    let signed = q.signed;
    if (isConv) {
      codes = Int32Array.from(q.codes, (c) => c + 128);
      signed = false;
    }
    // Conv scales broadcast over NCHW: stored as [1, Cout, 1, …] straight away (no unused [Cout] copy).
    const sShape = perChannel ? (isConv ? [1, channels, ...dims.slice(2).map(() => 1)] : [channels]) : [];
    const wq = uniqueName(names, `${entry.name}_quantized`);
    const ws = uniqueName(names, `${entry.name}_scale`);
    const wz = uniqueName(names, `${entry.name}_zero_point`);
    const zpShape = isConv ? [] : sShape;
    const scaleInput = ws;
    const initializers = [codesTensor(wq, dims, codes, signed, 8), floatTensor(ws, sShape, q.scales), codesTensor(wz, zpShape, isConv ? [128] : zeroPoints, signed, 8)];

    const graph = graphOf(catalog, node);
    const x = node.input[0]!;
    const key = `${graph.name}\u0000${x}`;
    let act = quantizedActivations.get(key);
    const newNodes: NodeProto[] = [];
    if (!act) {
      act = [uniqueName(names, `${x}_quantized`), uniqueName(names, `${x}_scale`), uniqueName(names, `${x}_zero_point`)];
      newNodes.push(create(NodeProtoSchema, { name: uniqueName(names, `${x}_DynamicQuantizeLinear`), opType: 'DynamicQuantizeLinear', input: [x], output: act }));
      quantizedActivations.set(key, act);
    }
    const label = node.name || entry.name;
    const y = node.output[0]!;
    const int32 = uniqueName(names, `${y}_int32`);
    const asFloat = uniqueName(names, `${y}_float`);
    const scale = uniqueName(names, `${label}_scale_product`);
    newNodes.push(
      isConv
        ? create(NodeProtoSchema, { name: uniqueName(names, `${label}_ConvInteger`), opType: 'ConvInteger', input: [act[0], wq, act[2], wz], output: [int32], attribute: node.attribute.filter((a) => ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'].includes(a.name)) })
        : create(NodeProtoSchema, { name: uniqueName(names, `${label}_MatMulInteger`), opType: 'MatMulInteger', input: [act[0], wq, act[2], wz], output: [int32] }),
      create(NodeProtoSchema, { name: uniqueName(names, `${label}_cast`), opType: 'Cast', input: [int32], output: [asFloat], attribute: [intsAttr('to', DataType.FLOAT)] }),
    );
    newNodes.push(create(NodeProtoSchema, { name: uniqueName(names, `${label}_scale_mul`), opType: 'Mul', input: [act[1], scaleInput], output: [scale] }));
    const bias = isConv || isGemm ? node.input[2] : undefined;
    const scaled = bias ? uniqueName(names, `${y}_before_bias`) : y;
    newNodes.push(create(NodeProtoSchema, { name: uniqueName(names, `${label}_rescale`), opType: 'Mul', input: [asFloat, scale], output: [scaled] }));
    if (bias) {
      let biasInput = bias;
      if (isConv) {
        const biasEntry = catalog.entries.find((e) => e.name === bias);
        if (!biasEntry) throw new Error(`Conv bias ${bias} is not a stored tensor`);
        const b = await readTensorFloat32(opened, opened.catalog.entries[biasEntry.id]!);
        biasInput = uniqueName(names, `${bias}_nchw`);
        initializers.push(floatTensor(biasInput, [1, channels, ...dims.slice(2).map(() => 1)], b));
        // The [Cout] bias is replaced by its NCHW copy; drop it unless another node reads it.
        if (biasEntry.storage === 'initializer' && biasEntry.consumers.length === 1) biasEntry.graph.initializer.splice(biasEntry.graph.initializer.indexOf(biasEntry.tensor), 1);
      }
      newNodes.push(create(NodeProtoSchema, { name: uniqueName(names, `${label}_bias`), opType: 'Add', input: [scaled, biasInput], output: [y] }));
    }
    graph.node.splice(graph.node.indexOf(node), 1, ...newNodes);
    if (entry.storage === 'initializer') entry.graph.initializer.splice(entry.graph.initializer.indexOf(entry.tensor), 1);
    else if (entry.constantNode) entry.graph.node.splice(entry.graph.node.indexOf(entry.constantNode), 1);
    entry.graph.initializer.push(...initializers);

    // Weight error in the original layout.
    let deq = q.dequantized;
    if (transB) {
      const [n, k] = entry.shape as [number, number];
      deq = new Float32Array(values.length);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) deq[i * k + j] = q.dequantized[j * n + i]!;
    }
    options.dequantized?.set(entry.name, deq);
    const err = errorFromSums(q.signal, q.noise);
    reports.push({ ...base, action: 'quantize', bits, storedBits: 8, bytesAfter: initializers.reduce((n, t) => n + t.rawData.byteLength, 0), sqnrDb: err.sqnrDb, relError: err.relError, notes: isConv ? [`uint8 weights, symmetric around 128 (onnxruntime's ConvInteger takes no int8 weights and one zero point)`] : [] });
  }
  return finishReport(opened, model, catalog, reports, { opset, modelOpset, warnings });
}
