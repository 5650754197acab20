/**
 * WebGPU kernel benchmark under Node with Dawn (npm `webgpu`):
 *
 *   npx tsx bench/kernels/webgpu-cli.ts [elements] [--swiftshader] [--samples N] [--json]
 *
 * elements: default 16M (16 * 2^20); accepts suffixes k/M/G (powers of 2). --swiftshader re-runs itself with
 * the SwiftShader environment from Debian's chromium package (machines without a GPU; numbers mean
 * nothing there). On a real GPU, run it with the driver's Vulkan ICD visible (e.g. VK_DRIVER_FILES=
 * /usr/share/vulkan/icd.d/nvidia_icd.json). Prints the adapter and a table; --json prints rows as JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { probeWebGpu } from '../../src/kernels/webgpu/backend';
import { benchWebGpu, formatBenchTable } from './webgpu';
import { CHROMIUM_LIB_DIR, nodeGpu, swiftShaderEnv } from '../../src/kernels/webgpu/node-gpu';

function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(s);
  if (!m) throw new Error(`bad element count ${s}`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(name);
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (flag('--swiftshader') && !process.env.CSTUDIO_BENCH_CHILD) {
    if (!existsSync(`${CHROMIUM_LIB_DIR}/libvulkan.so.1`)) {
      console.error(`${CHROMIUM_LIB_DIR}/libvulkan.so.1 not found (install Debian's chromium package)`);
      return 2;
    }
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...swiftShaderEnv(), CSTUDIO_BENCH_CHILD: '1' },
    });
    return r.status ?? 1;
  }
  const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--samples'));
  const elements = positional[0] ? parseCount(positional[0]) : 16 * 2 ** 20;
  const samples = Number(value('--samples') ?? 7);
  const gpu = await nodeGpu();
  const probe = await probeWebGpu(gpu);
  if (!probe.available) {
    console.error(`no WebGPU adapter: ${probe.reason}. Without a GPU try --swiftshader.`);
    return 2;
  }
  console.log(
    `adapter: ${[probe.vendor, probe.architecture, probe.description].filter(Boolean).join(' / ')}${probe.isFallbackAdapter ? ' (fallback/software: timings mean nothing)' : ''}; ` +
      `maxBufferSize ${probe.maxBufferSize}, maxStorageBufferBindingSize ${probe.maxStorageBufferBindingSize}`,
  );
  console.log(`elements: ${elements} (${((elements * 4) / 2 ** 20).toFixed(0)} MiB float32), median of ${samples}`);
  const rows = await benchWebGpu(gpu, elements, {
    samples,
    onRow: flag('--json') ? undefined : (r) => console.log(`  ${r.name}: ${r.ms.toFixed(3)} ms, ${r.gbPerS.toFixed(1)} GB/s`),
  });
  console.log(flag('--json') ? JSON.stringify({ probe, elements, rows }) : `\n${formatBenchTable(rows)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
