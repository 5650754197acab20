import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../onnx/codec';
import { openModel } from '../../onnx/open';
import { bytesSource } from '../../onnx/source';
import { DEFAULT_QUANTIZE } from '../../recipe';
import { quantizeModel } from '../compress';

describe('dynamic quantization writes no dead tensors', () => {
  it('every initializer of the demo CNN quantized dynamically is read by a node (per channel and per tensor)', async () => {
    const bytes = new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'));
    const opened = await openModel([bytesSource('mnist-cnn.onnx', bytes)]);
    for (const granularity of ['channel', 'tensor'] as const) {
      const out = await quantizeModel(opened, { ...DEFAULT_QUANTIZE, format: 'dynamic', granularity });
      const graph = decodeModel(out.bytes).graph!;
      const read = new Set(graph.node.flatMap((n) => n.input));
      const unused = graph.initializer.map((t) => t.name).filter((name) => !read.has(name));
      expect(unused, granularity).toEqual([]);
    }
  });
});
