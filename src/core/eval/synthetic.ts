/**
 * Synthetic inputs generated from a model's input specs: a seeded generator, so a run is
 * reproducible and UI and CLI see the same numbers. Fidelity on noise can mislead on real models —
 * the dataset says so (synthetic: true) and the UI shows it next to every number.
 */
import type { ValueInfo } from '../onnx/types';
import { floatToHalf, HOST_DTYPE_OF_ONNX } from './data/tensor';
import { EvalInputError, type EvalDataset, type EvalSample, type HostDtype, type HostTensor } from './types';

export type FloatDistribution = 'normal' | 'uniform01' | 'uniform11';

export interface SyntheticOptions {
  count: number;
  /** Values for dynamic dimensions, by name ("batch", "sequence") or "<input>:<axis>" for unnamed ones. */
  dims?: Record<string, number>;
  seed?: number;
  /** Floats: N(0, 1) by default, or uniform on [0, 1) / [−1, 1). */
  floats?: FloatDistribution;
  /** Integer inputs draw from [0, intHigh) (token ids, indices); default 100. */
  intHigh?: number;
}

/** mulberry32: small, fast, good enough for test inputs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The dynamic dimensions of the inputs, each with the value used when none is given. */
export function dynamicDims(inputs: ValueInfo[]): { key: string; input: string; axis: number; defaultValue: number }[] {
  const seen = new Set<string>();
  const out: { key: string; input: string; axis: number; defaultValue: number }[] = [];
  for (const input of inputs) {
    input.shape.forEach((d, axis) => {
      if (typeof d === 'number' && d > 0) return;
      const key = typeof d === 'string' && d !== '?' ? d : `${input.name}:${axis}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ key, input: input.name, axis, defaultValue: axis === 0 ? 1 : 32 });
    });
  }
  return out;
}

/** The concrete dims of `input` given values for its dynamic dimensions. */
export function concreteDims(input: ValueInfo, values: Record<string, number> = {}): number[] {
  return input.shape.map((d, axis) => {
    if (typeof d === 'number' && d > 0) return d;
    const key = typeof d === 'string' && d !== '?' ? d : `${input.name}:${axis}`;
    const v = values[key] ?? (axis === 0 ? 1 : 32);
    if (!Number.isInteger(v) || v < 1) throw new EvalInputError(`Dimension "${key}" of input "${input.name}" must be a positive integer (got ${v}).`);
    return v;
  });
}

function fill(dtype: HostDtype, n: number, random: () => number, options: SyntheticOptions): HostTensor['data'] {
  const floats = options.floats ?? 'normal';
  const nextFloat = () => {
    if (floats === 'uniform01') return random();
    if (floats === 'uniform11') return random() * 2 - 1;
    // Box–Muller, clipped to ±4σ so no sample is an extreme outlier.
    const u = Math.max(random(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(-4, Math.min(4, z));
  };
  const high = options.intHigh ?? 100;
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, nextFloat);
    case 'float64':
      return Float64Array.from({ length: n }, nextFloat);
    case 'float16':
      return Uint16Array.from({ length: n }, () => floatToHalf(nextFloat()));
    case 'int64':
      return BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * high)));
    case 'int32':
      return Int32Array.from({ length: n }, () => Math.floor(random() * high));
    case 'int16':
      return Int16Array.from({ length: n }, () => Math.floor(random() * Math.min(high, 32768)));
    case 'int8':
      return Int8Array.from({ length: n }, () => Math.floor(random() * 256) - 128);
    case 'uint8':
      return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    case 'uint16':
      return Uint16Array.from({ length: n }, () => Math.floor(random() * Math.min(high, 65536)));
    case 'uint32':
      return Uint32Array.from({ length: n }, () => Math.floor(random() * high));
    case 'bool':
      return Uint8Array.from({ length: n }, () => (random() < 0.5 ? 0 : 1));
  }
}

export function syntheticDataset(inputs: ValueInfo[], options: SyntheticOptions): EvalDataset {
  if (inputs.length === 0) throw new EvalInputError('The model has no inputs to generate data for.');
  const random = seededRandom(options.seed ?? 1);
  const specs = inputs.map((input) => {
    const dtype = HOST_DTYPE_OF_ONNX[input.dtype];
    if (!dtype) throw new EvalInputError(`Input "${input.name}" has type ${input.dtype}, which the studio cannot generate data for.`);
    return { input, dtype, dims: concreteDims(input, options.dims) };
  });
  const samples: EvalSample[] = [];
  for (let i = 0; i < options.count; i++) {
    const feeds: Record<string, HostTensor> = {};
    for (const s of specs)
      feeds[s.input.name] = {
        dtype: s.dtype,
        dims: s.dims,
        data: fill(
          s.dtype,
          s.dims.reduce((a, b) => a * b, 1),
          random,
          options,
        ),
      };
    samples.push({ feeds, id: `synthetic #${i + 1}` });
  }
  const floats = { normal: 'floats ~ N(0, 1)', uniform01: 'floats uniform on [0, 1)', uniform11: 'floats uniform on [−1, 1)' }[options.floats ?? 'normal'];
  const shapes = specs.map((s) => `${s.input.name} ${s.dims.join('×')}`).join(', ');
  return {
    name: `${options.count} synthetic input${options.count === 1 ? '' : 's'}`,
    description: `Generated from the input specs (${shapes}; ${floats}; integers in [0, ${options.intHigh ?? 100}); seed ${options.seed ?? 1}). Fidelity on random inputs can differ a lot from fidelity on real data.`,
    samples,
    synthetic: true,
  };
}
