/** Builds one-graph models at a source opset and checks in onnxruntime-node that an upgrade keeps their outputs. */
import * as ort from 'onnxruntime-node';
import type { ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { DT, graph, model, seededValues, serialize, valueInfo, type Dim } from '../../../../test/fixtures/onnx-helpers';
import { decodeModel, encodeModel } from '../codec';
import { upgradeOpset, type UpgradeReport } from './index';

/** Outputs must agree within this fraction of the output's largest magnitude (exactly, for integer outputs). */
export const RELATIVE_TOLERANCE = 1e-6;

export interface InputSpec {
  name: string;
  dims: number[];
  /** float32 (default) from seeded values in [-scale, scale); int64 values must be given. */
  type?: 'float32' | 'int64';
  values?: number[];
  scale?: number;
  /** Declared shape when not `dims` (null: unknown dims; 'none': no shape at all). */
  declared?: Dim[] | 'none';
}

export interface OutputSpec {
  name: string;
  type?: DT;
  dims?: Dim[];
}

export interface CaseSpec {
  opset: number;
  nodes: NodeProto[];
  inputs: InputSpec[];
  outputs: (string | OutputSpec)[];
  initializers?: TensorProto[];
}

const ONNX_TYPE = { float32: DT.FLOAT, int64: DT.INT64 } as const;

/** A value info; without `dims` it declares the type only (no shape). */
export function declare(name: string, type: DT, dims?: Dim[]) {
  const info = valueInfo(name, type, dims ?? []);
  if (!dims && info.type?.value.case === 'tensorType') info.type.value.value.shape = undefined;
  return info;
}

export function buildCase(spec: CaseSpec): ModelProto {
  const inputs = spec.inputs.map((i) => declare(i.name, ONNX_TYPE[i.type ?? 'float32'], i.declared === 'none' ? undefined : (i.declared ?? i.dims)));
  const outputs = spec.outputs.map((o) => (typeof o === 'string' ? { name: o } : o)).map((o) => declare(o.name, o.type ?? DT.FLOAT, o.dims));
  const g = graph({ name: 'case', nodes: spec.nodes, inputs, outputs, initializers: spec.initializers });
  return model(g, { '': spec.opset });
}

export function feedsOf(spec: CaseSpec): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  spec.inputs.forEach((i, k) => {
    const n = i.dims.reduce((a, b) => a * b, 1);
    if (i.type === 'int64') feeds[i.name] = new ort.Tensor('int64', BigInt64Array.from(i.values ?? [], BigInt), i.dims);
    else feeds[i.name] = new ort.Tensor('float32', Float32Array.from(i.values ?? seededValues(100 + k, n, i.scale ?? 4)), i.dims);
  });
  return feeds;
}

const SESSION: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 4 };

export async function runModel(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, SESSION);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function numbers(t: ort.Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint | boolean>, Number);
}

/** Largest |a - b| over the outputs, and the tolerance it is held to. */
export function compareOutputs(
  expected: Record<string, ort.Tensor>,
  actual: Record<string, ort.Tensor>,
): { name: string; maxDiff: number; tolerance: number; dimsEqual: boolean }[] {
  return Object.keys(expected).map((name) => {
    const e = expected[name]!;
    const a = actual[name];
    if (!a) return { name, maxDiff: Infinity, tolerance: 0, dimsEqual: false };
    const ev = numbers(e);
    const av = numbers(a);
    const dimsEqual = e.dims.join() === a.dims.join() && e.type === a.type;
    let maxDiff = 0;
    let maxAbs = 0;
    ev.forEach((v, i) => {
      const d = Number.isNaN(v) && Number.isNaN(av[i]!) ? 0 : Math.abs(v - av[i]!);
      maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
      if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    });
    const exact = e.type !== 'float32' && e.type !== 'float64' && e.type !== 'float16';
    return { name, maxDiff, tolerance: exact ? 0 : RELATIVE_TOLERANCE * maxAbs, dimsEqual };
  });
}

export interface UpgradeRun {
  report: UpgradeReport;
  upgraded: ModelProto;
  diffs: ReturnType<typeof compareOutputs>;
}

/** Runs `source` as is, upgrades a decoded copy to `target`, runs it, and compares every graph output. */
export async function upgradeAndCompare(source: ModelProto, target: number, feeds: Record<string, ort.Tensor>): Promise<UpgradeRun> {
  const bytes = serialize(source);
  const expected = await runModel(bytes, feeds);
  const upgraded = decodeModel(bytes);
  const report = upgradeOpset(upgraded, target);
  const actual = await runModel(encodeModel(upgraded), feeds);
  return { report, upgraded, diffs: compareOutputs(expected, actual) };
}

/** Op types of a model's main graph, in order. */
export const opTypes = (m: ModelProto): string[] => m.graph!.node.map((n) => n.opType);
