import { z } from 'zod';

export const ObservedEvent = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z.enum(['invocation', 'decision.held', 'decision.resolved', 'decision.cancelled', 'decision.expired', 'pheromone.deposited', 'pheromone.evaporated', 'flag.raised', 'flag.lowered']),
  data: z.record(z.string(), z.unknown()),
});
export type ObservedEvent = z.infer<typeof ObservedEvent>;

export interface Subscriber {
  /** Called with batches; never awaited by publishers. */
  deliver(events: ObservedEvent[], dropped: number): void;
  close(): void;
}

interface Subscription {
  subscriber: Subscriber;
  queue: ObservedEvent[];
  dropped: number;
  scheduled: boolean;
}

/**
 * The fire-and-forget mirror: publishing appends to a bounded ring of history and to each
 * observer's bounded queue, then returns. Delivery happens later, in a microtask; an observer
 * that cannot keep up loses its oldest events and is told how many, and never slows a
 * publisher down.
 */
export class EventHub {
  private readonly history: ObservedEvent[] = [];
  private readonly subscriptions = new Set<Subscription>();
  private seq = 0;

  constructor(
    private readonly historySize = 1000,
    /** Events held for one observer at most; its transport holds no more either. */
    readonly queueSize = 1000,
  ) {}

  publish(kind: ObservedEvent['kind'], data: Record<string, unknown>): void {
    const event: ObservedEvent = { seq: ++this.seq, at: new Date().toISOString(), kind, data };
    this.history.push(event);
    if (this.history.length > this.historySize) this.history.shift();
    for (const s of this.subscriptions) this.enqueue(s, [event]);
  }

  /**
   * Replays history (only what came after event `afterSeq`, for an observer resuming where it
   * left off), then streams new events. Returns the unsubscribe function.
   */
  subscribe(subscriber: Subscriber, afterSeq = 0): () => void {
    const s: Subscription = { subscriber, queue: [], dropped: 0, scheduled: false };
    this.subscriptions.add(s);
    this.enqueue(s, this.history.filter((e) => e.seq > afterSeq));
    return () => {
      this.subscriptions.delete(s);
      subscriber.close();
    };
  }

  get observers(): number {
    return this.subscriptions.size;
  }

  private enqueue(s: Subscription, events: ObservedEvent[]): void {
    s.queue.push(...events);
    if (s.queue.length > this.queueSize) {
      s.dropped += s.queue.length - this.queueSize;
      s.queue.splice(0, s.queue.length - this.queueSize);
    }
    if (s.scheduled) return;
    s.scheduled = true;
    queueMicrotask(() => {
      s.scheduled = false;
      const batch = s.queue.splice(0);
      const dropped = s.dropped;
      s.dropped = 0;
      if (batch.length || dropped) s.subscriber.deliver(batch, dropped);
    });
  }
}

/**
 * The events delivered to one observer and not yet written out, at most `size`: a client that
 * stops reading makes its transport wait on the socket, and the hub keeps delivering, so the
 * oldest are dropped here too, and counted, rather than held without end.
 */
export class Backlog {
  private events: ObservedEvent[] = [];
  private droppedCount = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly size: number) {}

  readonly deliver = (events: ObservedEvent[], dropped: number): void => {
    this.events.push(...events);
    this.droppedCount += dropped;
    if (this.events.length > this.size) {
      this.droppedCount += this.events.length - this.size;
      this.events.splice(0, this.events.length - this.size);
    }
    this.wake?.();
  };

  /** Wakes a waiting take(), which then finds nothing (the observer is leaving). */
  interrupt(): void {
    this.wake?.();
  }

  /** What is waiting, and how many were dropped since the last take; waits while there is nothing, at most `waitMs`. */
  async take(waitMs = Number.POSITIVE_INFINITY): Promise<{ events: ObservedEvent[]; dropped: number }> {
    if (this.events.length === 0 && this.droppedCount === 0) {
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(waitMs) ? setTimeout(resolve, waitMs) : null;
        this.wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
    }
    this.wake = null;
    const taken = { events: this.events, dropped: this.droppedCount };
    this.events = [];
    this.droppedCount = 0;
    return taken;
  }
}
