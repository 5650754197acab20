/**
 * Realistic inputs for openWakeWord's embedding model: tone mixtures with noise (16 kHz audio, scaled like 16-bit
 * samples) through the project's own melspectrogram model, scaled as openWakeWord's pipeline does (x / 10 + 2),
 * cut into the 76-frame windows the embedding model reads.
 */
import * as ort from 'onnxruntime-node';
import { readRealModel } from './models';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

export function toneAudio(seed: number, samples: number, amplitude = 4000): Float32Array {
  const random = rng(seed);
  const tones = [100 + 900 * random(), 300 + 2000 * random(), 50 + 400 * random()];
  return Float32Array.from({ length: samples }, (_, i) => {
    const t = i / 16000;
    return (
      tones.reduce((a, f, k) => a + (amplitude / (k + 1)) * Math.sin(2 * Math.PI * f * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t + k)), 0) +
      amplitude * 0.07 * (random() - 0.5)
    );
  });
}

/** Mel frames [frames, 32] of a tone mixture. */
export async function melFrames(seed: number, samples: number): Promise<Float32Array> {
  const mel = await ort.InferenceSession.create(readRealModel('melspectrogram.onnx'));
  const out = (await mel.run({ input: new ort.Tensor('float32', toneAudio(seed, samples), [1, samples]) })).output!;
  await mel.release();
  return Float32Array.from(out.data as Float32Array, (x) => x / 10 + 2);
}

/** `count` embedding-model inputs [1, 76, 32, 1] (windows 8 frames apart) from one audio seed. */
export async function melWindows(seed: number, count: number): Promise<Float32Array[]> {
  const mel = await melFrames(seed, ((count - 1) * 8 + 76) * 160 + 400);
  return Array.from({ length: count }, (_, k) => Float32Array.from(mel.subarray(k * 8 * 32, (k * 8 + 76) * 32)));
}
