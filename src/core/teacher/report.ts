/**
 * The teacher–student report: per compressed layer, how closely the student (the compressed model) reproduces the
 * teacher's (the original's) layer output on calibration data — SQNR in dB and cosine — for each stage of the
 * compression (round to nearest or pruned, then each recovery step: refit, GPTQ, bias correction), worst layer first.
 *
 * Both models run in onnxruntime with the layer outputs exposed as extra graph outputs, on the same inputs; sums are
 * accumulated sample by sample (Σt², Σs², Σ(t−s)², Σts), so memory stays bounded by one sample's exposed tensors of
 * the teacher and the stages (or a share of them: `maxTensorsPerRun` splits the layers over several passes).
 *
 * Student layers are matched to teacher layers by output name: quantization keeps the names (weights go through
 * DequantizeLinear; with static int8 the value downstream layers see is the Q→DQ pair after the layer, and a
 * BatchNorm folded into its Conv is compared at the BatchNorm's output). Channel pruning changes shapes: a layer is
 * compared only where the shapes match, and the others are listed with the reason.
 */
import type { GraphProto, NodeProto } from 'onnx-buf';
import { decodeModel } from '../onnx/codec';
import { nodeLabel } from '../onnx/catalog';
import { runSample } from '../eval/evaluate';
import { tensorValues } from '../eval/data/tensor';
import { modelFiles, type EvalBackend, type EvalModel, type EvalRuntime, type EvalSample, type EvalSession, type HostTensor } from '../eval/types';
import { withExtraOutputs } from './capture';
import type { Recipe } from '../recipe';
import type { PruneReport } from '../compress/prune/apply';
import type { QuantReport } from '../compress/quantize/report';

/** Ops whose weights the studio compresses: the layers the report looks at by default. */
export const REPORT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface ReportStageInput {
  /** 'rtn', 'pruned', 'refit', 'gptq', 'bias-correction' (any id; shown in order). */
  id: string;
  /** Plain words: "round to nearest", "+ GPTQ". */
  label: string;
  model: EvalModel;
}

export interface StageComparison {
  /** 10·log10(Σt² / Σ(t−s)²) over all samples and elements; Infinity when identical; null when not compared. */
  sqnrDb: number | null;
  /** Σts / √(Σt²·Σs²); null when not compared. */
  cosine: number | null;
  /** Why this stage could not be compared (its output is missing or has another shape). */
  reason?: string;
}

export interface LayerComparison {
  /** The teacher's node (its name, or "Op#index" when unnamed) and op. */
  layer: string;
  op: string;
  /** The value compared (the layer's output, or the BatchNorm/Q→DQ output right after it, see `at`). */
  output: string;
  /** Where it is compared when not at the layer's own output. */
  at?: string;
  /** The teacher's output shape on the first sample. */
  dims?: number[];
  /** One per stage, in the stages' order. */
  stages: StageComparison[];
  /** Set when no stage could be compared. */
  reason?: string;
}

export interface TeacherStudentReport {
  stages: { id: string; label: string }[];
  /** Compared layers worst first (by the last stage's SQNR), then the layers that could not be compared. */
  layers: LayerComparison[];
  samples: number;
  /** Largest bytes of exposed values held at once (one sample's tensors of the teacher and all stages). */
  peakBytes: number;
}

