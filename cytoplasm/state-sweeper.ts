import { RATE_LIMIT_STATE_PREFIX, rateLimitStateEnd } from '../compiler/abi.ts';
import type { KvStore } from '../common/kv/index.ts';
import type { Logger } from '../common/log.ts';
import type { HostMetrics } from './metrics.ts';

/** Stale state costs only space, so once a minute is soon enough. */
export const SWEEP_INTERVAL_MS = 60_000;

/**
 * Rate-limit state outlives its meaning, and `wasi:keyvalue` has no expiry: every client a limit
 * ever saw would keep a key. The host deletes the state that has run out, in memory or on
 * Redis (where several hosts may sweep one store: a key goes only if it did not change meanwhile).
 */
export class StateSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly kv: KvStore,
    private readonly nowMs: () => number,
    private readonly metrics: HostMetrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One sweep now; returns how many keys went (0 while one is already running). */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const nowMicros = this.nowMs() * 1000;
      const swept = await this.kv.sweep(RATE_LIMIT_STATE_PREFIX, (value) => rateLimitStateEnd(value) <= nowMicros);
      this.metrics.stateSwept.inc(swept);
      return swept;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'rate-limit state sweep failed; the next one runs in a minute');
      return 0;
    } finally {
      this.running = false;
    }
  }
}
