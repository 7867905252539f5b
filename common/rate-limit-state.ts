import type { KvStore } from './kv/index.ts';
import type { Logger } from './log.ts';

/** Rate limits keep their state under `rl/<reflex>/<key>`. */
export const RATE_LIMIT_STATE_PREFIX = 'rl/';

/**
 * When a rate limit's state value stops meaning anything, in µs since the epoch: each value
 * starts with that time as decimal text (GCRA's theoretical arrival time; a fixed window's end,
 * then `:count`). Past it, the key and its absence are the same state, so it can be deleted.
 */
export function rateLimitStateEnd(value: Uint8Array): number {
  let micros = 0;
  for (const byte of value) {
    if (byte < 48 || byte > 57) break;
    micros = micros * 10 + (byte - 48);
  }
  return micros;
}

/** Stale state costs only space, so once a minute is soon enough... */
export const SWEEP_INTERVAL_MS = 60_000;

/**
 * ...unless a flood of new clients (a key each: random `x-agent-id`s) adds keys faster: a store
 * that knows its size is looked at every second and swept when it has grown by this many keys
 * since the last sweep. At 30,000 new clients a second a minute's wait held 1.8 million keys;
 * now a limit whose state means nothing after a second holds about this many.
 */
export const SWEEP_GROWTH = { keys: 50_000, checkEveryMs: 1_000 };

/**
 * Rate-limit state outlives its meaning, and `wasi:keyvalue` has no expiry: every client a limit
 * ever saw would keep a key. The reflex host sweeps its store, and so does the nucleus (in a
 * cluster, the Redis the Spin apps share). Several sweepers may share one store: a key goes
 * only if it did not change meanwhile.
 */
export class RateLimitStateSweeper {
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private sizeAfterSweep = 0;

  constructor(
    private readonly kv: KvStore,
    private readonly nowMs: () => number,
    private readonly logger: Logger,
    private readonly onSwept: (count: number) => void = () => {},
    private readonly growth = SWEEP_GROWTH,
  ) {}

  start(): void {
    if (this.timers.length > 0) return;
    this.sizeAfterSweep = this.kv.size ?? 0;
    this.timers.push(setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref());
    if (this.kv.size !== undefined) {
      const check = () => {
        if (this.kv.size! - this.sizeAfterSweep >= this.growth.keys) void this.sweep();
      };
      this.timers.push(setInterval(check, this.growth.checkEveryMs).unref());
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** One sweep now; returns how many keys went (0 while one is already running). */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const nowMicros = this.nowMs() * 1000;
      const swept = await this.kv.sweep(RATE_LIMIT_STATE_PREFIX, (value) => rateLimitStateEnd(value) <= nowMicros);
      this.sizeAfterSweep = this.kv.size ?? 0;
      this.onSwept(swept);
      return swept;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'rate-limit state sweep failed; the next one runs in a minute');
      return 0;
    } finally {
      this.running = false;
    }
  }
}