export interface ReportOptions {
  /** Teacher node names ("Op#index" when unnamed, or first output names) to compare (an empty list: the default); default: every Conv/ConvTranspose/Gemm/MatMul with a constant weight. */
  layers?: readonly string[];
  backend?: EvalBackend;
  maxTensorsPerRun?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** A node as the studio's reports name it: its name, or "Op#index" in its graph. */
const nodeKey = (n: NodeProto, graph: GraphProto) => nodeLabel(n, graph.node.indexOf(n));

function constantNames(graph: GraphProto): Set<string> {
  const names = new Set(graph.initializer.map((t) => t.name));
  for (const n of graph.node) if (n.opType === 'Constant' && n.output[0]) names.add(n.output[0]);
  return names;
}

/** The layers of the teacher the report compares by default: compute ops with a stored weight (input 1, or 0 for MatMul). */
export function reportLayers(teacherBytes: Uint8Array): string[] {
  const graph = decodeModel(teacherBytes).graph!;
  const constants = constantNames(graph);
  return graph.node
    .filter((n) => REPORT_OPS.has(n.opType) && !n.domain && (constants.has(n.input[1] ?? '') || (n.opType === 'MatMul' && constants.has(n.input[0] ?? ''))))
    .map((n) => nodeKey(n, graph));
}

interface Target {
  layer: string;
  op: string;
  /** The layer's own output in the teacher. */
  own: string;
  /** Per stage: the teacher's and the student's value to compare (the same name, or the student's renamed output), or why none. */
  student: ({ teacher: string; name: string } | { reason: string })[];
}

function readersOf(graph: GraphProto): Map<string, NodeProto[]> {
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

/** The value downstream layers of the student see in place of `name`: past a Q→DQ pair when that is all that reads it. */
function pastQdq(name: string, readers: Map<string, NodeProto[]>): string {
  const r = readers.get(name) ?? [];
  if (r.length !== 1 || r[0]!.opType !== 'QuantizeLinear') return name;
  const dq = readers.get(r[0]!.output[0]!) ?? [];
  if (dq.length !== 1 || dq[0]!.opType !== 'DequantizeLinear') return name;
  return dq[0]!.output[0]!;
}

/**
 * Where each teacher layer is compared in each student: the student node with the same output (or, when static
 * int8 renamed it, the same node name and op); its value past a Q→DQ pair; compared with the teacher's value of
 * that name when the teacher has one (static int8 absorbs a Relu, folds a BatchNorm: the DQ output takes the name
 * of the value after them), else with the layer's own output.
 */
function targets(teacher: GraphProto, students: GraphProto[], layers: readonly string[]): Target[] {
  const want = new Set(layers);
  const tValues = new Set([...teacher.input.map((i) => i.name), ...teacher.node.flatMap((n) => n.output)]);
  const out: Target[] = [];
  const studentIndex = students.map((g) => ({
    byOutput: new Map(g.node.flatMap((n) => n.output.filter(Boolean).map((o) => [o, n] as const))),
    byName: new Map(g.node.filter((n) => n.name).map((n) => [n.name, n] as const)),
    readers: readersOf(g),
  }));
  for (const n of teacher.node) {
    const key = nodeKey(n, teacher);
    if (!want.has(key) && !want.has(n.output[0] ?? '')) continue;
    const own = n.output[0]!;
    const student = studentIndex.map((ix) => {
      const named = n.name ? ix.byName.get(n.name) : undefined;
      const match = ix.byOutput.get(own) ?? (named && named.opType === n.opType ? named : undefined);
      if (!match) return { reason: `the compressed model does not compute ${own} (the layer was removed, fused or renamed)` };
      const value = pastQdq(match.output[0]!, ix.readers);
      return { teacher: tValues.has(value) ? value : own, name: value };
    });
    out.push({ layer: key, op: n.opType, own, student });
  }
  return out;
}

/** "after relu1 (Relu)" when a stage compares a value past the layer's own output. */
function placeOf(teacher: GraphProto, layerOutput: string, value: string): string | undefined {
  if (value === layerOutput) return undefined;
  const producer = teacher.node.find((n) => n.output.includes(value));
  return producer ? `compared after ${nodeKey(producer, teacher)} (${producer.opType}): the compressed model merged it into the layer` : undefined;
}

interface Sums {
  tt: number;
  ss: number;
  ts: number;
  dd: number;
  reason?: string;
}

/** Compares the stages' layer outputs with the teacher's on the samples (see the module comment). */
export async function teacherStudentReport(
  runtime: EvalRuntime,
  teacher: EvalModel,
  stages: readonly ReportStageInput[],
  samples: readonly EvalSample[],
  options: ReportOptions = {},
): Promise<TeacherStudentReport> {
  const tFiles = modelFiles(teacher);
  const tGraph = decodeModel(tFiles.bytes).graph!;
  const sFiles = stages.map((s) => modelFiles(s.model));
  const sGraphs = sFiles.map((f) => decodeModel(f.bytes).graph!);
  const defaults = reportLayers(tFiles.bytes);
  const chosen = options.layers?.length ? defaults.filter((l) => options.layers!.includes(l)) : defaults;
  const all = targets(tGraph, sGraphs, chosen.length ? chosen : defaults);
  const sums: Sums[][] = all.map((t) =>
    t.student.map((s) => ('reason' in s ? { tt: 0, ss: 0, ts: 0, dd: 0, reason: s.reason } : { tt: 0, ss: 0, ts: 0, dd: 0 })),
  );
  const dims: (number[] | undefined)[] = all.map(() => undefined);
  const per = Math.max(1, options.maxTensorsPerRun ?? all.length);
  const chunks: number[][] = [];
  for (let i = 0; i < all.length; i += per) chunks.push(all.slice(i, i + per).map((_, k) => i + k));
  const total = chunks.length * samples.length;
  let done = 0;
  let peakBytes = 0;
  const backend = options.backend ?? 'cpu';
  for (const chunk of chunks) {
    options.signal?.throwIfAborted();
    const sessions: EvalSession[] = [];
    try {
      sessions.push(
        (
          await runtime.createSession(
            {
              ...tFiles,
              bytes: withExtraOutputs(tFiles.bytes, [...new Set(chunk.flatMap((i) => all[i]!.student.flatMap((st) => ('teacher' in st ? [st.teacher] : []))))]),
            },
            backend,
          )
        ).session,
      );
      for (const [s, files] of sFiles.entries()) {
        const names = chunk.flatMap((i) => {
          const st = all[i]!.student[s]!;
          return 'name' in st ? [st.name] : [];
        });
        sessions.push((await runtime.createSession({ ...files, bytes: withExtraOutputs(files.bytes, names) }, backend)).session);
      }
      for (const sample of samples) {
        options.signal?.throwIfAborted();
        const tOut = await runSample(sessions[0]!, sample, 'original');
        const sOut: Record<string, HostTensor>[] = [];
        for (const session of sessions.slice(1)) sOut.push(await runSample(session, sample, 'compressed'));
        let bytes = 0;
        for (const o of [tOut, ...sOut]) for (const t of Object.values(o)) bytes += t.data.byteLength;
        peakBytes = Math.max(peakBytes, bytes);
        for (const i of chunk) {
          const target = all[i]!;
          target.student.forEach((st, s) => {
            const acc = sums[i]![s]!;
            if (acc.reason || !('name' in st)) return;
            const t = tOut[st.teacher];
            if (!t) {
              acc.reason = `the original model's ${st.teacher} could not be read (not a main-graph value)`;
              return;
            }
            if (s === target.student.length - 1 || !dims[i]) dims[i] = [...t.dims];
            const tv = tensorValues(t);
            const sv = sOut[s]![st.name];
            if (!sv) {
              acc.reason = `the compressed model's ${st.name} could not be read`;
              return;
            }
            if (sv.dims.length !== t.dims.length || sv.dims.some((d, k) => d !== t.dims[k])) {
              acc.reason = `shapes differ: original ${t.dims.join('×')}, compressed ${sv.dims.join('×')}${sv.dims.length === t.dims.length ? ' (channels pruned)' : ''}`;
              return;
            }
            const values = tensorValues(sv);
            let { tt, ss, ts, dd } = acc;
            for (let k = 0; k < tv.length; k++) {
              const a = tv[k]!;
              const b = values[k]!;
              tt += a * a;
              ss += b * b;
              ts += a * b;
              dd += (a - b) * (a - b);
            }
            Object.assign(acc, { tt, ss, ts, dd });
          });
        }
        options.onProgress?.(++done, total);
        await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      for (const s of sessions) await s.release();
    }
  }
  const layers: LayerComparison[] = all.map((target, i) => {
    const st: StageComparison[] = sums[i]!.map((a) =>
      a.reason
        ? { sqnrDb: null, cosine: null, reason: a.reason }
        : {
            sqnrDb: a.dd === 0 ? Infinity : a.tt === 0 ? -Infinity : 10 * Math.log10(a.tt / a.dd),
            cosine: a.tt === 0 && a.ss === 0 ? 1 : a.tt === 0 || a.ss === 0 ? 0 : a.ts / Math.sqrt(a.tt * a.ss),
          },
    );
    const reason = st.every((s) => s.reason) ? st[st.length - 1]?.reason : undefined;
    const last = [...target.student].reverse().find((x) => 'teacher' in x);
    const output = last && 'teacher' in last ? last.teacher : target.own;
    const at = placeOf(tGraph, target.own, output);
    return {
      layer: target.layer,
      op: target.op,
      output,
      ...(at ? { at } : {}),
      ...(dims[i] ? { dims: dims[i] } : {}),
      stages: st,
      ...(reason ? { reason } : {}),
    };
  });
  return { stages: stages.map((s) => ({ id: s.id, label: s.label })), layers: sortWorstFirst(layers), samples: samples.length, peakBytes };
}

/** The SQNR a layer is ranked by: its last compared stage's. */
export function finalSqnr(l: LayerComparison): number | null {
  for (let i = l.stages.length - 1; i >= 0; i--) if (l.stages[i]!.sqnrDb !== null) return l.stages[i]!.sqnrDb;
  return null;
}

/** Compared layers by SQNR ascending (the layer that hurts most first), then the others in graph order. */
export function sortWorstFirst(layers: LayerComparison[]): LayerComparison[] {
  const compared = layers.filter((l) => finalSqnr(l) !== null).sort((a, b) => finalSqnr(a)! - finalSqnr(b)!);
  return [...compared, ...layers.filter((l) => finalSqnr(l) === null)];
}

/** "12.3 dB", "∞ dB" (identical), "–" (not compared). */
export function formatDb(db: number | null): string {
  if (db === null) return '–';
  if (db === Infinity) return '∞ dB';
  if (db === -Infinity) return '−∞ dB';
  return `${db.toFixed(1)} dB`;
}

/** One stage of the report: the recipe compressed with the recovery steps up to this one. */
export interface StagePlan {
  id: 'rtn' | 'pruned' | 'refit' | 'gptq' | 'bias-correction' | 'sparsegpt';
  label: string;
  recipe: Recipe;
}

/**
 * The stages a recipe's report compares, in order: round to nearest (or pruned), then each recovery step the recipe
 * asks for — the least-squares refit (channel pruning), GPTQ, bias correction (static int8) — each on top of the last.
 * The last stage is the recipe itself.
 */
export function reportStages(recipe: Recipe): StagePlan[] {
  const q = recipe.quantize;
  const p = recipe.prune;
  // SparseGPT with integer weights prunes and quantizes in one pass (compress.ts): compared with magnitude pruning and
  // round to nearest, the two steps it replaces.
  if (p?.method === 'sparsegpt' && p.pattern !== 'channel' && q && q.format !== 'fp16' && q.format !== 'static')
    return [
      {
        id: 'rtn',
        label: 'magnitude pruned + round to nearest',
        recipe: { ...recipe, prune: { ...p, method: 'magnitude' }, quantize: { ...q, ...(q.gptq ? { gptq: { ...q.gptq, enabled: false } } : {}) } },
      },
      { id: 'sparsegpt', label: '+ SparseGPT: pruned and quantized in one pass', recipe },
    ];
  const refit = p?.refit === true && p.pattern === 'channel';
  const gptq = q?.gptq?.enabled === true;
  const bias = q?.format === 'static' && q.biasCorrection === true;
  const with_ = (r: boolean, g: boolean, b: boolean): Recipe => ({
    ...recipe,
    ...(p ? { prune: { ...p, refit: r } } : {}),
    ...(q ? { quantize: { ...q, ...(q.gptq ? { gptq: { ...q.gptq, enabled: g } } : {}), biasCorrection: b } } : {}),
  });
  const stages: StagePlan[] = [
    { id: q ? 'rtn' : 'pruned', label: p ? (q ? 'pruned + round to nearest' : 'pruned') : 'round to nearest', recipe: with_(false, false, false) },
  ];
  if (refit) stages.push({ id: 'refit', label: '+ refit', recipe: with_(true, false, false) });
  if (gptq) stages.push({ id: 'gptq', label: '+ GPTQ', recipe: with_(refit, true, false) });
  if (bias) stages.push({ id: 'bias-correction', label: '+ bias correction', recipe: with_(refit, gptq, true) });
  return stages;
}

/** The layers a compression changed (node labels): quantized weights' layers, pruned layers, members of pruned channel groups. */
export function changedLayers(prune: PruneReport | undefined, quantize: QuantReport | undefined): string[] {
  return [
    ...new Set([
      ...(quantize?.tensors.filter((t) => t.action === 'quantize').map((t) => t.layer) ?? []),
      ...(prune?.layers.filter((l) => l.action === 'prune').map((l) => l.layer) ?? []),
      ...(prune?.groups?.filter((g) => g.action === 'prune').flatMap((g) => g.members.map((m) => m.layer)) ?? []),
    ]),
  ];
}
