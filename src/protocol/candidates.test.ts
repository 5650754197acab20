/**
 * The candidates' channel with real MessagePorts (node:worker_threads): the sender's buffer is transferred (it is
 * detached after posting), the receiver waits for a candidate that has not arrived yet, an abort ends the wait, and
 * unclaimed candidates are bounded.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CandidateInbox, postCandidate } from './candidates';

const ports = () => {
  const { port1, port2 } = new MessageChannel();
  return { port1: port1 as unknown as MessagePort, port2: port2 as unknown as MessagePort, close: () => (port1.close(), port2.close()) };
};

describe('candidate channel', () => {
  it('transfers the bytes (the sender keeps nothing) and the receiver gets them by id, whichever comes first', async () => {
    const { port1, port2, close } = ports();
    const inbox = new CandidateInbox();
    inbox.listen(port2);
    const waiting = inbox.take(2);
    const one = new Uint8Array([1, 2, 3]);
    const two = new Uint8Array([4, 5]);
    postCandidate(port1, 1, one);
    postCandidate(port1, 2, two);
    expect(one.byteLength).toBe(0); // detached: transferred, not copied
    expect([...(await waiting)]).toEqual([4, 5]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect([...(await inbox.take(1))]).toEqual([1, 2, 3]);
    expect(inbox.size).toBe(0);
    close();
  });

  it('a view into a larger buffer is sent as its own bytes', async () => {
    const { port1, port2, close } = ports();
    const inbox = new CandidateInbox();
    inbox.listen(port2);
    const whole = new Uint8Array([9, 8, 7, 6]);
    postCandidate(port1, 5, whole.subarray(1, 3));
    expect([...(await inbox.take(5))]).toEqual([8, 7]);
    close();
  });

  it('an abort ends the wait with the signal reason', async () => {
    const inbox = new CandidateInbox();
    const controller = new AbortController();
    const waiting = inbox.take(9, controller.signal);
    controller.abort(Object.assign(new Error('Cancelled'), { name: 'AbortError' }));
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // It arrives later: held (bounded), not handed to the aborted wait.
    inbox.deliver(9, new Uint8Array(1));
    expect(inbox.size).toBe(1);
  });

  it('keeps at most `keep` unclaimed candidates, dropping the oldest', () => {
    const inbox = new CandidateInbox(2);
    for (let id = 1; id <= 4; id++) inbox.deliver(id, new Uint8Array(id));
    expect(inbox.size).toBe(2);
  });
});
