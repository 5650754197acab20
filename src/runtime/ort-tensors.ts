/** Host tensors ↔ onnxruntime tensors (the web and node packages share onnxruntime-common's Tensor). */
import type { Feeds, HostDtype, HostTensor } from '../core/eval/types';

interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}

const HOST_TYPES = new Set<string>(['float32', 'float16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'bool']);

export function toOrtFeeds<T>(feeds: Feeds, make: (type: HostDtype, data: HostTensor['data'], dims: number[]) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = make(t.dtype, t.data, t.dims);
  return out;
}

export function fromOrtOutputs(outputs: Record<string, OrtTensorLike>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(outputs)) {
    if (!HOST_TYPES.has(t.type)) throw new Error(`Output "${name}" has type ${t.type}, which the studio cannot compare.`);
    out[name] = { dtype: t.type as HostDtype, dims: [...t.dims], data: t.data as HostTensor['data'] };
  }
  return out;
}
