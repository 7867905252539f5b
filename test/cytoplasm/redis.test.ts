import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import { RedisKv } from '../../common/kv/redis.ts';
import type { Decision } from '../../compiler/abi.ts';
import { rateLimitStateEnd } from '../../common/rate-limit-state.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { RedisServer } from '../support/redis-server.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { REPO_ROOT } from '../support/tmp.ts';
import { startEchoUpstream } from '../support/upstream.ts';

let redis: RedisServer;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;

beforeAll(async () => {
  await shippedApp();
  redis = await RedisServer.start();
  upstream = await startEchoUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

/** A real `kgents up` process serving the shipped dist on Redis. */
async function hostProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/kgents.js'), 'up', '--no-build', '--out', SHIPPED_DIST, '--port', String(port), '--redis', redis.url, '--no-nucleus', '--no-morpheus'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPIN_VARIABLE_NUCLEUS_URL: upstream.url, KGENTS_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('reflex host on')) resolveReady();
    });
    child.once('exit', (code) => reject(new Error(`host exited with ${code}`)));
  });
  return child;
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
    child.kill('SIGTERM');
  });
}

describe('reflex hosts sharing one Redis', () => {
  it('two host processes hold one limit between them under concurrent load', async () => {
    const ports = [await freePort(), await freePort()];
    const hosts = await Promise.all(ports.map(hostProcess));
    try {
      const started = Date.now();
      const requests = Array.from({ length: 80 }, (_, i) =>
        fetch(`http://127.0.0.1:${ports[i % 2]}/v1/agents/a/invoke`, { headers: { 'x-agent-id': 'shared-agent' } }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      );
      const statuses = await Promise.all(requests);
      const elapsedS = (Date.now() - started) / 1000;
      const admitted = statuses.filter((s) => s === 200).length;
      // burst 10, refilling one a second: anything above that would be over-admission.
      expect(admitted).toBeGreaterThanOrEqual(10);
      expect(admitted).toBeLessThanOrEqual(10 + Math.floor(elapsedS) + 1);
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    } finally {
      expect(await Promise.all(hosts.map(stop))).toEqual([0, 0]);
    }
  });

  it('follows each reflex failure policy while Redis is down, and recovers after a restart', async () => {
    const kv = new RedisKv(redis.url, { commandTimeoutMs: 300 });
    await kv.ready();
    const host: ReflexHost = await startHost({ distDir: SHIPPED_DIST, port: 0, kv, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: upstream.url } });
    const call = async (path: string, agent = 'policy-agent') => {
      const r = await fetch(`${host.url}${path}`, { headers: { 'x-agent-id': agent } });
      await r.body?.cancel();
      return r.status;
    };
    try {
      expect(await call('/v1/agents/a')).toBe(200);
      await redis.kill();
      // The rate limit is fail-closed: no state, no admission.
      expect(await call('/v1/agents/a')).toBe(503);
      // The router only reads a flag: it fails open and keeps routing.
      expect(await call('/v1/chat/x')).toBe(200);
      const ready = await fetch(`${host.url}/readyz`);
      expect(ready.status).toBe(503);
      await redis.restart();
      await kv.ready(10_000);
      expect(await call('/v1/agents/a')).toBe(200);
      expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
    } finally {
      await host.close();
      await kv.close();
    }
  });

  /** A host on Redis, its rate limit's decide, and Redis's own count of commands run. */
  async function withLimit(test: (t: { decide: (agent: string) => Promise<Decision>; calls: (command: string) => Promise<number>; admin: Redis; host: ReflexHost }) => Promise<void>) {
    const kv = new RedisKv(redis.url);
    await kv.ready();
    const admin = new Redis(redis.url);
    const host: ReflexHost = await startHost({ distDir: SHIPPED_DIST, port: 0, kv, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: upstream.url } });
    const limit = host.loaded.reflexes.get('agent-limit')!.runtime;
    const decide = async (agent: string) => limit.decide({ method: 'GET', path: '/v1/agents/a/invoke', query: '', client: '127.0.0.1', headers: [['x-agent-id', agent]] });
    // INFO commandstats counts every command since the last CONFIG RESETSTAT.
    const calls = async (command: string) => Number(/calls=(\d+)/.exec((await admin.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${command}:`)) ?? '')?.[1] ?? 0);
    try {
      await test({ decide, calls, admin, host });
    } finally {
      admin.disconnect();
      await host.close();
      await kv.close();
    }
  }

  it('group-commits the calls that queue up: one read and one commit per batch, and the limit still holds', () =>
    withLimit(async ({ decide, calls, admin }) => {
      await admin.config('RESETSTAT');
      // The first call goes out at once; the 39 behind it queue up and go out as one batch.
      const fresh = await Promise.all(Array.from({ length: 40 }, (_, i) => decide(`batch-agent-${i}`)));
      expect(fresh.map((d) => d.action)).toEqual(Array(40).fill('forward'));
      expect(await calls('mget')).toBe(2);
      expect((await calls('eval')) + (await calls('evalsha'))).toBe(2); // the commit script
      for (let i = 0; i < 40; i++) expect(await admin.exists(`rl/agent-limit/batch-agent-${i}`)).toBe(1);

      // One key, 60 calls in one batch: each call sees the writes of the calls before it. Each
      // first stops at the missing key; those aborted calls must not fill the memory cap.
      const shared = await Promise.all(Array.from({ length: 60 }, () => decide('one-agent')));
      const admitted = shared.filter((d) => d.action === 'forward').length;
      expect(admitted).toBeGreaterThanOrEqual(10); // burst 10
      expect(admitted).toBeLessThanOrEqual(11); // plus at most one refill (1 a second)
      expect(shared.slice(0, 10).every((d) => d.action === 'forward')).toBe(true);
      expect(shared.slice(-1)[0]).toMatchObject({ action: 'respond', status: 429 });
    }));

  it('remembers what it committed: the next call on those keys costs one round trip, and a change by another writer is caught', () =>
    withLimit(async ({ decide, calls, admin }) => {
      expect((await decide('known-agent')).action).toBe('forward');
      await admin.config('RESETSTAT');
      expect((await decide('known-agent')).action).toBe('forward');
      expect(await calls('mget')).toBe(0);
      expect((await calls('eval')) + (await calls('evalsha'))).toBe(1);

      // Another writer pushes the agent's GCRA state an hour ahead: what the host remembers is stale.
      await admin.set('rl/agent-limit/known-agent', String((Date.now() + 3_600_000) * 1000));
      await admin.config('RESETSTAT');
      expect(await decide('known-agent')).toMatchObject({ action: 'respond', status: 429 });
      expect(await calls('mget')).toBe(1); // the failed check made it read the key afresh
    }));

  it('when Redis hangs, fails at once for a moment after a command times out, instead of every call waiting out its own timeout', async () => {
    const kv = new RedisKv(redis.url, { commandTimeoutMs: 200 });
    await kv.ready();
    try {
      await kv.set('hang/probe', new TextEncoder().encode('1'));
      redis.hang(true);
      await expect(kv.get('hang/probe')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('timed out') });
      // The next ones are not sent: their fail-open or fail-closed answer comes without waiting.
      await expect(kv.get('hang/probe')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('not tried') });
      await expect(kv.getMany(['hang/probe'])).rejects.toMatchObject({ message: expect.stringContaining('not tried') });
      redis.hang(false);
      await new Promise((r) => setTimeout(r, 1100));
      expect(new TextDecoder().decode((await kv.get('hang/probe'))!)).toBe('1');
    } finally {
      redis.hang(false);
      await kv.close();
    }
  });

  it('sweeps rate-limit state that has run out, under its key prefix, and keeps a key another writer renewed meanwhile', async () => {
    const kv = new RedisKv(redis.url, { keyPrefix: 'app1:' });
    await kv.ready();
    const admin = new Redis(redis.url);
    try {
      const now = Date.now() * 1000;
      const later = String(now + 60_000_000);
      await admin.mset({ 'app1:rl/x/gone': String(now - 1), 'app1:rl/y/window': `${now - 5}:3`, 'app1:rl/x/live': later, 'app1:rl/x/renewed': String(now - 2), 'app1:other': String(now - 1), 'rl/x/other-app': String(now - 1) });
      const swept = await kv.sweep('rl/', (value) => {
        const end = rateLimitStateEnd(value);
        // Another writer renews this key between the sweep's read and its delete (one connection: in order).
        if (end === now - 2) void kv.client.set('rl/x/renewed', later);
        return end <= now;
      });
      expect(swept).toBe(2);
      expect((await admin.keys('app1:*')).sort()).toEqual(['app1:other', 'app1:rl/x/live', 'app1:rl/x/renewed']);
      expect(await admin.exists('rl/x/other-app')).toBe(1);
      expect(await admin.get('app1:rl/x/renewed')).toBe(later);
    } finally {
      admin.disconnect();
      await kv.close();
    }
  });

  it('a call that traps inside a batch fails alone, and its trap is counted once, though the batch ran twice', () =>
    withLimit(async ({ decide, host }) => {
      void decide('warm-up'); // keeps the runtime busy, so the next two queue up as one batch
      // A key too big for the reflex's one-page memory: decoding the request traps.
      const [trapped, admitted] = await Promise.allSettled([decide('x'.repeat(80_000)), decide('batch-mate')]);
      expect(trapped).toMatchObject({ status: 'rejected', reason: { code: 'REFLEX_TRAPPED' } });
      // batch-mate's key was missing, so the batch ran again after the read; the trap happened twice.
      expect(admitted).toMatchObject({ status: 'fulfilled', value: { action: 'forward' } });
      expect(await host.metrics.registry.metrics()).toMatch(/kgents_reflex_traps_total\{reflex="agent-limit"\} 1\n/);
    }));
});
