import { Redis } from 'ioredis';
import { KgentsError } from '../errors.ts';
import type { KvStore, KvTransaction, OnceMarker } from './store.ts';

/**
 * Compare-and-set over any number of keys in one round trip. Redis runs a script atomically,
 * so no other client can write between the checks and the writes.
 * KEYS: expected keys, then written keys, then incremented keys.
 * ARGV: counts, then per expected key a presence flag and value, per write a presence flag
 * and value, per increment its delta.
 */
const COMMIT_SCRIPT = `
local ne, nw, ni = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local a = 4
for i = 1, ne do
  local present, want = ARGV[a], ARGV[a + 1]
  a = a + 2
  local have = redis.call('GET', KEYS[i])
  if present == '0' then
    if have then return 0 end
  elseif have ~= want then
    return 0
  end
end
for i = 1, nw do
  local present, value = ARGV[a], ARGV[a + 1]
  a = a + 2
  if present == '0' then redis.call('DEL', KEYS[ne + i]) else redis.call('SET', KEYS[ne + i], value) end
end
for i = 1, ni do
  redis.call('INCRBY', KEYS[ne + nw + i], ARGV[a])
  a = a + 1
end
return 1
`;

/** Deletes each key still holding the value the sweep read (KEYS[i], ARGV[i]); returns how many. */
const DELETE_IF_UNCHANGED_SCRIPT = `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
`;

/** KEYS: the appended key, the marker. ARGV: value, marker value, marker TTL in ms. Nil when appended, else the marker. */
const APPEND_ONCE_SCRIPT = `
local existing = redis.call('GET', KEYS[2])
if existing then return existing end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('APPEND', KEYS[1], ARGV[1])
return false
`;

/** Keys scanned per round trip while sweeping. */
const SWEEP_BATCH = 500;

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** A plain Uint8Array view of what ioredis returns (no copy). */
function bytesOf(buffer: Buffer | null): Uint8Array | null {
  return buffer ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length) : null;
}

export interface RedisKvOptions {
  /** How long a command may wait for a connection before failing (so fail-open/closed can act). */
  commandTimeoutMs?: number;
  /** Prefix for every key, so several apps can share one Redis. */
  keyPrefix?: string;
}

/** After a command times out, how long the others fail at once before Redis is tried again. */
const FAIL_FAST_MS = 1000;

