import { randomUUID } from 'node:crypto';
import { KgentsError } from '../../common/errors.ts';
import type { EventHub } from '../observe/hub.ts';

export const PURGATORY_STATUSES = ['pending', 'resolved', 'cancelled', 'expired'] as const;
export type PurgatoryStatus = (typeof PURGATORY_STATUSES)[number];

export interface HeldDecision {
  token: string;
  agent: string;
  input: string;
  output: string;
  reason: string;
  status: PurgatoryStatus;
  heldAt: string;
  expiresAt: string;
  resolution?: { input: string; at: string };
}

/**
 * Decisions the conscience held, waiting for a human: list, resolve with input, cancel; entries
 * expire. A settled entry (resolved, cancelled, expired) stays readable for another TTL, then
 * goes: each holds an agent's input and answer, and a nucleus runs for months.
 */
export class Purgatory {
  private readonly entries = new Map<string, HeldDecision>();
  /** When each settled entry settled (ms). */
  private readonly settledAt = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: EventHub,
    private readonly ttlMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
    /** Decisions held at most (each holds an input of up to 1 MiB): past it, the oldest settled one goes, or, with none settled, holding fails. */
    private readonly capacity = 10_000,
  ) {
    this.timer = setInterval(() => this.expire(), Math.min(1000, ttlMs)).unref();
  }

  hold(agent: string, input: string, output: string, reason: string): HeldDecision {
    this.makeRoom();
    const now = this.now();
    const entry: HeldDecision = { token: randomUUID(), agent, input, output, reason, status: 'pending', heldAt: new Date(now).toISOString(), expiresAt: new Date(now + this.ttlMs).toISOString() };
    this.entries.set(entry.token, entry);
    this.hub.publish('decision.held', { token: entry.token, agent, reason });
    return entry;
  }

  private makeRoom(): void {
    if (this.entries.size < this.capacity) return;
    this.expire();
    // A Map keeps insertion order: the first settled entry is the one that settled first.
    const oldestSettled = this.settledAt.keys().next().value;
    if (oldestSettled !== undefined) {
      this.entries.delete(oldestSettled);
      this.settledAt.delete(oldestSettled);
      return;
    }
    if (this.entries.size >= this.capacity) throw new KgentsError('OVERLOADED', `purgatory already holds ${this.capacity} decisions waiting for a human: resolve or cancel some`);
  }

  list(status?: PurgatoryStatus): HeldDecision[] {
    this.expire();
    return [...this.entries.values()].filter((e) => !status || e.status === status);
  }

  private pending(token: string): HeldDecision {
    this.expire();
    const entry = this.entries.get(token);
    if (!entry) throw new KgentsError('NOT_FOUND', `no held decision with token ${token}`);
    if (entry.status !== 'pending') throw new KgentsError('CONFLICT', `decision ${token} is already ${entry.status}`);
    return entry;
  }

  resolve(token: string, input: string): HeldDecision {
    const entry = this.pending(token);
    entry.status = 'resolved';
    entry.resolution = { input, at: new Date(this.now()).toISOString() };
    this.settledAt.set(token, this.now());
    this.hub.publish('decision.resolved', { token, agent: entry.agent });
    return entry;
  }

  cancel(token: string): HeldDecision {
    const entry = this.pending(token);
    entry.status = 'cancelled';
    this.settledAt.set(token, this.now());
    this.hub.publish('decision.cancelled', { token, agent: entry.agent });
    return entry;
  }

  expire(): void {
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (entry.status === 'pending' && Date.parse(entry.expiresAt) <= now) {
        entry.status = 'expired';
        this.settledAt.set(entry.token, Date.parse(entry.expiresAt));
        this.hub.publish('decision.expired', { token: entry.token, agent: entry.agent });
      }
    }
    for (const [token, at] of this.settledAt) {
      if (at + this.ttlMs > now) continue;
      this.settledAt.delete(token);
      this.entries.delete(token);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
