/**
 * com.microsoft.MatMulNBits replaces a MatMul/Gemm whose weight B it reads: B as uint8 [N, blocks, blockSize/2]
 * (4-bit codes, low nibble first along K), scales [N·blocks] in the op's dtype (float32 or float16), zero points
 * packed two per byte when asymmetric. A Gemm's bias becomes an Add.
 */
import { create } from '@bufbuild/protobuf';
import { OperatorSetIdProtoSchema, TensorProtoSchema, type ModelProto } from 'onnx-buf';
import { attr, getInt, graphOfNode, allGraphs, makeNode } from '../../../onnx/graph-edit';
import type { CatalogEntry } from '../../../onnx/catalog';
import { DataType } from '../../../tensor/dtypes';
import { specFor } from '../plan';
import { quantizeWithBackend, roundedTo, scaleTensor } from './common';
import type { Emitter } from './types';

export function ensureMicrosoftDomain(model: ModelProto): void {
  if (!model.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
}

/** Drops a stored tensor whose op was rewritten to read something else. */
export function removeStored(entry: CatalogEntry): void {
  if (entry.storage === 'initializer') entry.graph.initializer.splice(entry.graph.initializer.indexOf(entry.tensor), 1);
  else if (entry.storage === 'sparse-initializer') entry.graph.sparseInitializer.splice(entry.graph.sparseInitializer.indexOf(entry.sparse!), 1);
  else if (entry.constantNode) entry.graph.node.splice(entry.graph.node.indexOf(entry.constantNode), 1);
}

export const emitMatMulNBits: Emitter = async (ctx, entry, plan, values, rangeFrom) => {
  const { names, model } = ctx.work;
  const node = entry.consumers[0]!.node;
  const transposed = node.opType === 'Gemm' && getInt(node, 'transB', 0) === 1;
  const [d0, d1] = entry.shape as [number, number];
  const [K, N] = transposed ? [d1, d0] : [d0, d1];
  const B = plan.blockSize;
  const blocks = Math.ceil(K / B);
  // Row-major [N, K] copy (the layout MatMulNBits quantizes along).
  const nk = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) nk[n * K + k] = transposed ? values[n * K + k]! : values[k * N + n]!;
  let nkRange: Float32Array | undefined;
  if (rangeFrom) {
    nkRange = new Float32Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) nkRange[n * K + k] = transposed ? rangeFrom[n * K + k]! : rangeFrom[k * N + n]!;
  }
  const q = await quantizeWithBackend(ctx.backend, nk, { outer: N, axisLength: K, inner: 1 }, specFor(ctx.recipe, plan), nkRange);
  const offset = q.signed ? 8 : 0; // signed codes −7…7 are stored unsigned around the default zero point 8
  const packed = new Uint8Array(N * blocks * (B / 2));
  for (let n = 0; n < N; n++) {
    for (let blk = 0; blk < blocks; blk++) {
      const zpCode = q.signed ? 8 : q.zeroPoints[n * blocks + blk]!;
      for (let j = 0; j < B; j++) {
        const k = blk * B + j;
        const code = k < K ? q.codes[n * K + k]! + offset : zpCode; // padding decodes to 0
        packed[(n * blocks + blk) * (B / 2) + (j >> 1)]! |= (code & 0xf) << ((j & 1) * 4);
      }
    }
  }
  const initializers = [
    create(TensorProtoSchema, {
      name: names.fresh(`${entry.name}_Q4`),
      dataType: DataType.UINT8,
      dims: [BigInt(N), BigInt(blocks), BigInt(B / 2)],
      rawData: packed,
    }),
    scaleTensor(names.fresh(`${entry.name}_scales`), [N * blocks], q.scales, plan.scaleType),
  ];
  const inputs = [node.input[0]!, initializers[0]!.name, initializers[1]!.name];
  if (!q.signed) {
    const perRow = Math.ceil(blocks / 2);
    const zp = new Uint8Array(N * perRow);
    for (let n = 0; n < N; n++)
      for (let blk = 0; blk < blocks; blk++) zp[n * perRow + (blk >> 1)]! |= (q.zeroPoints[n * blocks + blk]! & 0xf) << ((blk & 1) * 4);
    initializers.push(
      create(TensorProtoSchema, { name: names.fresh(`${entry.name}_zero_points`), dataType: DataType.UINT8, dims: [BigInt(zp.length)], rawData: zp }),
    );
    inputs.push(initializers[2]!.name);
  }
  const graph = graphOfNode(allGraphs(model), node)!;
  const bias = node.opType === 'Gemm' ? node.input[2] : undefined;
  const output = node.output[0]!;
  const label = node.name || entry.name;
  const mmOut = bias ? names.fresh(`${output}_before_bias`) : output;
  const replacement = [
    makeNode('MatMulNBits', inputs, [mmOut], {
      name: names.fresh(`${label}_MatMulNBits`),
      domain: 'com.microsoft',
      attributes: [attr.int('K', K), attr.int('N', N), attr.int('bits', 4), attr.int('block_size', B)],
    }),
  ];
  if (bias) replacement.push(makeNode('Add', [mmOut, bias], [output], { name: names.fresh(`${label}_bias`) }));
  graph.node.splice(graph.node.indexOf(node), 1, ...replacement);
  // The float weight is gone: drop its initializer or Constant node.
  removeStored(entry);
  entry.graph.initializer.push(...initializers);
  ensureMicrosoftDomain(model);
  // Dequantized values back in the stored layout, for the error.
  const deq = new Float32Array(values.length);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) deq[transposed ? n * K + k : k * N + n] = q.dequantized[n * K + k]!;
  const rounded = roundedTo(plan.scaleType === 'float16' ? DataType.FLOAT16 : undefined, { dequantized: deq, signal: q.signal, noise: q.noise }, values);
  return { bytesAfter: initializers.reduce((n, t) => n + t.rawData.byteLength, 0), ...rounded };
};
