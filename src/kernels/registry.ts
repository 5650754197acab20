import { hostLinalg, installHostLinalg } from './host';
import type { HostLinalgKernels } from './linalg';
import { referenceBackend } from './ts/reference';
import type { BackendName, KernelBackend } from './types';

export type BackendPreference = 'auto' | BackendName;

export interface BackendStatus {
  name: BackendName;
  label: string;
  available: boolean;
  /** Why it is unavailable, or what it runs on (e.g. the GPU adapter). */
  detail: string;
}

/** Tensors at least this big go to a real (non-fallback) GPU in auto mode; below, WASM SIMD wins on transfer cost. */
export const GPU_AUTO_MIN_ELEMENTS = 4 << 20;

const LABELS: Record<BackendName, string> = { ts: 'TypeScript (reference)', wasm: 'WASM SIMD', webgpu: 'WebGPU' };

/** Creates each backend once, on first use; reports what is available here. */
export class BackendRegistry {
  private wasm?: Promise<KernelBackend | undefined>;
  private gpu?: Promise<{ backend?: KernelBackend; fallback: boolean; detail: string }>;
  private wasmError = '';

  constructor(private readonly gpuProvider: () => GPU | undefined = () => (globalThis.navigator as Navigator | undefined)?.gpu) {}

  private loadWasm(): Promise<KernelBackend | undefined> {
    this.wasm ??= loadWasmBackend().catch((err: unknown) => {
      this.wasmError = err instanceof Error ? err.message : String(err);
      return undefined;
    });
    return this.wasm;
  }

  private loadGpu() {
    this.gpu ??= (async () => {
      const gpu = this.gpuProvider();
      if (!gpu) return { fallback: false, detail: 'this browser exposes no WebGPU (navigator.gpu)' };
      try {
        const m = await import('./webgpu/backend');
        const probe = await m.probeWebGpu(gpu);
        if (!probe.available) return { fallback: false, detail: probe.reason ?? 'no WebGPU adapter' };
        const backend = await m.createWebGpuBackend(gpu);
        const what = [probe.vendor, probe.architecture, probe.description].filter(Boolean).join(' ') || 'GPU adapter';
        return {
          backend,
          fallback: probe.isFallbackAdapter,
          detail: probe.isFallbackAdapter ? `${what} — a CPU fallback adapter (SwiftShader): correct but slow` : what,
        };
      } catch (err) {
        return { fallback: false, detail: err instanceof Error ? err.message : String(err) };
      }
    })();
    return this.gpu;
  }

  async get(name: BackendName): Promise<KernelBackend | undefined> {
    if (name === 'ts') return referenceBackend;
    if (name === 'wasm') return this.loadWasm();
    return (await this.loadGpu()).backend;
  }

  /** The backend to run on: the forced one when available, else the fastest for this size. */
  async choose(preference: BackendPreference, elements: number): Promise<KernelBackend> {
    if (preference !== 'auto') {
      const forced = await this.get(preference);
      if (forced) return forced;
    }
    if (elements >= GPU_AUTO_MIN_ELEMENTS) {
      const gpu = await this.loadGpu();
      if (gpu.backend && !gpu.fallback) return gpu.backend;
    }
    return (await this.loadWasm()) ?? referenceBackend;
  }

  async status(): Promise<BackendStatus[]> {
    const wasm = await this.loadWasm();
    const gpu = await this.loadGpu();
    return [
      {
        name: 'wasm',
        label: LABELS.wasm,
        available: !!wasm,
        detail: wasm ? 'SIMD kernels compiled from AssemblyScript' : this.wasmError || 'WebAssembly SIMD unavailable',
      },
      { name: 'webgpu', label: LABELS.webgpu, available: !!gpu.backend, detail: gpu.detail },
      { name: 'ts', label: LABELS.ts, available: true, detail: 'plain TypeScript, the reference all others are tested against' },
    ];
  }
}

let sharedWasm: Promise<import('./wasm/backend').WasmKernelBackend> | undefined;

/** Creates a WASM backend and makes its linear-algebra kernels the host's (./host.ts). */
function loadWasmBackend() {
  return import('./wasm/backend')
    .then((m) => m.createWasmBackend())
    .then((b) => {
      installHostLinalg(b.hostLinalg);
      return b;
    });
}

/**
 * Loads the WASM SIMD kernels for the synchronous host algebra (GPTQ, SparseGPT, the Hessians) unless a registry
 * already did; resolves to what hostLinalg() returns from now on (the TS reference when WASM cannot load).
 */
export async function loadHostLinalg(): Promise<HostLinalgKernels> {
  if (hostLinalg().name === 'wasm') return hostLinalg();
  sharedWasm ??= loadWasmBackend();
  await sharedWasm.catch(() => undefined);
  return hostLinalg();
}

export function backendLabel(name: BackendName): string {
  return LABELS[name];
}
