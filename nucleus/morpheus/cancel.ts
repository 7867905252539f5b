import { EventEmitter } from 'node:events';

/**
 * A request's cancellation, as the gateway's parts wait on it: undici (which takes an
 * EventEmitter as its signal), the semaphores' queues, the retry pause and the claude CLI.
 *
 * Why not an AbortSignal: on Node 20 an AbortController and one listener cost about 3 µs, and
 * under load Morpheus served about a tenth more requests a second without them (A/B of
 * bench/morpheus.bench.ts's gateway at 100 connections); an EventEmitter costs a thirtieth.
 */
export class Cancel extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** Runs `listener` once on abort, at once if it already happened; returns its removal. */
  onAbort(listener: () => void): () => void {
    if (this.aborted) {
      listener();
      return () => {};
    }
    this.once('abort', listener);
    return () => this.off('abort', listener);
  }

  /** Follows a web AbortSignal (off Node, and in tests). */
  static following(signal: AbortSignal): Cancel {
    const cancel = new Cancel();
    if (signal.aborted) cancel.abort(signal.reason);
    else signal.addEventListener('abort', () => cancel.abort(signal.reason), { once: true });
    return cancel;
  }
}
