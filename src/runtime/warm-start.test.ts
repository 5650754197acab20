import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { identityModel } from './warm-start';

it('the warm-start model is a valid one-node model', async () => {
  const session = await ort.InferenceSession.create(identityModel());
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([3.5]), [1]) });
  expect(Array.from(out.y!.data as Float32Array)).toEqual([3.5]);
  await session.release();
});
