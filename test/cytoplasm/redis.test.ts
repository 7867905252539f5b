import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import { RedisKv } from '../../common/kv/redis.ts';
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
});
