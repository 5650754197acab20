/**
 * The evaluation runtime for the CLI and tests: onnxruntime-node on the CPU. Fidelity is measured with
 * `qdq_matmulnbits_accuracy_level = 0`: ORT's default fuses DequantizeLinear + MatMul into MatMulNBits
 * with int8 activations, adding error that onnxruntime-web does not have.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelFiles, type CreatedSession, type EvalBackend, type EvalModel, type EvalRuntime, type ModelFiles } from '../core/eval/types';
import { wrapSession } from './ort-tensors';

export interface NodeRuntimeOptions {
  /** Intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

export function createNodeRuntime(options: NodeRuntimeOptions = {}): EvalRuntime {
  return {
    name: `onnxruntime-node ${ort.env.versions.common ?? ''} (cpu${options.threads ? `, ${options.threads} threads` : ''}, qdq_matmulnbits_accuracy_level 0)`.replace(
      '  ',
      ' ',
    ),
    async createSession(input: EvalModel, backend: EvalBackend): Promise<CreatedSession> {
      if (backend !== 'cpu') throw new Error(`onnxruntime-node here runs on the CPU; "${backend}" is measured in the browser.`);
      const sessionOptions = {
        executionProviders: ['cpu'],
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
        extra: { session: { qdq_matmulnbits_accuracy_level: '0' } },
        // Failures reach the caller as errors with context; onnxruntime's own log would repeat them on stderr.
        logSeverityLevel: 4,
      } as ort.InferenceSession.SessionOptions;
      const model = modelFiles(input);
      const t0 = performance.now();
      const session = model.externalData?.length
        ? await createWithExternalData(model, sessionOptions)
        : await ort.InferenceSession.create(model.bytes, sessionOptions);
      const loadMs = performance.now() - t0;
      const wrapped = wrapSession(session as never, (type, data, dims) => new ort.Tensor(type, data as never, dims));
      return { session: wrapped, backend, loadMs, cpuNodes: [], notes: [] };
    },
  };
}

/**
 * onnxruntime-node reads external data from files next to the model (it has no in-memory option): the files
 * are written to a temporary folder for the session's creation, then removed.
 */
async function createWithExternalData(model: ModelFiles, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cstudio-model-'));
  try {
    for (const file of model.externalData ?? []) {
      const target = path.resolve(dir, file.path);
      if (!target.startsWith(dir + path.sep)) throw new Error(`external data path "${file.path}" leaves the model's folder`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.data);
    }
    const modelPath = path.join(dir, 'model.onnx');
    await writeFile(modelPath, model.bytes);
    return await ort.InferenceSession.create(modelPath, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
