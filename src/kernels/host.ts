/**
 * The synchronous host kernels the teacher's algebra calls (core/teacher/gptq.ts, sparsegpt.ts): WASM SIMD once
 * something in this realm has loaded it (BackendRegistry, or loadHostLinalg in registry.ts), else the TypeScript
 * reference. Both give the same bits (linalg.ts), so which one ran changes only the time.
 */
import type { HostLinalgKernels } from './linalg';
import { referenceLinalg } from './ts/linalg-reference';

let active: HostLinalgKernels = referenceLinalg;

export function installHostLinalg(k: HostLinalgKernels): void {
  active = k;
}

export function hostLinalg(): HostLinalgKernels {
  return active;
}
