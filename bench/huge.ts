/**
 * Outputs over 2 GB (issue 14, item 8): a generated fp32 MatMul chain of ~2.4 GB with its weights in an
 * external-data file is compressed by the CLI itself (`cstudio compress … --sparsity 0.1`; masks keep the file
 * dense, so the output stays over 2 GB and must be written as OUTPUT + OUTPUT_data). The written pair is loaded
 * in onnxruntime-node and compared with the original. Each step runs in its own process (time and max RSS from
 * /usr/bin/time), so the figures are the command's own.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { DataType } from '../src/core/tensor/dtypes';

const MB = 1e6;
const WIDTH = 4096;

function io(name: string) {
  const dim = (v: string | number) =>
    create(
      TensorShapeProto_DimensionSchema,
      typeof v === 'number' ? { value: { case: 'dimValue', value: BigInt(v) } } : { value: { case: 'dimParam', value: v } },
    );
  const tensorType = create(TypeProto_TensorSchema, { elemType: DataType.FLOAT, shape: create(TensorShapeProtoSchema, { dim: [dim('batch'), dim(WIDTH)] }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

/** Writes `dir/huge.onnx` + `dir/huge.onnx_data`: `layers` MatMuls of WIDTH×WIDTH fp32 weights, streamed to disk layer by layer. */
export function generateHugeModel(dir: string, layers: number): void {
  const dataName = 'huge.onnx_data';
  const dataPath = path.join(dir, dataName);
  writeFileSync(dataPath, new Uint8Array(0));
  let seed = 2024;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * (2 * Math.sqrt(3 / WIDTH));
  const kv = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  const initializer = [];
  const node = [];
  let offset = 0;
  let prev = 'x';
  const w = new Float32Array(WIDTH * WIDTH);
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < w.length; i++) w[i] = rand();
    appendFileSync(dataPath, new Uint8Array(w.buffer));
    initializer.push(
      create(TensorProtoSchema, {
        name: `w${l}`,
        dataType: DataType.FLOAT,
        dims: [BigInt(WIDTH), BigInt(WIDTH)],
        dataLocation: TensorProto_DataLocation.EXTERNAL,
        externalData: [kv('location', dataName), kv('offset', String(offset)), kv('length', String(w.byteLength))],
      }),
    );
    offset += w.byteLength;
    node.push(create(NodeProtoSchema, { name: `mm${l}`, opType: 'MatMul', input: [prev, `w${l}`], output: [`h${l}`] }));
    prev = `h${l}`;
  }
  const graph = create(GraphProtoSchema, { name: 'huge', node, initializer, input: [io('x')], output: [io(prev)] });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'compression-studio-bench',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph,
  });
  writeFileSync(path.join(dir, 'huge.onnx'), toBinary(ModelProtoSchema, model));
}

/**
 * Runs the original and the compressed pair on the same batch in onnxruntime-node. Prints the cosine of the two
 * outputs, the largest gap between onnxruntime's output of the pair and the same chain computed here from the
 * weights read back out of the written data file (so the pair is read as written), and the zero fraction found there.
 */
