import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { MemoryKv } from '../../common/kv/memory.ts';
import { freePort } from '../../common/net.ts';
import { encodeDeposit } from '../../common/pheromone.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { scratchProject } from '../support/tmp.ts';
import { startEchoUpstream } from '../support/upstream.ts';

const SENSOR = `export default {
  kind: 'pheromone-sensor', name: 'alarm', description: 'calls the on-call webhook when warnings pile up',
  route: '/_reflexes/alarm', every: '100ms', senses: { type: 'WARNING' }, threshold: { rise: 0.5, fall: 0.2 },
  upstreams: { pager: { variable: 'pager_url', default: 'http://127.0.0.1:9' } },
  onRise: [{ webhook: { upstream: 'pager', path: '/alert' } }],
};`;

let dist: string;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;

beforeAll(async () => {
  const root = scratchProject('webhook');
  mkdirSync(join(root, 'reflexes'));
  writeFileSync(join(root, 'reflexes', 'alarm.reflex.ts'), SENSOR);
  dist = join(root, 'dist');
  await buildApp({ root, outDir: dist });
  upstream = await startEchoUpstream();
});
afterAll(() => upstream?.close());

/** A host whose field is over the sensor's rise level; `tick` runs the sensor once, on its schedule's path. */
async function overThreshold(pagerUrl: string): Promise<ReflexHost> {
  const kv = new MemoryKv();
  const host = await startHost({ distDir: dist, port: 0, kv, sensors: false, env: { SPIN_VARIABLE_PAGER_URL: pagerUrl } });
  await kv.append('pheromone/WARNING', new TextEncoder().encode(encodeDeposit({ id: 'e1', type: 'WARNING', source: 'test', target: null, intensity: 0.9, halfLifeMs: 60_000, emittedAtMs: Date.now(), expiresAtMs: 0, payload: null })));
  return host;
}

async function raiseAlarm(pagerUrl: string): Promise<ReflexHost> {
  const host = await overThreshold(pagerUrl);
  await host.tickSensors();
  return host;
}

/** Webhooks are sent after the answer: wait for the upstream to have seen one more request. */
const nextRequest = (seen: unknown[], before: number) => vi.waitFor(() => expect(seen.length).toBeGreaterThan(before), { timeout: 5000, interval: 20 });

describe('sensor webhooks', () => {
  it('posts to the upstream webhook when the sensor rises', async () => {
    const before = upstream.seen.length;
    const host = await raiseAlarm(upstream.url);
    try {
      await nextRequest(upstream.seen, before);
      const call = upstream.seen[before];
      expect(call).toMatchObject({ method: 'POST', url: '/alert' });
      expect(call.headers['content-type']).toBe('application/json');
      const alert = JSON.parse(call.body);
      expect(alert).toMatchObject({ reflex: 'alarm', edge: 'rise' });
      expect(alert.level).toBeCloseTo(0.9, 2);
    } finally {
      await host.close();
    }
  });

  it('also posts it when the sensor ticks through its route, as under Spin', async () => {
    const host = await overThreshold(upstream.url);
    try {
      const before = upstream.seen.length;
      const tick = await fetch(`${host.url}/_reflexes/alarm`);
      expect(await tick.json()).toEqual({ sensor: 'alarm', up: true });
      await nextRequest(upstream.seen, before);
      expect(upstream.seen.slice(before)).toHaveLength(1);
      expect(upstream.seen[before]).toMatchObject({ method: 'POST', url: '/alert' });
      expect(JSON.parse(upstream.seen[before].body)).toMatchObject({ reflex: 'alarm', edge: 'rise' });
    } finally {
      await host.close();
    }
  });

  it('counts an unreachable webhook as a webhook failure, not as an outbound denial', async () => {
    const host = await raiseAlarm(`http://127.0.0.1:${await freePort()}`);
    try {
      const text = await vi.waitFor(
        async () => {
          const scraped = await host.metrics.registry.metrics();
          expect(scraped).toMatch(/kgents_sensor_webhook_failures_total\{reflex="alarm"\} 1/);
          return scraped;
        },
        { timeout: 5000, interval: 20 },
      );
      expect(text).not.toMatch(/kgents_outbound_denied_total\{reflex="alarm"\}/);
    } finally {
      await host.close();
    }
  });
});
