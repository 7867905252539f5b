import { describe, expect, it } from 'vitest';
import type { TickReport } from '../../compiler/abi.ts';
import type { LoadedReflex } from '../../cytoplasm/app.ts';
import { createHostMetrics } from '../../cytoplasm/metrics.ts';
import { phaseOf, SensorScheduler } from '../../cytoplasm/sensors.ts';
import { createLogger } from '../../common/log.ts';

// The scheduler is the unit here, so its sensors are stubs whose tick takes as long as a test
// needs; compiled sensors tick through it in host.test.ts and bench/host.bench.ts.
const stubSensor = (name: string, every: number, tick: () => TickReport | Promise<TickReport>) =>
  ({ reflex: { name, kind: 'pheromone-sensor', spec: { every } }, runtime: { tick } }) as unknown as LoadedReflex;
const NOTHING: TickReport = { level: 0, events: [] };

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Runs the scheduler until `done` settles, then reads its jitter and skip metrics. */
async function scheduled(sensors: LoadedReflex[], done: Promise<unknown>) {
  const metrics = createHostMetrics(() => ({}));
  const scheduler = new SensorScheduler(metrics, createLogger('test', 'silent'), () => {});
  scheduler.set(sensors);
  scheduler.start();
  await done;
  scheduler.stop();
  const sum = (await metrics.tickJitter.get()).values.filter((v) => v.metricName?.endsWith('_sum'));
  const skipped = (await metrics.ticksSkipped.get()).values.reduce((n, v) => n + v.value, 0);
  return { jitterSumSeconds: sum.reduce((n, v) => n + v.value, 0), skipped };
}

describe('sensor scheduling', () => {
  it('sensors sharing an `every` tick at fixed phases spread over the period', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `sensor-${i}`);
    expect(names.map((n) => phaseOf(n, 100))).toEqual(names.map((n) => phaseOf(n, 100)));
    const tenths = new Array(10).fill(0);
    for (const n of names) {
      const phase = phaseOf(n, 100);
      expect(phase).toBeGreaterThanOrEqual(0);
      expect(phase).toBeLessThan(100);
      tenths[Math.floor(phase / 10)]++;
    }
    for (const count of tenths) expect(count).toBeGreaterThan(60);
  });

  it('a tick that waits for a slow one in the same round counts the wait as lateness', async () => {
    // Two names whose phases lie within 0.2 ms of each other: both fall due in one round.
    const byPhase = Array.from({ length: 2000 }, (_, i) => `s-${i}`).sort((a, b) => phaseOf(a, 100) - phaseOf(b, 100));
    const pair = byPhase.findIndex((n, i) => i + 1 < byPhase.length && phaseOf(byPhase[i + 1], 100) - phaseOf(n, 100) < 0.2);
    const ticked: string[] = [];
    let bothTicked!: () => void;
    const done = new Promise<void>((resolve) => (bothTicked = resolve));
    const sensors = [byPhase[pair], byPhase[pair + 1]].map((name) =>
      stubSensor(name, 100, () => {
        ticked.push(name);
        busy(30);
        if (ticked.length === 2) bothTicked();
        return NOTHING;
      }),
    );
    const { jitterSumSeconds } = await scheduled(sensors, done);
    expect(ticked.sort()).toEqual([byPhase[pair], byPhase[pair + 1]].sort());
    // Whichever ran second started about 30 ms late; measured at the round's start it looked on time.
    expect(jitterSumSeconds).toBeGreaterThan(0.025);
  });

  it('a tick still running when the next falls due makes that one skip, not queue', async () => {
    let calls = 0;
    const slow = stubSensor('slow', 100, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 250));
      return NOTHING;
    });
    // Slots fall due at phase, +100, +200, +300 ms; the first tick runs until phase + 250 ms.
    const { skipped } = await scheduled([slow], new Promise((r) => setTimeout(r, phaseOf('slow', 100) + 330)));
    expect(skipped).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(2);
  });

  it('a reload while a tick is running (on Redis, ticks wait on the store) lets the sensor tick again once it ends', async () => {
    const metrics = createHostMetrics(() => ({}));
    const scheduler = new SensorScheduler(metrics, createLogger('test', 'silent'), () => {});
    let ticks = 0;
    let finishFirst: (report: TickReport) => void = () => {};
    const tick = () => {
      ticks++;
      return ticks === 1 ? new Promise<TickReport>((resolve) => (finishFirst = resolve)) : NOTHING;
    };
    scheduler.set([stubSensor('watcher', 100, tick)]);
    scheduler.start();
    try {
      await new Promise((r) => setTimeout(r, 150));
      expect(ticks).toBe(1);
      // Hot reload: the same sensor, rebuilt, while its first tick still waits.
      scheduler.set([stubSensor('watcher', 100, tick)]);
      finishFirst(NOTHING);
      await new Promise((r) => setTimeout(r, 250));
      expect(ticks).toBeGreaterThan(1);
    } finally {
      scheduler.stop();
    }
  });
});
