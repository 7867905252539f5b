import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryKv } from '../../common/kv/memory.ts';
import { createLogger } from '../../common/log.ts';
import { RateLimitStateSweeper } from '../../common/rate-limit-state.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { startEchoUpstream } from '../support/upstream.ts';

// The shipped agent limit: 60 a minute (one a second), burst 10, GCRA, state in memory.
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let host: ReflexHost;
const kv = new MemoryKv();
let now = Date.parse('2026-11-23T12:00:00Z');

beforeAll(async () => {
  await shippedApp();
  upstream = await startEchoUpstream();
  host = await startHost({ distDir: SHIPPED_DIST, port: 0, kv, sensors: false, nowMs: () => now, env: { SPIN_VARIABLE_NUCLEUS_URL: upstream.url } });
});
afterAll(async () => {
  await host?.close();
  await upstream?.close();
});

const invoke = async (agent: string) => {
  const response = await fetch(`${host.url}/v1/agents/a/invoke`, { headers: { 'x-agent-id': agent } });
  await response.body?.cancel();
  return response.status;
};

describe('rate-limit state sweep', () => {
  it('sweeps a large memory store in slices, letting other work run between them', async () => {
    const store = new MemoryKv();
    const stale = new TextEncoder().encode('1');
    for (let i = 0; i < 50_000; i++) await store.set(`rl/x/${i}`, stale);
    await store.set('other/key', stale);
    let ranDuringSweep = false;
    const sweeping = store.sweep('rl/', () => true).then((n) => ({ n, ranDuringSweep }));
    setImmediate(() => (ranDuringSweep = true));
    expect(await sweeping).toEqual({ n: 50_000, ranDuringSweep: true });
    expect(store.size).toBe(1);
  });

  it('deletes the state of clients whose limit has refilled, and keeps the rest', async () => {
    for (const agent of ['once-1', 'once-2', 'once-3']) expect(await invoke(agent)).toBe(200);
    const burst = await Promise.all(Array.from({ length: 11 }, () => invoke('busy')));
    expect(burst.filter((s) => s === 429)).toHaveLength(1);
    const stateKeys = () => ['once-1', 'once-2', 'once-3', 'busy'].filter((a) => kv.getSync(`rl/agent-limit/${a}`) !== null);
    expect(stateKeys()).toHaveLength(4);

    // Nothing has run out yet.
    expect(await host.sweepState()).toBe(0);
    // Two seconds on, the agents seen once are back to a full burst; `busy` is 8 s from it.
    now += 2000;
    expect(await host.sweepState()).toBe(3);
    expect(stateKeys()).toEqual(['busy']);
    expect(await (await fetch(`${host.url}/metrics`)).text()).toMatch(/^kgents_rate_limit_state_swept_total 3$/m);

    // A swept client is where it would have been: a full burst, then 429.
    const again = [];
    for (let i = 0; i < 11; i++) again.push(await invoke('once-1'));
    expect(again).toEqual([...Array(10).fill(200), 429]);
    // `busy` kept its state: two seconds refilled two requests.
    expect([await invoke('busy'), await invoke('busy'), await invoke('busy')]).toEqual([200, 200, 429]);
  });

  it('sweeps a memory store early when a flood of new clients grows it, not a minute later', async () => {
    const store = new MemoryKv();
    const clock = Date.parse('2026-11-23T12:00:00Z');
    // Each client's state means nothing after the second it was written in (one a second, burst 1).
    const state = (i: number) => new TextEncoder().encode(String((clock - 1000 + (i % 1000)) * 1000));
    const swept: number[] = [];
    const sweeper = new RateLimitStateSweeper(store, () => clock, createLogger('test'), (n) => swept.push(n), { keys: 5_000, checkEveryMs: 20 });
    // One client whose state still means something (five seconds on), there before the flood.
    await store.set('rl/agent-limit/recent', new TextEncoder().encode(String((clock + 5_000) * 1000)));
    sweeper.start();
    const flood = async (name: string, count: number) => {
      for (let i = 0; i < count; i++) await store.set(`rl/agent-limit/${name}-${i}`, state(i));
    };
    try {
      await flood('first', 4_999);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(swept).toEqual([]);
      await flood('first-last', 1);
      await expect.poll(() => swept, { timeout: 2_000, interval: 20 }).toEqual([5_000]);
      expect(store.size).toBe(1);
      // The next flood is measured from what the sweep left.
      await flood('second', 4_999);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(swept).toEqual([5_000]);
      await flood('second-last', 1);
      await expect.poll(() => swept, { timeout: 2_000, interval: 20 }).toEqual([5_000, 5_000]);
      expect(store.size).toBe(1);
    } finally {
      sweeper.stop();
    }
  });
});
