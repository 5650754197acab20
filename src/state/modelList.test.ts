import { describe, expect, it, vi } from 'vitest';
import type { ModelSummary } from '../core/onnx/types';

// The model worker is a Web Worker (not available in vitest): opening answers with a summary named after the
// model file it was given, and records which files came together.
const opened: string[][] = [];
vi.mock('./bridge', () => ({
  modelWorker: {
    onCrash: () => () => true,
    open: (files: File[]) => {
      opened.push(files.map((f) => f.name));
      const main = files.find((f) => f.name.endsWith('.onnx'))!;
      return Promise.resolve({ fileName: main.name, weightBytes: 1e9, tensors: [], warnings: [] } as unknown as ModelSummary);
    },
    layerSparsity: () => Promise.resolve({ layers: [], backend: 'ts', ms: 1 }),
    backendStatus: () => Promise.resolve([]),
    cancelCompress: () => Promise.resolve(),
  },
}));

const { useStudio } = await import('./store');
const file = (name: string) => new File([new Uint8Array(4)], name);

describe('several models opened at once', () => {
  it('lists them, opens the first, switches with the recipe kept; one model alone clears the list', async () => {
    const s = useStudio.getState();
    s.setQuantize({ bits: 4 });
    await s.openFiles([file('a.onnx'), file('b.onnx'), file('b.onnx_data')]);
    expect(useStudio.getState().modelList.map((m) => m.files.map((f) => f.name))).toEqual([['a.onnx'], ['b.onnx', 'b.onnx_data']]);
    expect(useStudio.getState().activeModel).toBe(0);
    expect(useStudio.getState().fileName).toBe('a.onnx');
    expect(opened.at(-1)).toEqual(['a.onnx']);

    await useStudio.getState().switchModel(1);
    expect(useStudio.getState().fileName).toBe('b.onnx');
    expect(opened.at(-1)).toEqual(['b.onnx', 'b.onnx_data']);
    expect(useStudio.getState().activeModel).toBe(1);
    expect(useStudio.getState().quantize.bits).toBe(4);

    await useStudio.getState().openFiles([file('m.onnx'), file('m.onnx_data')]);
    expect(useStudio.getState().modelList).toEqual([]);
    expect(opened.at(-1)).toEqual(['m.onnx', 'm.onnx_data']);
  });
});
