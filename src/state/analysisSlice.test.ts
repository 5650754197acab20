import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TensorAnalysis } from '../core/analysis/analyze';
import type { ModelSummary, TensorInfo } from '../core/onnx/types';

/** Worker calls wait until the test resolves them, so their order can be scripted. */
const pending: { id: number; bins: number; resolve(v: TensorAnalysis | null): void; reject(e: Error): void }[] = [];

vi.mock('./bridge', () => ({
  modelWorker: {
    onCrash: () => () => true,
    analyzeTensor: (id: number, options: { bins: number }) => new Promise((resolve, reject) => pending.push({ id, bins: options.bins, resolve, reject })),
    layerSparsity: () => Promise.resolve({ layers: [], backend: 'ts', ms: 1 }),
    backendStatus: () => Promise.resolve([]),
  },
}));

const { useStudio } = await import('./store');

function info(id: number, over: Partial<TensorInfo> = {}): TensorInfo {
  return {
    id,
    name: `t${id}`,
    dtype: 'FLOAT',
    shape: [4, 4],
    elements: 16,
    bytes: 64,
    location: 'initializer',
    graph: 'main',
    consumers: ['MatMul'],
    consumerNodes: ['mm'],
    isWeight: true,
    multiplied: true,
    ...over,
  };
}

function result(id: number, bins: number): TensorAnalysis {
  return {
    tensorId: id,
    name: `t${id}`,
    dtype: 'FLOAT',
    shape: [4, 4],
    stats: {} as TensorAnalysis['stats'],
    histogram: { lo: 0, hi: 1, counts: new Array(bins).fill(0) },
    backend: 'ts',
    readMs: 1,
    computeMs: 1,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  pending.length = 0;
  useStudio.setState({
    summary: { tensors: [info(0), info(1), info(2, { dtype: 'STRING' }), info(3, { shape: [0], elements: 0 })] } as unknown as ModelSummary,
  });
  useStudio.getState().resetAnalysis();
});

describe('analysis slice', () => {
  it('drops a result that a newer selection superseded', async () => {
    const s = useStudio.getState();
    s.selectTensor(0);
    s.selectTensor(1);
    expect(pending.map((p) => p.id)).toEqual([0, 1]);
    pending[1]!.resolve(result(1, 128));
    await flush();
    pending[0]!.resolve(result(0, 128)); // late answer for the old selection
    await flush();
    const { analysis, selectedTensorId } = useStudio.getState();
    expect(selectedTensorId).toBe(1);
    expect(analysis.result?.tensorId).toBe(1);
    expect(analysis.loading).toBe(false);
  });

  it('keeps the previous chart while other bins load, then serves a repeat from the cache', async () => {
    const s = useStudio.getState();
    s.selectTensor(0);
    pending[0]!.resolve(result(0, 128));
    await flush();
    s.setBins(512);
    expect(useStudio.getState().analysis).toMatchObject({ loading: true, tensorId: 0 });
    expect(useStudio.getState().analysis.result?.histogram.counts).toHaveLength(128);
    pending[1]!.resolve(result(0, 512));
    await flush();
    expect(useStudio.getState().analysis.result?.histogram.counts).toHaveLength(512);

    s.setBins(128);
    expect(pending).toHaveLength(2); // no new worker call
    expect(useStudio.getState().analysis).toMatchObject({ cached: true, loading: false });
    expect(useStudio.getState().analysis.result?.histogram.counts).toHaveLength(128);
  });

  it('does not show an aborted worker request (AbortError) as an error', async () => {
    const s = useStudio.getState();
    s.selectTensor(0);
    pending[0]!.reject(Object.assign(new Error('Cancelled'), { name: 'AbortError' }));
    await flush();
    expect(useStudio.getState().analysis.error).toBeNull();
  });

  it('does not ask the worker about strings or empty tensors, and reports errors', async () => {
    const s = useStudio.getState();
    s.selectTensor(2);
    s.selectTensor(3);
    expect(pending).toHaveLength(0);
    s.selectTensor(0);
    pending[0]!.reject(new Error('boom'));
    await flush();
    expect(useStudio.getState().analysis.error).toBe('boom');
  });

  it('forgets everything when another model opens', async () => {
    const s = useStudio.getState();
    s.selectTensor(0);
    s.resetAnalysis();
    pending[0]!.resolve(result(0, 128));
    await flush();
    expect(useStudio.getState().selectedTensorId).toBeNull();
    expect(useStudio.getState().analysis.result).toBeNull();
  });
});
