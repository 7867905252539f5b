import { MemoryKv } from './memory.ts';
import { RedisKv, type RedisKvOptions } from './redis.ts';
import type { KvStore } from './store.ts';

export * from './store.ts';
export { MemoryKv, RedisKv };

/** Memory by default; a Redis URL (flag or KGENTS_REDIS_URL) makes the state shared between processes. */
export function openKv(redisUrl: string | undefined, options?: RedisKvOptions): KvStore {
  return redisUrl ? new RedisKv(redisUrl, options) : new MemoryKv();
}
