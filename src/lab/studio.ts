/** The studio's lab service: the real workers, the candidate channel between them, and the store's data and settings. */
import type { BackendPreference } from '../kernels/registry';
import { modelConnection, modelWorker } from '../state/bridge';
import { candidateLink, nextCandidateId } from '../state/candidateChannel';
import { evalConnection, evalWorker } from '../state/evalBridge';
import { createLabService } from './service';

/** What the service reads of the store (bound by src/state/evalSlice, which would otherwise import in a circle). */
export interface LabStore {
  fileName: string | null;
  backendPreference: BackendPreference;
  ensureEvalData(): Promise<void>;
  restartEvaluation(): Promise<void>;
}
let store: (() => LabStore) | undefined;
export function bindLabStore(get: () => LabStore): void {
  store = get;
}
function state(): LabStore {
  if (!store) throw new Error('The lab service is not bound to the store.');
  return store();
}

/** Made on first use (a test's mocked bridges may have no connections). */
let link: ReturnType<typeof candidateLink> | undefined;

export const studioLab = createLabService({
  model: modelWorker,
  evaluation: evalWorker,
  link: () => (link ??= candidateLink(modelConnection, evalConnection)).ensure(),
  evalGeneration: () => evalConnection.generation,
  nextCandidate: nextCandidateId,
  fileName: () => state().fileName ?? 'model.onnx',
  preference: () => state().backendPreference,
  ensureData: () => state().ensureEvalData(),
  restartEvaluation: () => state().restartEvaluation(),
});
