import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RedisKv } from '../../common/kv/redis.ts';
import { freePort } from '../../common/net.ts';
import { startNucleus } from '../../nucleus/index.ts';
import { RedisServer } from '../support/redis-server.ts';
import { REPO_ROOT } from '../support/tmp.ts';

let redis: RedisServer | null = null;
let child: ChildProcess | null = null;
afterAll(async () => {
  child?.kill('SIGKILL');
  await redis?.stop();
});

describe('kgents nucleus with Redis not up yet', () => {
  it('starts anyway, answers /readyz 503 and store errors as JSON, then becomes ready when Redis comes up', async () => {
    // A port where Redis will run, but not yet: pods in a cluster start in any order.
    redis = new RedisServer(await freePort());
    const port = await freePort();
    child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/kgents.js'), 'nucleus', '--port', String(port), '--redis', redis.url], {
      cwd: REPO_ROOT,
      env: { ...process.env, KGENTS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    await new Promise<void>((started, failed) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('nucleus on') && started());
      child!.once('exit', (code) => failed(new Error(`nucleus exited with ${code}: ${stderr}`)));
    });
    // stdout and stderr are separate pipes: the warning may arrive after the start line.
    await vi.waitFor(() => expect(stderr).toContain('Redis is not reachable yet'), { timeout: 2_000 });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, store: { kind: 'redis', ok: false } });
    const deposit = () =>
      fetch(`${base}/v1/pheromones`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'WARNING', source: 'test', intensity: 0.5, halfLife: '1m' }) });
    const refused = await deposit();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'store_unavailable' } });

    await redis.restart();
    await vi.waitFor(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), { timeout: 10_000, interval: 100 });
    expect((await deposit()).status).toBe(201);

    const exited = new Promise<number | null>((done) => child!.once('exit', done));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = null;
  }, 30_000);
});

describe('the nucleus on the Redis that Spin apps share', () => {
  it('sweeps the rate-limit state that has run out, and leaves the rest', async () => {
    const store = await RedisServer.start();
    const kv = new RedisKv(store.url);
    await kv.ready();
    const nucleus = await startNucleus({ port: 0, kv, agents: [] });
    try {
      const nowMicros = Date.now() * 1000;
      await kv.client.mset({ 'rl/edge-limit/gone': String(nowMicros - 1), 'rl/edge-limit/live': String(nowMicros + 60_000_000), 'pheromone/WARNING': 'not state' });
      expect(await nucleus.sweepRateLimitState()).toBe(1);
      expect((await kv.client.keys('*')).sort()).toEqual(['pheromone/WARNING', 'rl/edge-limit/live']);
    } finally {
      await nucleus.close();
      await kv.close();
      await store.stop();
    }
  });
});
