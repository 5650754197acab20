/**
 * A seeded mutation fuzzer for the opener and the pipeline. Seeds are real models and the synthetic fixtures;
 * each case mutates one (bytes or decoded structure), then opens it, summarizes it, reads a few tensors' statistics
 * and, for small models, compresses it and re-opens the result. Every case must end as a success or as one of the
 * studio's own errors (ModelInputError and its kin), within a time and memory bound.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  type GraphProto,
  type ModelProto,
  type TensorProto,
} from 'onnx-buf';
import { statsForEntry } from '../../src/core/analysis/analyze';
import { compressModel } from '../../src/core/compress/compress';
import { openModel, summarizeModel } from '../../src/core/onnx/open';
import { bytesSource, type SourceFile } from '../../src/core/onnx/source';
import { ModelInputError } from '../../src/core/onnx/types';
import { DEFAULT_QUANTIZE, RecipeError, type Recipe } from '../../src/core/recipe';
import { referenceBackend } from '../../src/kernels/ts/reference';

export interface FuzzSeed {
  name: string;
  bytes: Uint8Array;
  /** External-data files the model names. */
  sideFiles?: { name: string; bytes: Uint8Array }[];
}

export type Outcome = 'success' | 'clean-error' | 'crash';

export interface FuzzCase {
  index: number;
  seed: string;
  mutation: string;
  outcome: Outcome;
  /** The error's class and message (clean errors and crashes). */
  error?: string;
  ms: number;
  /** Growth of V8 heap + array buffers over the case, in bytes. */
  heapGrowth: number;
  stage: string;
}

export interface FuzzSummary {
  cases: number;
  outcomes: Record<Outcome, number>;
  byMutation: Record<string, Record<Outcome, number>>;
  slowest: FuzzCase;
  largestHeapGrowth: FuzzCase;
  peakRss: number;
  crashes: FuzzCase[];
}

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

// ---------------------------------------------------------------- byte-level mutations

