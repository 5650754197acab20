/**
 * The channel candidates travel on from the model worker to the evaluation worker (src/protocol/candidates): a
 * MessageChannel whose ports are transferred to both workers, again whenever either was started afresh (a crash, the
 * lab's thread-count restart). The page only names candidates; their bytes never pass through it.
 */
import * as Comlink from 'comlink';
import type { CandidateId } from '../protocol/candidates';

/** What the link needs of a worker connection (see workerConnection). */
export interface Linkable<T> {
  readonly generation: number;
  call<R>(run: (api: Comlink.Remote<T>) => Promise<R>): Promise<R>;
}

let lastCandidateId = 0;
export function nextCandidateId(): CandidateId {
  return ++lastCandidateId;
}

/**
 * `ensure()` connects the two workers when they are not connected yet: the first time, and after either restarted.
 * `channel` makes the port pair (a test passes node's MessageChannel).
 */
export function candidateLink(
  model: Linkable<{ connectEval(port: MessagePort): void }>,
  evaluation: Linkable<{ connectModel(port: MessagePort): void }>,
  channel: () => { port1: MessagePort; port2: MessagePort } = () => new MessageChannel(),
) {
  let linked: { model: number; evaluation: number; done: Promise<void> } | undefined;
  return {
    ensure(): Promise<void> {
      if (linked && linked.model === model.generation && linked.evaluation === evaluation.generation) return linked.done;
      const { port1, port2 } = channel();
      // The generations name the workers running, or the ones these calls start: those receive the ports.
      const toModel = model.call((api) => api.connectEval(Comlink.transfer(port1, [port1])));
      const toEval = evaluation.call((api) => api.connectModel(Comlink.transfer(port2, [port2])));
      const mine = { model: model.generation, evaluation: evaluation.generation, done: Promise.all([toModel, toEval]).then(() => undefined) };
      linked = mine;
      mine.done.catch(() => {
        if (linked === mine) linked = undefined;
      });
      return mine.done;
    },
  };
}
