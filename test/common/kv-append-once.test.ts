import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStore } from '../../common/kv/index.ts';
import { MemoryKv } from '../../common/kv/memory.ts';
import { RedisKv } from '../../common/kv/redis.ts';
import { RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis?.stop());

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | null) => (value === null ? null : new TextDecoder().decode(value));

describe.each([
  ['memory', async () => new MemoryKv() as KvStore],
  ['redis', async () => {
    const kv = new RedisKv(redis.url, { keyPrefix: `once-${process.pid}-${Date.now()}/` });
    await kv.ready();
    return kv as KvStore;
  }],
])('appendOnce on the %s store', (_name, open) => {
  it('appends and sets the marker once; a repeat writes nothing and gets the marker; an expired marker lets the next one through', async () => {
    const kv = await open();
    try {
      expect(await kv.appendOnce('log', bytes('a\n'), { key: 'once/a', value: bytes('first'), ttlMs: 150 })).toBeNull();
      expect(text(await kv.appendOnce('log', bytes('a\n'), { key: 'once/a', value: bytes('second'), ttlMs: 150 }))).toBe('first');
      expect(await kv.appendOnce('log', bytes('b\n'), { key: 'once/b', value: bytes('other'), ttlMs: 150 })).toBeNull();
      expect(text(await kv.get('log'))).toBe('a\nb\n');
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await kv.appendOnce('log', bytes('a\n'), { key: 'once/a', value: bytes('third'), ttlMs: 150 })).toBeNull();
      expect(text(await kv.get('log'))).toBe('a\nb\na\n');
    } finally {
      await kv.close();
    }
  });
});
