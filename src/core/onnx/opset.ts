import type { ModelProto } from 'onnx-buf';

/** The default-domain opset the model imports ('' or 'ai.onnx'), 0 when none. */
export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : 0;
}

/** The lowest IR version that allows a default-domain opset (the ONNX versioning table). */
export function irVersionFor(opset: number): number {
  const table: [opset: number, ir: number][] = [
    [25, 13],
    [24, 12],
    [23, 11],
    [21, 10],
    [19, 9],
    [15, 8],
    [12, 7],
    [11, 6],
    [10, 5],
    [9, 4],
  ];
  return table.find(([from]) => opset >= from)?.[1] ?? 3;
}
