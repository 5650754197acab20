/**
 * WebGPU backend parity in Node with Dawn (npm `webgpu`). Dawn needs its Vulkan environment at process
 * start, so the suite runs in a child process (test/kernels/webgpu/parity-node.ts). On a machine without a GPU driver that is
 * SwiftShader from Debian's chromium package (CI installs chromium); set KERNELS_WEBGPU_ADAPTER=system to
 * use the system's Vulkan driver instead (a real GPU).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ChannelLayout } from '../types';
import { channelSegmentGrid, gridFor, planChannelStats } from './backend';
import { nmOrder, thresholdBits } from './prune-gpu';
import { gpuQuantSafe } from './quant-gpu';
import { CHROMIUM_LIB_DIR, swiftShaderEnv } from './node-gpu';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const system = process.env.KERNELS_WEBGPU_ADAPTER === 'system';

interface Report {
  error?: string;
  probe?: { available: boolean; isFallbackAdapter: boolean; description?: string };
  parity?: string[];
  extra?: string[];
  splitParity?: string[];
  splitExtra?: string[];
  quantParity?: string[];
  quantExtra?: string[];
  splitQuant?: string[];
  pruneParity?: string[];
  splitPrune?: string[];
  pruneSeconds?: number;
  linalgParity?: string[];
  seconds?: number;
}

function runChild(): { report: Report; output: string } {
  if (!system && !existsSync(`${CHROMIUM_LIB_DIR}/libvulkan.so.1`)) {
    throw new Error(
      `${CHROMIUM_LIB_DIR}/libvulkan.so.1 is missing: the WebGPU kernel tests run Dawn on SwiftShader from Debian's ` +
        'chromium package (apt-get install chromium). On a machine with a real GPU driver set KERNELS_WEBGPU_ADAPTER=system.',
    );
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/kernels/webgpu/parity-node.ts'], {
    cwd: root,
    env: { ...process.env, ...(system ? {} : swiftShaderEnv()) },
    encoding: 'utf8',
    timeout: 540_000,
    maxBuffer: 64 << 20,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PARITY_JSON '));
  if (!line) throw new Error(`parity child printed no result (status ${r.status}, signal ${r.signal}, error ${r.error?.message}):\n${output.slice(-4000)}`);
  return { report: JSON.parse(line.slice('PARITY_JSON '.length)) as Report, output };
}

describe('WebGPU kernels in Node (Dawn)', () => {
  it(
    'match the reference kernels (parity suites incl. quantization, pruning and linear algebra, extra checks, multi-buffer tensors)',
    { timeout: 600_000 },
    () => {
      const { report, output } = runChild();
      expect(report.error, output.slice(-4000)).toBeUndefined();
      expect(report.probe?.available).toBe(true);
      if (!system) expect(report.probe?.isFallbackAdapter).toBe(true); // SwiftShader
      expect(report.parity).toEqual([]);
      expect(report.extra).toEqual([]);
      expect(report.splitParity).toEqual([]);
      expect(report.splitExtra).toEqual([]);
      expect(report.quantParity).toEqual([]);
      expect(report.quantExtra).toEqual([]);
      expect(report.splitQuant).toEqual([]);
      expect(report.pruneParity).toEqual([]);
      expect(report.splitPrune).toEqual([]);
      expect(report.linalgParity).toEqual([]);
    },
  );
});

describe('WebGPU grid planning (no GPU needed)', () => {
  it('sends only parameters the GPU reproduces exactly to the quantization kernels', () => {
    const p = (scale: number, zp = 0, qmin = -127, qmax = 127) => {
      const scales = Float32Array.of(0.5, scale);
      return { scales, invScales: scales.map((s) => Math.fround(1 / s)), zeroPoints: Int32Array.of(0, zp), qmin, qmax };
    };
    expect(gpuQuantSafe(p(0.01), 2)).toBe(true);
    expect(gpuQuantSafe(p(2 ** -126), 2)).toBe(true); // invScale 2^126: normal
    expect(gpuQuantSafe(p(-0.25, 7, 0, 65535), 2)).toBe(true);
    expect(gpuQuantSafe(p(1e-39), 2)).toBe(false); // subnormal scale, invScale = Infinity
    expect(gpuQuantSafe(p(0), 2)).toBe(false);
    expect(gpuQuantSafe(p(NaN), 2)).toBe(false);
    expect(gpuQuantSafe(p(3e38), 2)).toBe(false); // invScale subnormal, and y could overflow
    expect(gpuQuantSafe(p(2e36), 2)).toBe(false); // 127 · 2e36 overflows float32
    expect(gpuQuantSafe(p(0.1, 2 ** 22), 2)).toBe(false);
    expect(gpuQuantSafe(p(0.1, 0, -7.5, 7), 2)).toBe(false);
    expect(gpuQuantSafe(p(0.1, 0, 0, 2 ** 20), 2)).toBe(false);
    expect(gpuQuantSafe(p(0), 1)).toBe(true); // only the first `count` entries are used
  });

  it('turns any float64 threshold into float32 bits that mask exactly |x| < threshold', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const values = [0, 2 ** -149, 2 ** -148, 3 * 2 ** -149, 2 ** -127, 2 ** -126, 1e-30, Math.fround(0.1), 0.125, 1, 3.4028234663852886e38, Infinity, NaN];
    const thresholds = [
      0,
      -0,
      -1,
      NaN,
      Infinity,
      -Infinity,
      1e-50,
      1.5 * 2 ** -149,
      0.1,
      Math.fround(0.1),
      Math.fround(0.1) * (1 + 1e-12),
      3.4028235e38,
      3.5e38,
      1e300,
    ];
    for (const t of [...thresholds, ...values]) {
      for (const x of values) {
        for (const v of [x, -x]) {
          f[0] = v;
          const masked = (u[0]! & 0x7fffffff) < thresholdBits(t);
          expect(masked, `|${v}| < ${t}`).toBe(Math.abs(f[0]) < t);
        }
      }
    }
  });

  it('orders N:M groups by first element only for views that cannot overlap', () => {
    for (let lines = 0; lines <= 4; lines++) {
      for (let length = 0; length <= 6; length++) {
        for (let lineStride = 0; lineStride <= 8; lineStride++) {
          for (let kStride = 0; kStride <= 6; kStride++) {
            const view = { lines, length, lineStride, kStride };
            const order = nmOrder(view);
            const seen = new Set<number>();
            let overlap = false;
            for (let l = 0; l < lines; l++) for (let k = 0; k < length; k++) overlap ||= seen.size === seen.add(l * lineStride + k * kStride).size;
            if (overlap) expect(order, JSON.stringify(view)).toBeUndefined();
            if (!order) continue;
            for (const m of [1, 2, 4]) {
              const runs = Math.ceil(length / m);
              let last = -1;
              for (let g = 0; g < lines * runs; g++) {
                const [line, r] = order === 'lineFast' ? [g % lines, Math.floor(g / lines)] : [Math.floor(g / runs), g % runs];
                const start = line * lineStride + r * m * kStride;
                expect(start, `${JSON.stringify(view)} ${order} m ${m} group ${g}`).toBeGreaterThan(last);
                last = start;
              }
            }
          }
        }
      }
    }
  });

  it('lays out large grids in 2-D within 65535 per dimension', () => {
    for (const count of [1, 65535, 65536, 70_000, 1 << 24, 123_456_789]) {
      const [x, y] = gridFor(count);
      expect(x).toBeLessThanOrEqual(65535);
      expect(y).toBeLessThanOrEqual(65535);
      expect(x * y).toBeGreaterThanOrEqual(count);
      expect(x * (y - 1)).toBeLessThan(count);
    }
  });

  it('dispatches, for each buffer segment, every channelStats workgroup that touches it', () => {
    const layouts: ChannelLayout[] = [
      { outer: 1, channels: 64, inner: 1000 },
      { outer: 37, channels: 5, inner: 64 },
      { outer: 3, channels: 4, inner: 5000 },
      { outer: 1, channels: 3, inner: 70_000 },
      { outer: 2000, channels: 16, inner: 1 },
      { outer: 300, channels: 7, inner: 5 },
      { outer: 40, channels: 300, inner: 3 },
      { outer: 1, channels: 1000, inner: 9 },
      { outer: 2, channels: 3000, inner: 2 },
    ];
    for (const layout of layouts) {
      const { outer, channels, inner } = layout;
      const n = outer * channels * inner;
      const plan = planChannelStats(layout);
      const workgroupOf = (g: number) => {
        const i = g % inner;
        const c = Math.floor(g / inner) % channels;
        const o = Math.floor(g / (inner * channels));
        if (plan.kind === 'runs') return (Math.floor(o / plan.oPer) * channels + c) * plan.iBlocks + Math.floor(i / plan.iLen);
        if (plan.kind === 'columns') return Math.floor(o / plan.rowsPer) * plan.colBlocks + (plan.rowsPerPass === 1 ? Math.floor((c * inner + i) / 256) : 0);
        return Math.floor(c / 256);
      };
      for (const seg of [4, 1000, 4096, 40_000]) {
        for (let start = 0; start < n; start += seg) {
          const length = Math.min(seg, n - start);
          const [first, count] = channelSegmentGrid(plan, layout, start, length);
          for (let g = start; g < start + length; g++) {
            const w = workgroupOf(g);
            if (w < first || w >= first + count)
              throw new Error(
                `${JSON.stringify(layout)} ${plan.kind}: element ${g} in workgroup ${w}, segment [${start}, +${length}) dispatches [${first}, +${count})`,
              );
          }
        }
      }
    }
  });
});
