/**
 * A one-node model (y = Identity(x), float32 [1]). Loading it once starts onnxruntime-web itself (compiling
 * its wasm, starting its threads), so the load time reported for the first real model is that model's own.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';

function floatVector(name: string) {
  const shape = create(TensorShapeProtoSchema, { dim: [create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: 1n } })] });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: 1, shape }) } }),
  });
}

export function identityModel(): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'warm_start',
    node: [create(NodeProtoSchema, { opType: 'Identity', input: ['x'], output: ['y'] })],
    input: [floatVector('x')],
    output: [floatVector('y')],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { irVersion: 8n, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })], graph }),
  );
}
