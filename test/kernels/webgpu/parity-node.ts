/**
 * Child-process entry for backend.test.ts: runs the parity suites (kernels, quantization, pruning and linear-algebra kernels, plus
 * the extra checks of each) on the WebGPU
 * backend under Node with Dawn, prints one JSON line prefixed with PARITY_JSON, then exits (Dawn can keep
 * the event loop alive). Start it with the SwiftShader environment (see node-gpu.ts) on a machine
 * without a GPU driver.
 */
import { checkLinalgParity } from '../linalg-parity';
import { checkParity, checkPruneParity, checkQuantParity } from '../parity';
import { createWebGpuBackend, probeWebGpu } from '../../../src/kernels/webgpu/backend';
import { extraChecks } from './extra-checks';
import { nodeGpu } from '../../../src/kernels/webgpu/node-gpu';
import { pruneChecks } from './prune-checks';
import { quantChecks } from './quant-checks';

async function main() {
  const started = Date.now();
  const gpu = await nodeGpu();
  const probe = await probeWebGpu(gpu);
  const report: Record<string, unknown> = { probe };
  const backend = await createWebGpuBackend(gpu);
  if (!backend) {
    report.error = `no WebGPU adapter/device in Node (Dawn): ${probe.reason ?? 'requestDevice failed'}`;
    return report;
  }
  report.segmentElements = backend.segmentElements;
  report.parity = await checkParity(backend);
  report.extra = await extraChecks(backend);
  report.quantParity = await checkQuantParity(backend);
  report.quantExtra = await quantChecks(backend);
  let at = Date.now();
  report.pruneParity = [...(await checkPruneParity(backend)), ...(await pruneChecks(backend))];
  report.pruneSeconds = (Date.now() - at) / 1000;
  at = Date.now();
  report.linalgParity = await checkLinalgParity(backend, 'f32');
  report.linalgSeconds = (Date.now() - at) / 1000;
  backend.destroy();
  // the same suites with tensors split into 40 000-element buffers (multi-segment dispatch paths) and the
  // quantization kernels' temporary buffers limited to 16 KiB (chunked groups / codes; the pruning kernels' windows
  // of 4096 elements, so N:M runs cross window and buffer boundaries)
  const split = await createWebGpuBackend(gpu, { maxSegmentElements: 40_000, maxChunkBytes: 16_384 });
  if (!split) throw new Error('second device failed');
  report.splitParity = await checkParity(split);
  report.splitExtra = await extraChecks(split);
  report.splitQuant = [...(await checkQuantParity(split)), ...(await quantChecks(split))];
  at = Date.now();
  report.splitPrune = [...(await checkPruneParity(split)), ...(await pruneChecks(split))];
  report.pruneSeconds = (report.pruneSeconds as number) + (Date.now() - at) / 1000;
  split.destroy();
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

main().then(
  (report) => {
    console.log(`PARITY_JSON ${JSON.stringify(report)}`);
    process.exit(0);
  },
  (error: unknown) => {
    console.log(`PARITY_JSON ${JSON.stringify({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) })}`);
    process.exit(1);
  },
);
