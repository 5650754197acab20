/** The teacher–student report: identical models, a known injected error (closed-form SQNR), pruned shapes, the order. */
import { describe, expect, it } from 'vitest';
import { DT, attr, graph, model, node, serialize, tensor, valueInfo } from '../../../test/fixtures/onnx-helpers';
import { resNetStyle } from '../../../test/fixtures/channel-groups';
import { createNodeRuntime } from '../../runtime/ort-node';
import { openModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { DEFAULT_PRUNE } from '../recipe';
import { pruneModel } from '../compress/compress';
import type { EvalSample } from '../eval/types';
import { reportLayers, teacherStudentReport } from './report';

const runtime = createNodeRuntime({ threads: 1 });

/** x [1,4] → MatMul W1 [4,3] → Relu → Gemm W2 [2,3] (transB) → y. */
function mlp(w1: number[], w2: number[]): Uint8Array {
  return serialize(
    model(
      graph({
        name: 'mlp',
        nodes: [node('MatMul', 'mm', ['x', 'W1'], ['h']), node('Relu', 'relu', ['h'], ['r']), node('Gemm', 'fc', ['r', 'W2'], ['y'], [attr.int('transB', 1)])],
        inputs: [valueInfo('x', DT.FLOAT, [1, 4])],
        outputs: [valueInfo('y', DT.FLOAT, [1, 2])],
        initializers: [tensor({ name: 'W1', dtype: DT.FLOAT, dims: [4, 3], values: w1 }), tensor({ name: 'W2', dtype: DT.FLOAT, dims: [2, 3], values: w2 })],
      }),
      { '': 13 },
    ),
  );
}

const W1 = [0.5, -0.25, 1, 0.75, 0.5, -0.5, -1, 0.25, 0.125, 0.25, 1, -0.75];
const W2 = [1, -0.5, 0.25, 0.5, 0.75, -1];
const X = [
  [1, 0.5, -0.5, 2],
  [-1, 1, 0.25, 0.5],
  [0.5, -2, 1, 1],
];
const samples: EvalSample[] = X.map((x, i) => ({ id: `#${i}`, feeds: { x: { dtype: 'float32', dims: [1, 4], data: Float32Array.from(x) } } }));

describe('teacher–student report', () => {
  it('finds the compute layers with a stored weight', () => {
    expect(reportLayers(mlp(W1, W2))).toEqual(['mm', 'fc']);
  });

  it('an identical student: SQNR ∞ and cosine 1 on every layer', async () => {
    const bytes = mlp(W1, W2);
    const r = await teacherStudentReport(runtime, bytes, [{ id: 'rtn', label: 'round to nearest', model: bytes }], samples);
    expect(r.stages).toEqual([{ id: 'rtn', label: 'round to nearest' }]);
    expect(r.samples).toBe(3);
    expect(r.layers.map((l) => l.layer).sort()).toEqual(['fc', 'mm']);
    for (const l of r.layers) {
      expect(l.stages[0]!.sqnrDb).toBe(Infinity);
      expect(l.stages[0]!.cosine).toBeCloseTo(1, 12);
    }
  });

  it('a known error in one weight: the closed-form SQNR on that layer, stages in order, the worst layer first', async () => {
    const E = [0, 0, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // W1[0][2] += 0.25
    const bad = mlp(
      W1.map((w, i) => w + E[i]!),
      W2,
    );
    const half = mlp(
      W1.map((w, i) => w + E[i]! / 2),
      W2,
    );
    const r = await teacherStudentReport(
      runtime,
      mlp(W1, W2),
      [
        { id: 'rtn', label: 'round to nearest', model: bad },
        { id: 'fix', label: '+ fix', model: half },
      ],
      samples,
    );
    // Closed form on the MatMul: signal Σ(xW)², noise Σ(xE)² = Σ(0.25·x0)² in column 2 only (halved for the second stage).
    let signal = 0;
    let noise = 0;
    let dot = 0;
    let ss = 0;
    for (const x of X)
      for (let j = 0; j < 3; j++) {
        const t = x.reduce((s, xi, i) => s + xi * W1[i * 3 + j]!, 0);
        const e = j === 2 ? 0.25 * x[0]! : 0;
        signal += t * t;
        noise += e * e;
        dot += t * (t + e);
        ss += (t + e) ** 2;
      }
    const mm = r.layers.find((l) => l.layer === 'mm')!;
    expect(mm.op).toBe('MatMul');
    expect(mm.dims).toEqual([1, 3]);
    expect(mm.stages[0]!.sqnrDb).toBeCloseTo(10 * Math.log10(signal / noise), 4);
    expect(mm.stages[1]!.sqnrDb).toBeCloseTo(10 * Math.log10(signal / (noise / 4)), 4);
    expect(mm.stages[0]!.cosine).toBeCloseTo(dot / Math.sqrt(signal * ss), 6);
    // The Gemm's output carries the error on: both are finite, and the report is sorted by the last stage, worst first.
    const last = r.layers.map((l) => l.stages[1]!.sqnrDb!);
    expect(last).toEqual([...last].sort((a, b) => a - b));
    expect(last.every(Number.isFinite)).toBe(true);
  });

  it('channel pruning: layers whose shapes changed are listed with the reason, the others compared', async () => {
    const f = resNetStyle();
    const pruned = await pruneModel(await openModel([bytesSource('r.onnx', f.bytes)]), { ...DEFAULT_PRUNE, pattern: 'channel', sparsity: 0.3 });
    const feeds = (seed: number): EvalSample => ({ id: `#${seed}`, feeds: { image: { dtype: 'float32', dims: f.input.dims, data: f.feed(seed) } } });
    const r = await teacherStudentReport(runtime, f.bytes, [{ id: 'pruned', label: 'pruned', model: pruned.bytes }], [feeds(1), feeds(2)], {
      maxTensorsPerRun: 4,
    });
    const compared = r.layers.filter((l) => !l.reason);
    const skipped = r.layers.filter((l) => l.reason);
    expect(compared.length).toBeGreaterThan(0);
    expect(skipped.length).toBeGreaterThan(0);
    for (const l of skipped) expect(l.reason).toMatch(/shapes differ: original 1×\d+×\d+×\d+, compressed 1×\d+×\d+×\d+ \(channels pruned\)/);
    // The logits keep their shape: compared, and listed before the layers that could not be.
    expect(compared.map((l) => l.output)).toContain('logits');
    expect(r.layers.indexOf(skipped[0]!)).toBeGreaterThan(r.layers.indexOf(compared.at(-1)!));
    expect(r.peakBytes).toBeGreaterThan(0);
  });
});
