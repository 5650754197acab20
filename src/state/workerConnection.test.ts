/**
 * workerConnection with a real comlink endpoint (a MessageChannel port standing in for the Worker object, which
 * Node lacks): a crash rejects the call in flight, tells the listener, and the next call runs on a fresh worker
 * after `restore` brought the state back.
 */
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { withProgress, workerConnection } from './workerConnection';

interface Api {
  open(name: string): string;
  opened(): string | null;
  hang(): Promise<never>;
  /** Reports 1 (and waits for it to be handled), answers, then reports 2 late. */
  work(progress: (n: number) => Promise<void> | void): Promise<string>;
}

function fakeWorkerFactory() {
  const workers: (MessagePort & { terminate(): void })[] = [];
  const create = () => {
    const { port1, port2 } = new MessageChannel();
    let opened: string | null = null;
    const api: Api = {
      open: (name) => (opened = name),
      opened: () => opened,
      hang: () => new Promise<never>(() => undefined),
      work: async (progress) => {
        await progress(1);
        setTimeout(() => void progress(2), 20);
        return 'done';
      },
    };
    Comlink.expose(api, port2 as unknown as Comlink.Endpoint);
    const worker = Object.assign(port1, { terminate: () => (port1.close(), port2.close()) });
    workers.push(worker);
    return worker as unknown as Worker;
  };
  const crash = (index: number) => {
    const event = new Event('error', { cancelable: true });
    Object.defineProperty(event, 'message', { value: 'Out of memory' });
    workers[index]!.dispatchEvent(event);
  };
  return { create, crash, workers };
}

describe('workerConnection', () => {
  it('a crash rejects the call in flight, is reported, and the next call runs on a fresh worker with the state restored', async () => {
    const { create, crash, workers } = fakeWorkerFactory();
    const crashes: string[] = [];
    let last: string | undefined = undefined;
    const connection = workerConnection<Api>(create, 'model worker', {
      restore: async (api) => {
        if (last) await api.open(last);
      },
      onCrash: (message) => crashes.push(message),
    });
    last = await connection.call((api) => api.open('model.onnx'));
    expect(await connection.call((api) => api.opened())).toBe('model.onnx');
    const inFlight = connection.call((api) => api.hang());
    crash(0);
    await expect(inFlight).rejects.toThrow('The model worker stopped unexpectedly: Out of memory');
    expect(crashes).toEqual(['The model worker stopped unexpectedly: Out of memory']);
    // A fresh worker, which holds the model again before the call runs.
    expect(await connection.call((api) => api.opened())).toBe('model.onnx');
    expect(workers).toHaveLength(2);
    for (const w of workers) w.terminate();
  });

  it('a failed restore does not block later calls (another model can still be opened)', async () => {
    const { create, crash, workers } = fakeWorkerFactory();
    const connection = workerConnection<Api>(create, 'model worker', { restore: async () => Promise.reject(new Error('cannot reopen')) });
    await connection.call((api) => api.open('a.onnx'));
    crash(0);
    expect(await connection.call((api) => api.open('b.onnx'))).toBe('b.onnx');
    for (const w of workers) w.terminate();
  });

  it('terminate ends the calls still waiting on the worker (it will never answer) and bumps the generation', async () => {
    const { create, workers } = fakeWorkerFactory();
    const crashes: string[] = [];
    const connection = workerConnection<Api>(create, 'evaluation worker', { onCrash: (m) => crashes.push(m) });
    await connection.call((api) => api.open('a.onnx'));
    const generation = connection.generation;
    const inFlight = connection.call((api) => api.hang());
    connection.terminate();
    await expect(inFlight).rejects.toThrow('The evaluation worker was restarted before it answered.');
    expect(connection.generation).toBe(generation + 1);
    // Not a crash: nobody is told, and the next call runs on a fresh worker that holds nothing.
    expect(crashes).toEqual([]);
    expect(await connection.call((api) => api.opened())).toBeNull();
    expect(workers).toHaveLength(2);
    for (const w of workers) w.terminate();
  });

  it('withProgress: reports that arrive after the answer are dropped (they travel on another port)', async () => {
    const { create, workers } = fakeWorkerFactory();
    const connection = workerConnection<Api>(create, 'evaluation worker');
    const seen: number[] = [];
    const answer = await connection.call((api) =>
      withProgress(
        (n: number) => void seen.push(n),
        (progress) => api.work(progress),
      ),
    );
    expect(answer).toBe('done');
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual([1]);
    for (const w of workers) w.terminate();
  });
});
