/** Host tensors ↔ onnxruntime tensors (the web and node packages share onnxruntime-common's Tensor). */
import type { EvalSession, Feeds, HostDtype, HostTensor } from '../core/eval/types';

interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}

/** What onnxruntime-web's and -node's sessions and output tensors have in common here. */
interface OrtOutput extends OrtTensorLike {
  location?: string;
  getData?(release?: boolean): Promise<unknown>;
}
interface OrtSessionLike<T> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, T>): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}

/** An onnxruntime session as an EvalSession: host tensors in, host tensors out (GPU outputs are downloaded). */
/** `serial` runs each call into the runtime on its own (onnxruntime-web's wasm cannot be re-entered); direct by default. */
export function wrapSession<T>(
  session: OrtSessionLike<T>,
  makeTensor: (type: HostDtype, data: HostTensor['data'], dims: number[]) => T,
  serial: <R>(call: () => Promise<R>) => Promise<R> = (call) => call(),
): EvalSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      return serial(async () => {
        const out = await session.run(toOrtFeeds(feeds, makeTensor));
        const host: Record<string, OrtTensorLike> = {};
        for (const [name, t] of Object.entries(out))
          host[name] = { type: t.type, dims: t.dims, data: !t.location || t.location === 'cpu' || !t.getData ? t.data : await t.getData(true) };
        return fromOrtOutputs(host);
      });
    },
    release: () => serial(() => session.release()),
  };
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
