import type { BackendPreference, BackendRegistry } from '../../kernels/registry';
import type { BackendName, DeviceTensor, KernelBackend } from '../../kernels/types';
import { DataType, dataTypeName } from '../tensor/dtypes';
import { decodeRawToFloat32 } from '../tensor/decode';
import type { CatalogEntry } from '../onnx/catalog';
import { readTensorBytes, readTensorFloat32, type OpenedModel } from '../onnx/open';
import { multipliedBy, outputChannelAxis } from './channel-axis';
import { channelRanges, tensorStats, type ChannelRanges, type TensorStats } from './stats';

export interface HistogramData {
  lo: number;
  hi: number;
  counts: number[];
}

export interface TensorAnalysis {
  tensorId: number;
  name: string;
  dtype: string;
  shape: number[];
  stats: TensorStats;
  histogram: HistogramData;
  channels?: ChannelRanges;
  /** The kernel backend that computed this. */
  backend: BackendName;
  readMs: number;
  computeMs: number;
}

export interface AnalyzeOptions {
  bins: number;
  /** Histogram range symmetric around zero ([-absMax, absMax]) instead of [min, max]. */
  symmetric: boolean;
  backend: BackendPreference;
}

export const DEFAULT_ANALYZE_OPTIONS: AnalyzeOptions = { bins: 128, symmetric: false, backend: 'auto' };

const now = () => performance.now();

/** Reads a tensor as float32; fp16/bf16 are decoded by the chosen kernel backend. */
export async function readForAnalysis(opened: OpenedModel, entry: CatalogEntry, backend: KernelBackend): Promise<Float32Array> {
  const half = entry.dataType === DataType.FLOAT16 ? 'fp16' : entry.dataType === DataType.BFLOAT16 ? 'bf16' : undefined;
  if (half && !entry.sparse && (entry.external || entry.tensor.rawData.byteLength > 0)) {
    const raw = await readTensorBytes(opened, entry);
    const bits =
      raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, entry.elements) : new Uint16Array(raw.slice(0, entry.elements * 2).buffer);
    return backend.decodeHalf(bits, half);
  }
  return readTensorFloat32(opened, entry);
}

