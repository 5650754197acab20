/**
 * The evaluation runtime for the CLI and tests: onnxruntime-node on the CPU. Fidelity is measured with
 * `qdq_matmulnbits_accuracy_level = 0`: ORT's default fuses DequantizeLinear + MatMul into MatMulNBits
 * with int8 activations, adding error that onnxruntime-web does not have.
 */
import * as ort from 'onnxruntime-node';
import type { CreatedSession, EvalBackend, EvalRuntime } from '../core/eval/types';
import { wrapSession } from './ort-tensors';

export interface NodeRuntimeOptions {
  /** Intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

export function createNodeRuntime(options: NodeRuntimeOptions = {}): EvalRuntime {
  return {
    name: `onnxruntime-node ${ort.env.versions.common ?? ''} (cpu${options.threads ? `, ${options.threads} threads` : ''}, qdq_matmulnbits_accuracy_level 0)`.replace('  ', ' '),
    async createSession(bytes: Uint8Array, backend: EvalBackend): Promise<CreatedSession> {
      if (backend !== 'cpu') throw new Error(`onnxruntime-node here runs on the CPU; "${backend}" is measured in the browser.`);
      const t0 = performance.now();
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
        extra: { session: { qdq_matmulnbits_accuracy_level: '0' } },
        // Failures reach the caller as errors with context; onnxruntime's own log would repeat them on stderr.
        logSeverityLevel: 4,
      } as ort.InferenceSession.SessionOptions);
      const loadMs = performance.now() - t0;
      const wrapped = wrapSession(session as never, (type, data, dims) => new ort.Tensor(type, data as never, dims));
      return { session: wrapped, backend, loadMs, cpuNodes: [], notes: [] };
    },
  };
}
