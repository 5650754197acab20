import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { plainConvNet } from '../../../test/fixtures/convnets';
import { decodeModel } from '../onnx/codec';
import { countMacs } from './macs';

describe('MAC counting', () => {
  it('demo CNN, hand-computed', () => {
    const { nodes, total, complete } = countMacs(decodeModel(new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'))));
    const byNode = Object.fromEntries(nodes.map((n) => [n.node, n.macs]));
    expect(byNode.conv1).toBe(8 * 28 * 28 * 1 * 9); // 56 448
    expect(byNode.conv2).toBe(16 * 14 * 14 * 8 * 9); // 225 792
    expect(byNode.fc1).toBe(64 * 784);
    expect(byNode.fc2).toBe(10 * 64);
    expect(total).toBe(56448 + 225792 + 50176 + 640);
    expect(complete).toBe(true);
  });

  it('batch size from the caller scales every layer', () => {
    const one = countMacs(decodeModel(new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'))));
    const four = countMacs(decodeModel(new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx'))), { input: [4, 1, 28, 28] });
    expect(four.total).toBe(4 * one.total);
  });

  it('plain conv net with BN and pooling', () => {
    const { nodes } = countMacs(decodeModel(plainConvNet().bytes));
    expect(nodes.map((n) => n.macs)).toEqual([16 * 16 * 16 * 27, 32 * 8 * 8 * 144, 10 * 512]);
  });
});
