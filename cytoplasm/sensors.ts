import { createHash } from 'node:crypto';
import type { TickReport } from '../compiler/abi.ts';
import type { Logger } from '../common/log.ts';
import type { LoadedReflex } from './app.ts';
import type { HostMetrics } from './metrics.ts';

export interface SensorEvent {
  reflex: string;
  report: TickReport;
}

interface Scheduled {
  reflex: LoadedReflex;
  every: number;
  due: number;
  running: boolean;
}

/**
 * Where in its period a sensor ticks, from its name: a fixed phase in [0, every). Sensors that
 * share an `every` spread over the period instead of all falling due in one round, where the
 * last of a thousand would start some 15 ms late.
 */
export function phaseOf(name: string, every: number): number {
  return (createHash('sha256').update(name).digest().readUInt32BE(0) / 2 ** 32) * every;
}

/**
 * Ticks every sensor at its `every` from one timer (a thousand sensors are a thousand entries,
 * not a thousand timers). A tick still running when its next one is due makes that next one
 * skip: ticks never queue up behind each other. How late a tick starts against its schedule
 * is the jitter.
 */
export class SensorScheduler {
  private sensors = new Map<string, Scheduled>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly metrics: HostMetrics,
    private readonly logger: Logger,
    private readonly onReport: (event: SensorEvent) => void,
  ) {}

  set(reflexes: Iterable<LoadedReflex>): void {
    const next = new Map<string, Scheduled>();
    const now = performance.now();
    for (const reflex of reflexes) {
      if (reflex.reflex.kind !== 'pheromone-sensor') continue;
      const every = Number(reflex.reflex.spec.every);
      // A sensor already scheduled keeps its entry: a tick running on it (on Redis, across the
      // reload) clears `running` on this same object when it ends. A copy kept `running` set for
      // good, and the sensor never ticked again; a fresh entry would let a new tick overlap it.
      const existing = this.sensors.get(reflex.reflex.name);
      if (existing) {
        existing.reflex = reflex;
        if (existing.every !== every) Object.assign(existing, { every, due: now + phaseOf(reflex.reflex.name, every) });
        next.set(reflex.reflex.name, existing);
      } else next.set(reflex.reflex.name, { reflex, every, due: now + phaseOf(reflex.reflex.name, every), running: false });
    }
    this.sensors = next;
    this.arm();
  }

  /** Starts ticking on schedule (without it, sensors tick only through tickAll). */
  start(): void {
    this.running = true;
    this.arm();
  }

  private arm(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    let earliest = Infinity;
    for (const s of this.sensors.values()) earliest = Math.min(earliest, s.due);
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, earliest - performance.now()));
  }

  private fire(): void {
    for (const s of this.sensors.values()) {
      // Read per sensor: one that waits for others ticking before it in this round is late by that wait too.
      const now = performance.now();
      if (s.due > now) continue;
      const name = s.reflex.reflex.name;
      this.metrics.tickJitter.observe({ reflex: name }, (now - s.due) / 1000);
      // Next slot on the original grid; slots already missed are skipped, not replayed.
      const missed = Math.floor((now - s.due) / s.every);
      if (missed > 0) this.metrics.ticksSkipped.inc({ reflex: name }, missed);
      s.due += (missed + 1) * s.every;
      if (s.running) {
        this.metrics.ticksSkipped.inc({ reflex: name });
        continue;
      }
      this.run(s);
    }
    this.arm();
  }

  private run(s: Scheduled): void {
    s.running = true;
    const name = s.reflex.reflex.name;
    try {
      const result = s.reflex.runtime.tick();
      if (result instanceof Promise) {
        result.then((report) => this.report(name, report), (error) => this.fail(name, error)).finally(() => (s.running = false));
        return;
      }
      this.report(name, result);
    } catch (error) {
      this.fail(name, error);
    }
    s.running = false;
  }

  private report(reflex: string, report: TickReport): void {
    if (report.events.length > 0) this.onReport({ reflex, report });
  }

  private fail(reflex: string, error: unknown): void {
    this.logger.error({ reflex, err: (error as Error).message }, 'sensor tick failed');
  }

  /** Runs one tick of every sensor now, off schedule (tests drive sensors this way). */
  async tickAll(): Promise<void> {
    for (const s of this.sensors.values()) {
      const report = await s.reflex.runtime.tick();
      this.report(s.reflex.reflex.name, report);
    }
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
