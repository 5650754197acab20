import { describe, expect, it } from 'vitest';
import { mobileNetV3Style, unetFpnStyle } from '../../../test/fixtures/channel-groups';
import { decodeModel } from '../onnx/codec';
import { inferShapes } from './shapes';

describe('static shapes', () => {
  it('UNet/FPN: Split, ConvTranspose, Concat and a Resize to sizes folded from Shape → Slice → Concat', () => {
    const { shapes, ints } = inferShapes(decodeModel(unetFpnStyle().bytes));
    expect(shapes.get('glu.a')).toEqual([1, 32, 8, 8]);
    expect(shapes.get('up.out')).toEqual([1, 32, 16, 16]);
    expect(shapes.get('skip2.out')).toEqual([1, 64, 16, 16]);
    expect(ints.get('fpn.sizes.out')).toEqual([1, 24, 32, 32]);
    expect(shapes.get('up2.out')).toEqual([1, 24, 32, 32]);
    expect(shapes.get('refine.out')).toEqual([1, 16, 32, 32]);
    expect(shapes.get('mask')).toEqual([1, 1, 32, 32]);
  });

  it('MobileNetV3: depthwise strides, GlobalAveragePool, x.view(x.size(0), -1) folded to [1, -1], Gemm', () => {
    const { shapes, ints } = inferShapes(decodeModel(mobileNetV3Style().bytes));
    expect(shapes.get('b2.dw.out')).toEqual([1, 72, 16, 16]);
    expect(shapes.get('b1.se.pool.out')).toEqual([1, 64, 1, 1]);
    expect(ints.get('flatten.target.out')).toEqual([1, -1]);
    expect(shapes.get('flatten.out')).toEqual([1, 160]);
    expect(shapes.get('logits')).toEqual([1, 10]);
  });

  it('dynamic dimensions default to 1 and can be set', () => {
    const model = decodeModel(unetFpnStyle().bytes);
    expect(inferShapes(model, { image: [2, 3, 64, 64] }).shapes.get('mask')).toEqual([2, 1, 64, 64]);
  });
});
