/**
 * The port plumbing between the two workers, with comlink over real MessagePorts (node:worker_threads) standing in
 * for the workers: the page transfers one port of a fresh MessageChannel to each, the model worker's candidate
 * reaches the evaluation worker without the page, and after a worker restart the next use connects them again.
 */
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort as NodePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CandidateInbox, postCandidate } from '../protocol/candidates';
import { candidateLink } from './candidateChannel';
import { workerConnection } from './workerConnection';

interface FakeModel {
  connectEval(port: MessagePort): void;
  send(id: number, bytes: Uint8Array): void;
}
interface FakeEval {
  connectModel(port: MessagePort): void;
  take(id: number): Promise<number[]>;
}

/** A "worker" running `api` at the far end of a MessageChannel; terminate closes both ends. */
function fakeWorker(api: object): Worker {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port2 as unknown as Comlink.Endpoint);
  return Object.assign(port1, { terminate: () => (port1.close(), port2.close()) }) as unknown as Worker;
}

describe('candidate channel between the workers', () => {
  it('connects both workers, carries a candidate without the page, and connects again after a restart', async () => {
    const connections = { model: 0, evaluation: 0 };
    const model = workerConnection<FakeModel>(() => {
      let port: MessagePort | undefined;
      return fakeWorker({
        connectEval: (p: MessagePort) => {
          connections.model++;
          port = p;
        },
        send: (id: number, bytes: Uint8Array) => postCandidate(port!, id, bytes),
      });
    }, 'model worker');
    const evaluation = workerConnection<FakeEval>(() => {
      const inbox = new CandidateInbox();
      return fakeWorker({
        connectModel: (p: MessagePort) => {
          connections.evaluation++;
          inbox.listen(p);
        },
        take: async (id: number) => [...(await inbox.take(id))],
      });
    }, 'evaluation worker');
    const channels: NodePort[] = [];
    const link = candidateLink(model, evaluation, () => {
      const pair = new MessageChannel();
      channels.push(pair.port1, pair.port2);
      return pair as unknown as { port1: MessagePort; port2: MessagePort };
    });

    await link.ensure();
    await link.ensure(); // already connected: nothing sent again
    expect(connections).toEqual({ model: 1, evaluation: 1 });
    await model.call((api) => api.send(1, new Uint8Array([1, 2, 3])));
    expect(await evaluation.call((api) => api.take(1))).toEqual([1, 2, 3]);

    // The evaluation worker restarts (the lab's thread count): the next use connects the fresh one.
    evaluation.terminate();
    await link.ensure();
    expect(connections).toEqual({ model: 2, evaluation: 2 });
    await model.call((api) => api.send(2, new Uint8Array([4, 5])));
    expect(await evaluation.call((api) => api.take(2))).toEqual([4, 5]);

    // And the model worker (a crash restarts it the same way).
    model.terminate();
    await link.ensure();
    expect(connections).toEqual({ model: 3, evaluation: 3 });
    await model.call((api) => api.send(3, new Uint8Array([6])));
    expect(await evaluation.call((api) => api.take(3))).toEqual([6]);

    model.terminate();
    evaluation.terminate();
    channels.forEach((p) => p.close());
  });
});
