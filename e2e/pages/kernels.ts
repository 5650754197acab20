/**
 * Test page for e2e/kernels-webgpu.spec.ts (served by vite at /e2e/pages/kernels.html): exposes
 * window.runParity(), which runs the kernel parity suites (incl. the quantization, pruning and linear-algebra kernels) and the extra
 * checks on the WebGPU backend.
 */
import { checkLinalgParity } from '../../test/kernels/linalg-parity';
import { checkParity, checkPruneParity, checkQuantParity } from '../../test/kernels/parity';
import { createWebGpuBackend, probeWebGpu, type WebGpuProbe } from '../../src/kernels/webgpu/backend';
import { extraChecks } from '../../test/kernels/webgpu/extra-checks';
import { pruneChecks } from '../../test/kernels/webgpu/prune-checks';
import { quantChecks } from '../../test/kernels/webgpu/quant-checks';

export interface ParityPageResult {
  probe: WebGpuProbe;
  problems: string[];
  extra: string[];
  /** checkQuantParity and the quantization kernels' extra checks. */
  quant: string[];
  /** checkPruneParity and the pruning kernels' extra checks. */
  prune: string[];
  /** checkLinalgParity (GPTQ's Gram accumulation and block update) within float32 error bounds. */
  linalg: string[];
  /**
   * The same suites with tensors split into 40 000-element buffers (multi-buffer dispatch paths) and 16 KiB chunks
   * (quantization temporaries; 4096-element pruning windows, so N:M runs cross window and buffer boundaries).
   */
  split: string[];
  seconds: number;
  error?: string;
}

declare global {
  interface Window {
    runParity(): Promise<ParityPageResult>;
  }
}

window.runParity = async () => {
  const started = performance.now();
  const probe = await probeWebGpu();
  const backend = await createWebGpuBackend();
  if (!backend)
    return {
      probe,
      problems: [],
      extra: [],
      quant: [],
      prune: [],
      linalg: [],
      split: [],
      seconds: 0,
      error: `no WebGPU backend: ${probe.reason ?? 'requestDevice failed'}`,
    };
  try {
    const problems = await checkParity(backend);
    const extra = await extraChecks(backend);
    const quant = [...(await checkQuantParity(backend)), ...(await quantChecks(backend))];
    const prune = [...(await checkPruneParity(backend)), ...(await pruneChecks(backend))];
    const linalg = await checkLinalgParity(backend, 'f32');
    backend.destroy();
    const splitBackend = await createWebGpuBackend(undefined, { maxSegmentElements: 40_000, maxChunkBytes: 16_384 });
    if (!splitBackend) throw new Error('second WebGPU device failed');
    const split = [
      ...(await checkParity(splitBackend)),
      ...(await extraChecks(splitBackend)),
      ...(await checkQuantParity(splitBackend)),
      ...(await quantChecks(splitBackend)),
      ...(await checkPruneParity(splitBackend)),
      ...(await pruneChecks(splitBackend)),
    ];
    splitBackend.destroy();
    return { probe, problems, extra, quant, prune, linalg, split, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    backend.destroy();
    throw error;
  }
};

document.getElementById('status')!.textContent = 'ready';
