import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKv } from '../../common/kv/redis.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { startNucleus, type Nucleus } from '../../nucleus/index.ts';
import { mirrorReflexFlags } from '../../nucleus/observe/reflex-flags.ts';
import { RedisServer } from '../support/redis-server.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';

/**
 * The nucleus and the reflex host in separate stores clients on one real Redis: a WARNING
 * deposited through the nucleus API is read by the compiled sensor reflex through
 * wasi:keyvalue, which raises `degraded`, which the compiled router obeys.
 */
let redis: RedisServer;
let nucleusKv: RedisKv;
let hostKv: RedisKv;
let nucleus: Nucleus;
let host: ReflexHost;

beforeAll(async () => {
  await shippedApp();
  redis = await RedisServer.start();
  nucleusKv = new RedisKv(redis.url);
  hostKv = new RedisKv(redis.url);
  await Promise.all([nucleusKv.ready(), hostKv.ready()]);
  nucleus = await startNucleus({ port: 0, kv: nucleusKv, agents: [] });
  host = await startHost({ distDir: SHIPPED_DIST, port: 0, kv: hostKv, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: nucleus.url } });
});
afterAll(async () => {
  await host?.close();
  await nucleus?.close();
  await Promise.all([nucleusKv?.close(), hostKv?.close()]);
  await redis?.stop();
});

describe('pheromone field shared by the nucleus and compiled reflexes', () => {
  it('a deposit through the API is sensed by the shipped sensor, and the router then sheds load', async () => {
    expect((await fetch(`${host.url}/v1/agents`)).status).toBe(200);
    const deposit = await fetch(`${nucleus.url}/v1/pheromones`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'WARNING', source: 'nucleus', target: 'nucleus', intensity: 0.95, halfLife: '10m' }),
    });
    expect(deposit.status).toBe(201);
    const reports: { reflex: string; report: { level: number; events: { kind: string; a: string }[] } }[] = [];
    host.on('sensor', (e) => reports.push(e));
    const stopMirror = mirrorReflexFlags(host, nucleus.hub);
    await host.tickSensors();
    stopMirror();
    expect(reports[0].reflex).toBe('nucleus-degraded');
    expect(reports[0].report.level).toBeCloseTo(0.95, 3);
    expect(reports[0].report.events).toContainEqual({ kind: 'raised', a: 'degraded', b: '' });
    expect(new TextDecoder().decode((await nucleusKv.get('flag/degraded'))!)).toBe('1');
    const shed = await fetch(`${host.url}/v1/agents`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('5');
    // The sensor's own STATE deposit is visible through the nucleus API as well.
    const state = await (await fetch(`${nucleus.url}/v1/pheromones?type=STATE&target=nucleus`)).json();
    expect(state.pheromones[0]).toMatchObject({ source: 'nucleus-degraded', initialIntensity: 1 });
    // ... and the flag shows up in the nucleus's observe stream, as `kgents up` wires it.
    const history = await readFirstSse(`${nucleus.url}/v1/observe`, 'flag.raised');
    expect(history).toMatchObject({ kind: 'flag.raised', data: { reflex: 'nucleus-degraded', flag: 'degraded' } });
  });
});

/** Reads an SSE stream until an event of `kind` arrives, then hangs up. */
async function readFirstSse(url: string, kind: string): Promise<Record<string, unknown>> {
  const reader = (await fetch(url)).body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`no ${kind} event`);
    buffer += decoder.decode(value, { stream: true });
    for (const line of buffer.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const event = JSON.parse(line.slice(5));
      if (event.kind === kind) {
        await reader.cancel().catch(() => {});
        return event;
      }
    }
  }
}