function encodeVarint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** Offsets of the length varints of length-delimited fields, found by a shallow wire walk (top level and one below). */
function lengthFieldOffsets(bytes: Uint8Array, limit = 4096): { at: number; size: number; length: number }[] {
  const found: { at: number; size: number; length: number }[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let pos = start;
    const varint = (): number | undefined => {
      let result = 0;
      let mul = 1;
      for (let i = 0; i < 10; i++) {
        if (pos >= end) return undefined;
        const b = bytes[pos++]!;
        result += (b & 0x7f) * mul;
        if (b < 0x80) return result;
        mul *= 128;
      }
      return undefined;
    };
    while (pos < end && found.length < limit) {
      const key = varint();
      if (key === undefined) return;
      const wire = key & 7;
      if (wire === 0) {
        if (varint() === undefined) return;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const at = pos;
        const length = varint();
        if (length === undefined || pos + length > end) return;
        found.push({ at, size: pos - at, length });
        if (depth < 3 && length > 2) walk(pos, pos + length, depth + 1);
        pos += length;
      } else return;
    }
  };
  walk(0, bytes.length, 0);
  return found;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const byteMutations: Record<string, (b: Uint8Array, r: Rand) => Uint8Array> = {
  'byte-flips': (b, r) => {
    const out = b.slice();
    const n = int(r, 1, 16);
    for (let i = 0; i < n; i++) out[int(r, 0, out.length - 1)] ^= 1 << int(r, 0, 7);
    return out;
  },
  'random-bytes': (b, r) => {
    const out = b.slice();
    const at = int(r, 0, out.length - 1);
    for (let i = at; i < Math.min(out.length, at + int(r, 1, 64)); i++) out[i] = int(r, 0, 255);
    return out;
  },
  truncation: (b, r) => b.slice(0, int(r, 0, b.length - 1)),
  'chunk-duplication': (b, r) => {
    const at = int(r, 0, b.length - 1);
    const len = Math.min(int(r, 1, 256), b.length - at);
    return splice(b, int(r, 0, b.length), 0, b.subarray(at, at + len));
  },
  'length-corruption': (b, r) => {
    const fields = lengthFieldOffsets(b);
    if (fields.length === 0) return b;
    const f = pick(r, fields);
    const value = pick(r, [
      0n,
      1n,
      BigInt(f.length + 1),
      BigInt(f.length - 1),
      BigInt(b.length),
      2n ** 31n,
      2n ** 32n,
      2n ** 32n + BigInt(f.length),
      2n ** 63n,
      2n ** 64n - 1n,
    ]);
    return splice(b, f.at, f.size, encodeVarint(value < 0n ? 0n : value));
  },
  'varint-overlong': (b, r) => {
    const fields = lengthFieldOffsets(b);
    if (fields.length === 0) return b;
    const f = pick(r, fields);
    // 11 continuation bytes: longer than any varint may be.
    return splice(b, f.at, f.size, [...Array<number>(11).fill(0xff), 0x01]);
  },
};

// ---------------------------------------------------------------- structure-level mutations

function storedTensorsOf(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  const walk = (g: GraphProto) => {
    for (const t of g.initializer) out.push(t);
    for (const s of g.sparseInitializer) if (s.values) out.push(s.values);
    for (const n of g.node)
      for (const a of n.attribute) {
        if (a.t) out.push(a.t);
        if (a.g) walk(a.g);
        for (const sub of a.graphs) walk(sub);
      }
  };
  if (model.graph) walk(model.graph);
  return out;
}

const HUGE_DIMS = [-1n, -(2n ** 40n), 0n, 2n ** 15n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n];
const LOCATIONS = [
  '../../etc/passwd',
  '/etc/passwd',
  'sub/../../x.bin',
  'C:\\Windows\\win.ini',
  '',
  'ok.bin',
  'missing.bin',
  'ok.bin\0.txt',
  'file:///etc/passwd',
];

const modelMutations: Record<string, (m: ModelProto, r: Rand) => void> = {
  'dims-edit': (m, r) => {
    const ts = storedTensorsOf(m);
    if (!ts.length) return;
    const t = pick(r, ts);
    if (t.dims.length === 0 || r() < 0.3) t.dims.push(pick(r, HUGE_DIMS));
    else t.dims[int(r, 0, t.dims.length - 1)] = pick(r, HUGE_DIMS);
  },
  'dtype-edit': (m, r) => {
    const ts = storedTensorsOf(m);
    if (ts.length) pick(r, ts).dataType = pick(r, [0, int(r, 1, 26), 27, 40, 99, -1, 2 ** 31 - 1]);
  },
  'size-bomb': (m, r) => {
    const ts = storedTensorsOf(m);
    if (ts.length) pick(r, ts).dims = [BigInt(2 ** int(r, 10, 20)), BigInt(2 ** int(r, 10, 20))];
  },
  'sparse-bomb': (m, r) => {
    const g = m.graph!;
    const dims = [BigInt(2 ** int(r, 20, 40))];
    g.sparseInitializer.push(
      create(SparseTensorProtoSchema, {
        dims,
        values: create(TensorProtoSchema, { name: `sparse${g.sparseInitializer.length}`, dataType: 1, dims: [1n], floatData: [1] }),
        indices: create(TensorProtoSchema, { name: 'idx', dataType: 7, dims: [1n], int64Data: [pick(r, [0n, dims[0]! - 1n, dims[0]! + 5n, -1n])] }),
      }),
    );
  },
  'external-path': (m, r) => {
    const ts = storedTensorsOf(m).filter((t) => t.dataType === 1);
    if (!ts.length) return;
    const t = pick(r, ts);
    const kv = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    t.rawData = new Uint8Array(0);
    t.floatData = [];
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.externalData = [
      kv('location', pick(r, LOCATIONS)),
      kv('offset', pick(r, ['0', '8', '-1', 'abc', '99999999999999999999', String(2 ** 40)])),
      ...(r() < 0.7 ? [kv('length', pick(r, ['0', '16', '64', '-5', '1e9', '18446744073709551615']))] : []),
    ];
  },
  'deep-nesting': (m, r) => {
    const depth = pick(r, [2, 8, 40, 63, 64, 65, 120, 400]);
    let inner: GraphProto = create(GraphProtoSchema, {
      name: 'leaf',
      node: [create(NodeProtoSchema, { opType: 'Identity', input: ['cond'], output: ['y'] })],
      output: [],
    });
    for (let d = 0; d < depth; d++) {
      const ifNode = create(NodeProtoSchema, {
        opType: 'If',
        name: `if${d}`,
        input: ['cond'],
        output: ['y'],
        attribute: [
          create(AttributeProtoSchema, { name: 'then_branch', type: AttributeProto_AttributeType.GRAPH, g: inner }),
          // A fresh leaf on the other side: sharing `inner` would double the file at every level.
          create(AttributeProtoSchema, {
            name: 'else_branch',
            type: AttributeProto_AttributeType.GRAPH,
            g: create(GraphProtoSchema, { name: `e${d}`, output: [] }),
          }),
        ],
      });
      inner = create(GraphProtoSchema, { name: `g${d}`, node: [ifNode], output: [] });
    }
    m.graph!.node.push(...inner.node);
  },
  'dangling-names': (m, r) => {
    const nodes = m.graph!.node;
    if (!nodes.length) return;
    const n = pick(r, nodes);
    if (n.input.length) n.input[int(r, 0, n.input.length - 1)] = `ghost${int(r, 0, 9)}`;
    else n.output = [];
  },
  'name-escapes': (m, r) => {
    m.producerName = '\u001b]0;t\u0007\u001b[2J';
    const ts = storedTensorsOf(m);
    if (ts.length) pick(r, ts).name += '\u009b\n\u202e';
  },
};

export const MUTATIONS = [...Object.keys(byteMutations), ...Object.keys(modelMutations)];

function mutate(seed: FuzzSeed, mutation: string, r: Rand): Uint8Array {
  const byBytes = byteMutations[mutation];
  if (byBytes) return byBytes(seed.bytes, r);
  const model = fromBinary(ModelProtoSchema, seed.bytes);
  modelMutations[mutation]!(model, r);
  return toBinary(ModelProtoSchema, model);
}

// ---------------------------------------------------------------- running a case

// InvalidExportError is not among them: a model that opened cleanly must compress to a valid one.
const CLEAN = [ModelInputError, RecipeError];
const INT8: Recipe = { version: 1, quantize: DEFAULT_QUANTIZE };

/** Runs one mutated model through the pipeline; `stage` says how far it got. */
async function exercise(bytes: Uint8Array, seed: FuzzSeed, compressBelow: number, track: (stage: string) => void): Promise<void> {
  const side = new Map((seed.sideFiles ?? []).map((f) => [f.name, bytesSource(f.name, f.bytes)]));
  side.set('ok.bin', bytesSource('ok.bin', new Uint8Array(4096)));
  const resolveDataFile = async (location: string): Promise<SourceFile | undefined> => side.get(location);
  track('open');
  const opened = await openModel([bytesSource('fuzz.onnx', bytes)], { resolveDataFile });
  track('summary');
  summarizeModel(opened);
  track('stats');
  for (const entry of opened.catalog.entries.slice(0, 6)) await statsForEntry(opened, entry, referenceBackend);
  if (bytes.byteLength > compressBelow) return;
  track('compress');
  const result = await compressModel(opened, INT8);
  track('reopen');
  await openModel([bytesSource('out.onnx', result.bytes)]);
}

export interface FuzzOptions {
  seeds: FuzzSeed[];
  cases: number;
  seed?: number;
  /** Compress only models smaller than this (bytes). */
  compressBelow?: number;
  onStart?: (index: number, seed: string, mutation: string) => void;
  onCase?: (c: FuzzCase) => void;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const r = rng(options.seed ?? 1);
  const empty = (): Record<Outcome, number> => ({ success: 0, 'clean-error': 0, crash: 0 });
  const outcomes = empty();
  const byMutation: Record<string, Record<Outcome, number>> = {};
  let slowest: FuzzCase | undefined;
  let largest: FuzzCase | undefined;
  let peakRss = 0;
  const crashes: FuzzCase[] = [];
  for (let index = 0; index < options.cases; index++) {
    const seed = pick(r, options.seeds);
    const mutation = pick(r, MUTATIONS);
    const caseRand = rng(Math.floor(r() * 2 ** 32));
    options.onStart?.(index, seed.name, mutation);
    const memory = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = memory();
    const started = performance.now();
    let stage = 'mutate';
    let outcome: Outcome = 'success';
    let error: string | undefined;
    try {
      const bytes = mutate(seed, mutation, caseRand);
      await exercise(bytes, seed, options.compressBelow ?? 256 << 10, (s) => (stage = s));
    } catch (err) {
      const clean = CLEAN.some((k) => err instanceof k);
      outcome = clean ? 'clean-error' : 'crash';
      error = `${err instanceof Error ? err.name : typeof err}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}${clean ? '' : `\n${(err as Error)?.stack ?? ''}`}`;
    }
    const c: FuzzCase = { index, seed: seed.name, mutation, outcome, error, ms: performance.now() - started, heapGrowth: memory() - before, stage };
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    outcomes[outcome]++;
    (byMutation[mutation] ??= empty())[outcome]++;
    if (!slowest || c.ms > slowest.ms) slowest = c;
    if (!largest || c.heapGrowth > largest.heapGrowth) largest = c;
    if (outcome === 'crash') crashes.push(c);
    options.onCase?.(c);
  }
  return { cases: options.cases, outcomes, byMutation, slowest: slowest!, largestHeapGrowth: largest!, peakRss, crashes };
}
