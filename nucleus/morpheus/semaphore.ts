import type { Cancel } from './cancel.ts';
import { GatewayError } from './errors.ts';

/**
 * A counting semaphore with a bounded queue. When the queue is full, acquire fails at once
 * (the caller answers 429 with Retry-After) instead of letting requests pile up.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    readonly name: string,
    readonly max: number,
    readonly queueMax: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(signal?: Cancel): Promise<() => void> {
    if (this.active < this.max) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.queueMax) {
      throw new GatewayError('RATE_LIMITED', `${this.name} is at capacity (${this.max} running, ${this.queueMax} queued); retry shortly`, 1);
    }
    await new Promise<void>((resolve, reject) => {
      // A waiter given its slot stops listening: a request that waits more than once (retries) would pile up listeners.
      const entry = { resolve: () => (stopFollowing?.(), resolve()), reject };
      this.waiting.push(entry);
      const stopFollowing = signal?.onAbort(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve();
      else this.active--;
    };
  }
}