export async function compareInOrt(original: string, compressed: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const rows = 4;
  const input = Float32Array.from({ length: rows * WIDTH }, (_, i) => Math.sin(i * 0.37));
  const x = new ort.Tensor('float32', input, [rows, WIDTH]);
  const run = async (file: string) => {
    const session = await ort.InferenceSession.create(file);
    try {
      const out = await session.run({ x });
      return out[session.outputNames[0]!]!.data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const a = await run(original);
  const b = await run(compressed);

  // The same chain in double precision, from the weights as the written files hold them.
  const model = fromBinary(ModelProtoSchema, readFileSync(compressed));
  const files = new Map<string, number>();
  let h = Float64Array.from(input);
  let zeros = 0;
  let weights = 0;
  const w = new Float32Array(WIDTH * WIDTH);
  for (const n of model.graph!.node) {
    const t = model.graph!.initializer.find((i) => i.name === n.input[1])!;
    const get = (key: string) => t.externalData.find((e) => e.key === key)!.value;
    const file = path.join(path.dirname(compressed), get('location'));
    if (!files.has(file)) files.set(file, openSync(file, 'r'));
    readSync(files.get(file)!, new Uint8Array(w.buffer), 0, Number(get('length')), Number(get('offset')));
    for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
    weights += w.length;
    const next = new Float64Array(rows * WIDTH);
    for (let r = 0; r < rows; r++) {
      const out = next.subarray(r * WIDTH, (r + 1) * WIDTH);
      for (let k = 0; k < WIDTH; k++) {
        const v = h[r * WIDTH + k]!;
        const row = w.subarray(k * WIDTH, (k + 1) * WIDTH);
        for (let j = 0; j < WIDTH; j++) out[j]! += v * row[j]!;
      }
    }
    h = next;
  }
  for (const fd of files.values()) closeSync(fd);
  let dot = 0;
  let na = 0;
  let nb = 0;
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
    gap = Math.max(gap, Math.abs(b[i]! - h[i]!));
    scale = Math.max(scale, Math.abs(h[i]!));
  }
  process.stdout.write(JSON.stringify({ cosine: dot / Math.sqrt(na * nb), relativeGap: gap / scale, zeroFraction: zeros / weights }));
}

/** Runs `args` under /usr/bin/time: wall seconds and max RSS (bytes) of that process alone. */
function timed(args: string[], cwd: string): { seconds: number; maxRss: number; stdout: string } {
  const report = path.join(tmpdir(), `cstudio-time-${process.pid}.txt`);
  const stdout = execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', report, ...args], { cwd, maxBuffer: 64 << 20 }).toString();
  const [seconds, kb] = readFileSync(report, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  rmSync(report, { force: true });
  return { seconds: seconds!, maxRss: kb! * 1024, stdout };
}

export async function benchHugeOutput(printTable: (title: string, headers: string[], rows: string[][]) => void): Promise<void> {
  if (!existsSync('/usr/bin/time')) {
    console.log('\nOutputs over 2 GB: skipped (needs /usr/bin/time to measure the CLI process on its own)');
    return;
  }
  const layers = Number(process.env.BENCH_HUGE_LAYERS ?? 36);
  const dir = mkdtempSync(path.join(process.env.BENCH_HUGE_DIR ?? tmpdir(), 'cstudio-huge-'));
  const repo = path.resolve(import.meta.dirname, '..');
  const self = path.join(repo, 'scripts', 'bench.ts');
  const tsx = path.join(repo, 'node_modules', '.bin', 'tsx');
  try {
    const gen = timed([tsx, self, '--child', 'generate-huge', dir], repo);
    const input = statSync(path.join(dir, 'huge.onnx')).size + statSync(path.join(dir, 'huge.onnx_data')).size;
    const out = path.join(dir, 'huge.pruned.onnx');
    const cli = path.join(repo, 'bin', 'cstudio.mjs');
    const compress = timed([process.execPath, cli, 'compress', path.join(dir, 'huge.onnx'), '-o', out, '--sparsity', '0.1', '--json'], repo);
    const json = JSON.parse(compress.stdout) as { externalData?: string; outputBytes: number };
    const modelBytes = statSync(out).size;
    const dataBytes = json.externalData ? statSync(json.externalData).size : 0;
    const check = timed([tsx, self, '--child', 'ort-compare', path.join(dir, 'huge.onnx'), out], repo);
    const { cosine, relativeGap, zeroFraction } = JSON.parse(check.stdout) as { cosine: number; relativeGap: number; zeroFraction: number };
    printTable(
      `Outputs over 2 GB — ${layers} MatMuls of ${WIDTH}×${WIDTH} fp32 (${(input / MB).toFixed(0)} MB, external data), 10 % unstructured pruning with the CLI`,
      ['step', 's', 'max RSS MB', 'RSS / input'],
      [
        ['generate (streamed to disk)', gen.seconds.toFixed(1), (gen.maxRss / MB).toFixed(0), (gen.maxRss / input).toFixed(2) + '×'],
        ['cstudio compress → .onnx + .onnx_data', compress.seconds.toFixed(1), (compress.maxRss / MB).toFixed(0), (compress.maxRss / input).toFixed(2) + '×'],
        [
          'onnxruntime-node: original and output, 4 rows each; the chain recomputed from the written weights',
          check.seconds.toFixed(1),
          (check.maxRss / MB).toFixed(0),
          (check.maxRss / input).toFixed(2) + '×',
        ],
      ],
    );
    console.log(
      `written: ${path.basename(out)} ${(modelBytes / 1e3).toFixed(1)} kB + ${json.externalData ? path.basename(json.externalData) : '(no data file!)'} ` +
        `${(dataBytes / MB).toFixed(0)} MB (${(json.outputBytes / MB).toFixed(0)} MB in all), ${(zeroFraction * 100).toFixed(2)} % zeros in the data file. ` +
        `onnxruntime-node loads the pair and computes what was written: largest gap to the chain recomputed here ${relativeGap.toExponential(1)} of the largest output; ` +
        `cosine to the original ${cosine.toFixed(4)} (${layers} chained random layers, each losing its 10 % smallest weights). ` +
        `Targets: the data file beside the model, gap < 1e-4, 10 % zeros.`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