/** Shared state across processes and replicas. Reconnects by itself; commands fail fast while it is down. */
export class RedisKv implements KvStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;

  constructor(url: string, options: RedisKvOptions = {}) {
    this.client = new Redis(url, {
      keyPrefix: options.keyPrefix,
      commandTimeout: options.commandTimeoutMs ?? 500,
      // Fail commands at once while disconnected instead of queueing them behind a dead socket.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
      lazyConnect: false,
    });
    // Errors surface on each command; an unhandled 'error' event would crash the process.
    this.client.on('error', () => {});
    this.client.defineCommand('kgentsCommit', { lua: COMMIT_SCRIPT });
    this.client.defineCommand('kgentsDeleteIfUnchanged', { lua: DELETE_IF_UNCHANGED_SCRIPT });
    this.client.defineCommand('kgentsAppendOnce', { lua: APPEND_ONCE_SCRIPT, numberOfKeys: 2 });
  }

  /** Resolves when connected, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new KgentsError('STORE_UNAVAILABLE', `Redis did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
      };
      this.client.on('ready', onReady);
    });
  }

  /**
   * Until when commands fail at once: after one times out. A Redis that hangs (no reset, no
   * answer) would otherwise cost every call the whole command timeout, one batch after another,
   * and the reflexes' fail-open or fail-closed answers would queue behind it.
   */
  private downUntil = 0;

  private async wrap<T>(op: string, command: () => Promise<T>): Promise<T> {
    if (Date.now() < this.downUntil) throw new KgentsError('STORE_UNAVAILABLE', `Redis ${op} not tried: Redis stopped answering moments ago`);
    try {
      return await command();
    } catch (error) {
      if (/timed? ?out/i.test((error as Error).message)) this.downUntil = Date.now() + FAIL_FAST_MS;
      throw new KgentsError('STORE_UNAVAILABLE', `Redis ${op} failed: ${(error as Error).message}`, {}, { cause: error });
    }
  }

  async get(key: string) {
    return bytesOf(await this.wrap('GET', () => this.client.getBuffer(key)));
  }

  async getFrom(key: string, offset: number) {
    const [[, exists], [, tail]] = (await this.wrap('GETRANGE', () => this.client.multi().exists(key).getrangeBuffer(key, offset, -1).exec())) as [[null, number], [null, Buffer]];
    return exists ? bytesOf(tail) : null;
  }

  async getMany(keys: string[]) {
    if (keys.length === 0) return [];
    const values = await this.wrap('MGET', () => this.client.mgetBuffer(...keys));
    return values.map(bytesOf);
  }

  async set(key: string, value: Uint8Array) {
    await this.wrap('SET', () => this.client.set(key, Buffer.from(value)));
  }

  async delete(key: string) {
    await this.wrap('DEL', () => this.client.del(key));
  }

  async increment(key: string, delta: bigint) {
    const result = await this.wrap('INCRBY', () => this.client.incrby(key, delta.toString()));
    return BigInt(result);
  }

  async append(key: string, value: Uint8Array) {
    return this.wrap('APPEND', () => this.client.append(key, Buffer.from(value)));
  }

  async appendOnce(key: string, value: Uint8Array, marker: OnceMarker) {
    const client = this.client as Redis & { kgentsAppendOnceBuffer(key: string, markerKey: string, value: Buffer, markerValue: Buffer, ttlMs: string): Promise<Buffer | null> };
    return bytesOf(await this.wrap('append-once', () => client.kgentsAppendOnceBuffer(key, marker.key, Buffer.from(value), Buffer.from(marker.value), String(marker.ttlMs))));
  }

  async commit(txn: KvTransaction) {
    const keys = [...txn.expect.map((e) => e.key), ...txn.writes.map((w) => w.key), ...txn.increments.map((i) => i.key)];
    const args: (string | Buffer)[] = [String(txn.expect.length), String(txn.writes.length), String(txn.increments.length)];
    for (const e of txn.expect) args.push(e.value ? '1' : '0', e.value ? Buffer.from(e.value) : '');
    for (const w of txn.writes) args.push(w.value ? '1' : '0', w.value ? Buffer.from(w.value) : '');
    for (const i of txn.increments) args.push(i.delta.toString());
    const client = this.client as Redis & { kgentsCommit(numKeys: number, ...rest: (string | Buffer)[]): Promise<number> };
    const ok = await this.wrap('commit', () => client.kgentsCommit(keys.length, ...keys, ...args));
    return ok === 1;
  }

  async sweep(prefix: string, isStale: (value: Uint8Array) => boolean) {
    // ioredis prefixes the keys of commands, not SCAN's pattern or the keys SCAN returns.
    const keyPrefix = this.client.options.keyPrefix ?? '';
    const client = this.client as Redis & { kgentsDeleteIfUnchanged(numKeys: number, ...rest: (string | Buffer)[]): Promise<number> };
    let swept = 0;
    let cursor = '0';
    do {
      const [next, found] = await this.wrap('SCAN', () => this.client.scan(cursor, 'MATCH', `${escapeGlob(keyPrefix + prefix)}*`, 'COUNT', SWEEP_BATCH));
      cursor = next;
      const keys = found.map((key) => key.slice(keyPrefix.length));
      const values = await this.getMany(keys);
      const stale = keys.flatMap((key, i) => (values[i] && isStale(values[i]) ? [{ key, value: Buffer.from(values[i]) }] : []));
      if (stale.length > 0) swept += await this.wrap('sweep', () => client.kgentsDeleteIfUnchanged(stale.length, ...stale.map((s) => s.key), ...stale.map((s) => s.value)));
    } while (cursor !== '0');
    return swept;
  }

  async ping() {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close() {
    this.client.disconnect();
  }
}
