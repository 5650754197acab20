/**
 * Candidate files travel from the model worker to the evaluation worker over a MessageChannel of their own (the
 * page creates it and transfers one port to each worker, again after either restarts); the page only names them.
 */

/** Chosen by the page, unique for the page's lifetime. */
export type CandidateId = number;

/** The one message on the channel: a candidate's file, its buffer transferred. */
export interface CandidateMessage {
  type: 'candidate';
  id: CandidateId;
  bytes: Uint8Array;
}

/** The model worker's end: posts a candidate, transferring its buffer (the sender's copy becomes unusable). */
export function postCandidate(port: Pick<MessagePort, 'postMessage'>, id: CandidateId, bytes: Uint8Array): void {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  const message: CandidateMessage = { type: 'candidate', id, bytes: own };
  port.postMessage(message, [own.buffer as ArrayBuffer]);
}

/**
 * The evaluation worker's end: candidates by id, waiting for the ones not arrived yet (the page's call and the
 * candidate travel on different channels, so either may come first). Unclaimed candidates beyond `keep` are
 * dropped oldest first (a cancelled measurement never claims its candidate).
 */
export class CandidateInbox {
  private readonly arrived = new Map<CandidateId, Uint8Array>();
  private readonly waiting = new Map<CandidateId, (bytes: Uint8Array) => void>();
  constructor(private readonly keep = 16) {}

  /** Listens on `port` (replacing nothing: a port per worker pair; the old one closes with its worker). */
  listen(port: MessagePort): void {
    port.onmessage = (event: MessageEvent<CandidateMessage>) => {
      if (event.data?.type === 'candidate') this.deliver(event.data.id, event.data.bytes);
    };
    port.start?.();
  }

  deliver(id: CandidateId, bytes: Uint8Array): void {
    const waiter = this.waiting.get(id);
    if (waiter) {
      this.waiting.delete(id);
      waiter(bytes);
      return;
    }
    this.arrived.set(id, bytes);
    while (this.arrived.size > this.keep) this.arrived.delete(this.arrived.keys().next().value!);
  }

  /** The candidate's bytes, once arrived; rejects with the signal's reason when aborted first. */
  take(id: CandidateId, signal?: AbortSignal): Promise<Uint8Array> {
    const ready = this.arrived.get(id);
    if (ready) {
      this.arrived.delete(id);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.waiting.delete(id);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, (bytes) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(bytes);
      });
    });
  }

  /** Unclaimed candidates held (for tests). */
  get size(): number {
    return this.arrived.size;
  }
}