function histogramRange(stats: TensorStats, symmetric: boolean): [number, number] {
  if (!Number.isFinite(stats.min)) return [0, 1];
  let [lo, hi] = symmetric ? [-stats.absMax, stats.absMax] : [stats.min, stats.max];
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.5 || 0.5;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

export async function analyzeTensor(opened: OpenedModel, entryId: number, registry: BackendRegistry, options: AnalyzeOptions): Promise<TensorAnalysis> {
  const entry = opened.catalog.entries[entryId];
  if (!entry) throw new Error(`no tensor #${entryId}`);
  if (entry.dataType === DataType.STRING) throw new Error(`${entry.name} holds strings: there is nothing numeric to analyse.`);
  const backend = await registry.choose(options.backend, entry.elements);
  const t0 = now();
  const values = await readForAnalysis(opened, entry, backend);
  const t1 = now();
  const device = await backend.upload(values);
  try {
    const { stats } = await tensorStats(backend, device);
    const [lo, hi] = histogramRange(stats, options.symmetric);
    const counts = await backend.histogram(device, options.bins, lo, hi);
    const axis = outputChannelAxis(entry, opened.catalog);
    const channels = axis !== undefined ? await channelRanges(backend, device, entry.shape, axis) : undefined;
    return {
      tensorId: entry.id,
      name: entry.name,
      dtype: dataTypeName(entry.dataType),
      shape: entry.shape,
      stats,
      histogram: { lo, hi, counts: [...counts] },
      channels,
      backend: backend.name,
      readMs: t1 - t0,
      computeMs: now() - t1,
    };
  } finally {
    device.dispose();
  }
}

/** Stats (and channel ranges where the op gives an output-channel axis) for `cstudio inspect --stats`. */
export async function statsForEntry(
  opened: OpenedModel,
  entry: CatalogEntry,
  backend: KernelBackend,
): Promise<{ stats: TensorStats; channelRanges?: [number, number][] } | undefined> {
  if (entry.dataType === DataType.STRING || entry.elements === 0) return undefined;
  const device = await backend.upload(await readForAnalysis(opened, entry, backend));
  try {
    const { stats } = await tensorStats(backend, device);
    const axis = outputChannelAxis(entry, opened.catalog);
    if (axis === undefined) return { stats };
    const ranges = await channelRanges(backend, device, entry.shape, axis);
    return { stats, channelRanges: ranges.min.map((m, c) => [m, ranges.max[c]!]) };
  } finally {
    device.dispose();
  }
}

export interface LayerSparsity {
  tensorId: number;
  name: string;
  layer: string;
  op: string;
  elements: number;
  zeros: number;
  /** What "zero" meant: 0.0 for float weights, the zero point for quantized ones. */
  zeroReference: 'float zero' | 'zero point';
}

async function zeroPointValues(opened: OpenedModel, name: string | undefined): Promise<Float32Array | undefined> {
  if (!name) return undefined;
  const zp = opened.catalog.entries.find((e) => e.name === name);
  return zp ? readTensorFloat32(opened, zp) : undefined;
}

/** Counts zeros in one multiplied weight, against its zero point when stored quantized. */
async function countZeros(opened: OpenedModel, entry: CatalogEntry, backend: KernelBackend): Promise<LayerSparsity | undefined> {
  const how = multipliedBy(entry, opened.catalog);
  if (!how) return undefined;
  const base = { tensorId: entry.id, name: entry.name, layer: how.node.name || how.op, op: how.op };
  if (how.packedBits) {
    // MatMulNBits: B is uint8 [N, blocks, blob] holding `bits`-bit codes, low bits first; zero point default 2^(bits-1).
    const bits = how.packedBits;
    const [n, blocks] = entry.shape as [number, number, number];
    const raw = await readTensorBytes(opened, entry);
    const codes = decodeRawToFloat32(
      raw.length ? raw : Uint8Array.from(entry.tensor.int32Data),
      bits === 4 ? DataType.UINT4 : DataType.UINT8,
      bits === 4 ? entry.elements * 2 : entry.elements,
    );
    const zpPacked = await zeroPointValues(opened, how.zeroPointName);
    const perBlock = codes.length / (n * blocks);
    const zpPerRow = Math.ceil((blocks * bits) / 8);
    let zeros = 0;
    for (let row = 0; row < n; row++) {
      for (let b = 0; b < blocks; b++) {
        let zp = 1 << (bits - 1);
        if (zpPacked) {
          const byte = zpPacked[row * zpPerRow + ((b * bits) >> 3)]!;
          zp = bits === 4 ? (b % 2 ? byte >> 4 : byte & 15) : byte;
        }
        const start = (row * blocks + b) * perBlock;
        for (let i = 0; i < perBlock; i++) if (codes[start + i] === zp) zeros++;
      }
    }
    return { ...base, elements: codes.length, zeros, zeroReference: 'zero point' };
  }
  const values = await readForAnalysis(opened, entry, backend);
  const zp = await zeroPointValues(opened, how.zeroPointName);
  if (how.zeroPointName !== undefined || entry.dataType !== DataType.FLOAT) {
    if (zp && zp.length > 1) {
      // Per-channel zero points along `axis`.
      const axis = (how.zeroPointAxis ?? 1) < 0 ? entry.shape.length + how.zeroPointAxis! : (how.zeroPointAxis ?? 1);
      const inner = entry.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const channels = entry.shape[axis]!;
      let zeros = 0;
      for (let i = 0; i < values.length; i++) if (values[i] === zp[Math.floor(i / inner) % channels]) zeros++;
      return { ...base, elements: entry.elements, zeros, zeroReference: 'zero point' };
    }
    if (zp || how.zeroPointName !== undefined || entry.dataType === DataType.INT8 || entry.dataType === DataType.UINT8) {
      const z = zp?.[0] ?? 0;
      let zeros = 0;
      for (let i = 0; i < values.length; i++) if (values[i] === z) zeros++;
      return { ...base, elements: entry.elements, zeros, zeroReference: zp ? 'zero point' : 'float zero' };
    }
  }
  const device: DeviceTensor = await backend.upload(values);
  try {
    const m = await backend.moments(device);
    return { ...base, elements: entry.elements, zeros: m.zeroCount, zeroReference: 'float zero' };
  } finally {
    device.dispose();
  }
}

/** Sparsity of every multiplied weight (conv kernels, matmul matrices; not biases, norms or shapes). */
export async function layerSparsity(
  opened: OpenedModel,
  registry: BackendRegistry,
  preference: BackendPreference = 'auto',
): Promise<{ layers: LayerSparsity[]; backend: BackendName }> {
  const layers: LayerSparsity[] = [];
  let used: BackendName = 'ts';
  for (const entry of opened.catalog.entries) {
    const backend = await registry.choose(preference, entry.elements);
    const result = await countZeros(opened, entry, backend);
    if (result) {
      layers.push(result);
      used = backend.name;
    }
  }
  return { layers, backend: used };
}
