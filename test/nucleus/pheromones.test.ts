import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryKv } from '../../common/kv/memory.ts';
import { RedisKv } from '../../common/kv/redis.ts';
import type { KvStore } from '../../common/kv/index.ts';
import { postChunked } from '../support/raw-http.ts';
import { startNucleus, type Nucleus } from '../../nucleus/index.ts';
import { PheromoneField } from '../../nucleus/pheromones/field.ts';
import { RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis?.stop());

const post = (n: Nucleus, body: unknown) => fetch(`${n.url}/v1/pheromones`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sense = async (n: Nucleus, query = '') => (await fetch(`${n.url}/v1/pheromones${query}`)).json();

describe('pheromone field law', () => {
  it('intensity halves at one half-life; DREAM halves at two', async () => {
    let now = 1_700_000_000_000;
    const n = await startNucleus({ port: 0, now: () => now, agents: [] });
    try {
      await post(n, { type: 'WARNING', source: 'test', target: 'nucleus', intensity: 0.8, halfLife: '10s' });
      await post(n, { type: 'DREAM', source: 'test', intensity: 0.8, halfLife: '10s' });
      now += 10_000;
      expect((await sense(n, '?type=WARNING')).pheromones[0].intensity).toBeCloseTo(0.4, 10);
      expect((await sense(n, '?type=DREAM')).pheromones[0].intensity).toBeCloseTo(0.8 * Math.SQRT1_2, 10);
      now += 10_000;
      expect((await sense(n, '?type=WARNING')).pheromones[0].intensity).toBeCloseTo(0.2, 10);
      expect((await sense(n, '?type=DREAM')).pheromones[0].intensity).toBeCloseTo(0.4, 10);
      // Far past evaporation (< 0.01) a deposit is no longer sensed.
      now += 100_000;
      expect((await sense(n, '?type=WARNING')).total).toBe(0);
    } finally {
      await n.close();
    }
  });

  it('senses current intensities, broadcasts included, strongest first, and honours ttl', async () => {
    let now = 1_700_000_000_000;
    const n = await startNucleus({ port: 0, now: () => now, agents: [] });
    try {
      await post(n, { type: 'WARNING', source: 'a', target: 'nucleus', intensity: 0.3, halfLife: 60_000 });
      await post(n, { type: 'WARNING', source: 'b', target: 'other', intensity: 0.9, halfLife: 60_000 });
      await post(n, { type: 'WARNING', source: 'c', intensity: 0.5, halfLife: 60_000, payload: { note: 'everyone' } });
      await post(n, { type: 'WARNING', source: 'd', target: 'nucleus', intensity: 0.7, halfLife: 60_000, ttl: '5s' });
      const sensed = await sense(n, '?type=WARNING&target=nucleus');
      expect(sensed.pheromones.map((p: { source: string }) => p.source)).toEqual(['d', 'c', 'a']);
      expect(sensed.pheromones[1]).toMatchObject({ target: null, payload: { note: 'everyone' } });
      expect(sensed.level).toBe(1);
      now += 5_000;
      expect((await sense(n, '?type=WARNING&target=nucleus')).pheromones.map((p: { source: string }) => p.source)).toEqual(['c', 'a']);
    } finally {
      await n.close();
    }
  });

  it('answers invalid bodies and queries with 400 and field paths, a body over 1 MiB with 413, and keeps serving', async () => {
    const n = await startNucleus({ port: 0, agents: [] });
    try {
      const bad = await post(n, { type: 'FEAR', source: 'has space', intensity: 2, halfLife: 'soon' });
      expect(bad.status).toBe(400);
      const body = await bad.json();
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['halfLife', 'intensity', 'source', 'type']);
      expect(body.error.issues.find((i: { path: string }) => i.path === 'halfLife').message).toBe('expected a duration: "100ms", "10s", "1m", "1h", or a whole number of milliseconds');
      const noHalfLife = await (await post(n, { type: 'WARNING', source: 'probe', intensity: 0.5 })).json();
      expect(noHalfLife.error.message).toBe('halfLife: required: a duration: "100ms", "10s", "1m", "1h", or a whole number of milliseconds');
      // A payload is at most 8 KB as stored: in UTF-8 bytes, and not one too deep to serialize (it was a 500).
      const euros = await post(n, { type: 'TEST', source: 'ok', intensity: 0.5, halfLife: 1000, payload: '€'.repeat(3000) });
      expect(euros.status).toBe(400);
      const deep = `{"type":"TEST","source":"ok","intensity":0.5,"halfLife":1000,"payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const nested = await fetch(`${n.url}/v1/pheromones`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
      expect(nested.status).toBe(400);
      expect((await nested.json()).error.issues.map((i: { path: string }) => i.path)).toEqual(['payload']);
      const huge = await post(n, { type: 'TEST', source: 'ok', intensity: 0.5, halfLife: 1000, payload: 'x'.repeat(2 * 1024 * 1024) });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toEqual({ error: { code: 'payload_too_large', message: 'the body is larger than 1048576 bytes' } });
      // Chunked, with no length declared: the rest is read and dropped, so the client gets the 413, not a reset.
      expect(await postChunked(n.url, '/v1/pheromones', 24 * 1024 * 1024)).toEqual({ status: 413, body: JSON.stringify({ error: { code: 'payload_too_large', message: 'the body is larger than 1048576 bytes' } }) });
      const notJson = await fetch(`${n.url}/v1/pheromones`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
      expect(notJson.status).toBe(400);
      const badQuery = await fetch(`${n.url}/v1/pheromones?type=WARNING&limit=abc`);
      expect(badQuery.status).toBe(400);
      expect((await badQuery.json()).error.message).toBe('limit: expected a whole number from 1 to 10000');
      for (const limit of ['0x10', '1e3', '%205', '0', '10001']) expect((await fetch(`${n.url}/v1/pheromones?limit=${limit}`)).status, limit).toBe(400);
      expect((await fetch(`${n.url}/v1/pheromones?limit=10000`)).status).toBe(200);
      expect((await post(n, { type: 'TEST', source: 'ok', intensity: 0.5, halfLife: 1000 })).status).toBe(201);
    } finally {
      await n.close();
    }
  });
});

describe.each(['memory', 'redis'] as const)('concurrent deposits on %s', (kind) => {
  it('50 writers x 200 deposits: every deposit is counted', async () => {
    const kv: KvStore = kind === 'memory' ? new MemoryKv() : new RedisKv(redis.url);
    if (kv instanceof RedisKv) await kv.ready();
    // Two nuclei on one store, as two replicas would be.
    const [a, b] = await Promise.all([startNucleus({ port: 0, kv, agents: [] }), startNucleus({ port: 0, kv, agents: [] })]);
    try {
      await Promise.all(
        Array.from({ length: 50 }, async (_, writer) => {
          for (let i = 0; i < 200; i++) {
            const r = await post(writer % 2 ? a : b, { type: 'INTENT', source: `writer-${writer}`, target: 'count', intensity: 0.5, halfLife: '1h' });
            if (r.status !== 201) throw new Error(`deposit failed: ${r.status}`);
          }
        }),
      );
      expect((await sense(a, '?type=INTENT&target=count&limit=1')).total).toBe(10_000);
      expect((await sense(b, '?type=INTENT&target=count&limit=1')).total).toBe(10_000);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await kv.close();
    }
  });
});

describe('idempotent deposits', () => {
  const deposit = (n: Nucleus, body: unknown, key?: string) =>
    fetch(`${n.url}/v1/pheromones`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) }, body: JSON.stringify(body) });
  const warning = { type: 'WARNING', source: 'retrier', target: 'nucleus', intensity: 0.5, halfLife: '1h' };

  it('records a deposit once per Idempotency-Key: a repeat gets the first answer back, a different deposit under the key 422', async () => {
    const kv = new MemoryKv();
    const n = await startNucleus({ port: 0, agents: [], kv });
    try {
      const first = await deposit(n, warning, '8e03978e-40d5-43e8-bc93-6894a57f9324');
      const again = await deposit(n, warning, '"8e03978e-40d5-43e8-bc93-6894a57f9324"');
      expect([first.status, again.status]).toEqual([201, 201]);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await first.json());
      expect((await sense(n, '?type=WARNING')).total).toBe(1);

      const changed = await deposit(n, { ...warning, intensity: 0.9 }, '8e03978e-40d5-43e8-bc93-6894a57f9324');
      expect(changed.status).toBe(422);
      expect(await changed.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
      const bad = await deposit(n, warning, 'no spaces allowed');
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.message).toContain('Idempotency-Key must be 1 to 128 letters');
      // A key held by bytes this nucleus did not write: 409, and nothing recorded.
      await kv.appendOnce('elsewhere', new Uint8Array(1), { key: 'once/pheromone/foreign', value: new TextEncoder().encode('not json'), ttlMs: 60_000 });
      const foreign = await deposit(n, warning, 'foreign');
      expect(foreign.status).toBe(409);
      expect((await foreign.json()).error.message).toContain('cannot read');
      // Without a key, each request is a deposit of its own.
      for (let i = 0; i < 2; i++) expect((await deposit(n, warning)).status).toBe(201);
      expect((await sense(n, '?type=WARNING')).total).toBe(3);
    } finally {
      await n.close();
    }
  });

  it('on a Redis that hung: the deposit answered 503 lands when Redis resumes, and the retry under its key is not counted again', async () => {
    const kv = new RedisKv(redis.url, { keyPrefix: `hung-${process.pid}/`, commandTimeoutMs: 200 });
    await kv.ready();
    const n = await startNucleus({ port: 0, agents: [], kv });
    try {
      redis.hang(true);
      const timedOut = await deposit(n, warning, 'retry-1');
      redis.hang(false);
      expect(timedOut.status).toBe(503);
      // The command reached Redis before it hung: it runs now. Past the store's fail-fast second, retry.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const retried = await deposit(n, warning, 'retry-1');
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect((await sense(n, '?type=WARNING')).total).toBe(1);
    } finally {
      redis.hang(false);
      await n.close();
      await kv.close();
    }
  });
});

describe('a field on Redis', () => {
  const sources = async (field: PheromoneField) => (await field.sense({ type: 'WARNING', limit: 100 })).pheromones.map((p) => p.source).sort();

  it('counts each deposit once when reads overlap, and sees a deposit made before a read began', async () => {
    const kv = new RedisKv(redis.url, { keyPrefix: `overlap-${process.pid}/` });
    await kv.ready();
    const field = new PheromoneField(kv);
    try {
      await field.deposit({ type: 'WARNING', source: 'first', intensity: 0.5, halfLife: '1h' });
      const reads = await Promise.all(Array.from({ length: 5 }, () => field.sense({ type: 'WARNING' })));
      expect(reads.map((r) => r.total)).toEqual([1, 1, 1, 1, 1]);
      await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        await field.deposit({ type: 'WARNING', source: `later-${String(i).padStart(2, '0')}`, intensity: 0.5, halfLife: '1h' });
        return field.sense({ type: 'WARNING' });
      }));
      expect(await sources(field)).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `later-${String(i).padStart(2, '0')}`)]);
    } finally {
      await kv.close();
    }
  });

  it('starts over when the key is gone (a restart, an eviction) or written anew', async () => {
    const kv = new RedisKv(redis.url, { keyPrefix: `wiped-${process.pid}/` });
    await kv.ready();
    const field = new PheromoneField(kv);
    try {
      for (const source of ['before-1', 'before-2']) await field.deposit({ type: 'WARNING', source, intensity: 0.5, halfLife: '1h' });
      expect(await sources(field)).toEqual(['before-1', 'before-2']);
      await kv.delete('pheromone/WARNING');
      expect(await sources(field)).toEqual([]);
      for (const source of ['after-1', 'after-2', 'after-3']) await field.deposit({ type: 'WARNING', source, intensity: 0.5, halfLife: '1h' });
      expect(await sources(field)).toEqual(['after-1', 'after-2', 'after-3']);
    } finally {
      await kv.close();
    }
  });
});

describe('evaporation', () => {
  it('collects evaporated deposits in one rewrite and readers start over', async () => {
    let now = 1_700_000_000_000;
    const kv = new MemoryKv();
    const n = await startNucleus({ port: 0, kv, now: () => now, agents: [] });
    try {
      for (let i = 0; i < 150; i++) await n.field.deposit({ type: 'CHAOS', source: 's', intensity: 0.5, halfLife: 1000 });
      await n.field.deposit({ type: 'CHAOS', source: 'keeper', intensity: 1, halfLife: '1h' });
      expect((await n.field.sense({ type: 'CHAOS' })).total).toBe(151);
      now += 60_000;
      expect(await n.field.evaporate()).toBe(150);
      expect(new TextDecoder().decode(kv.getSync('pheromone/CHAOS')!).trim().split('\n')).toHaveLength(1);
      const after = await n.field.sense({ type: 'CHAOS' });
      expect(after.pheromones.map((p) => p.source)).toEqual(['keeper']);
      // Nothing more to collect, and a second pass right away does not rewrite again.
      expect(await n.field.evaporate()).toBe(0);
    } finally {
      await n.close();
    }
  });
});
