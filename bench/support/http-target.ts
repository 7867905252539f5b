import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { MemoryKv } from '../../common/kv/memory.ts';
import { RedisKv } from '../../common/kv/redis.ts';
import { listen } from '../../common/listen.ts';
import { createLogger } from '../../common/log.ts';
import { startHost } from '../../cytoplasm/host.ts';

/**
 * One server under load, in a fresh process: targets that share a process bias each other
 * (the first leaves its heap and JIT state to the next). Prints its URL, runs until killed.
 *   bare:  a Hono route with a fixed answer, served as Hono's Node adapter serves it, or through
 *          kgents' own listener (`kgentsListener`: a turn's answers written together);
 *          optionally burning `busyUs` of CPU per request (a calibration: what a given amount
 *          of work per request costs on this machine)
 *   chain: the reflex host serving a built app, on the memory store or on Redis
 */
type Target = { kind: 'bare'; headers: Record<string, string>; busyUs: number; kgentsListener?: boolean } | { kind: 'chain'; distDir: string; redisUrl?: string };

const target = JSON.parse(process.argv[2]) as Target;
let url: string;
if (target.kind === 'bare') {
  const busyMs = target.busyUs / 1000;
  const app = new Hono().all('*', (c) => {
    const start = performance.now();
    while (performance.now() - start < busyMs);
    return c.json({ ok: true }, 200, target.headers);
  });
  if (target.kgentsListener) url = (await listen(app.fetch, { port: 0, host: '127.0.0.1' })).url;
  else {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
} else {
  const kv = target.redisUrl ? new RedisKv(target.redisUrl) : new MemoryKv();
  if (kv instanceof RedisKv) await kv.ready();
  url = (await startHost({ distDir: target.distDir, port: 0, kv, sensors: false, logger: createLogger('bench', 'silent') })).url;
}
process.stdout.write(`${url}\n`);
