import { bytesEqual, textDecoder, textEncoder, type KvTransaction, type SyncReadableKv } from './store.ts';

/** The embedded default: one process, so every operation is trivially atomic. */
export class MemoryKv implements SyncReadableKv {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Uint8Array>();

  getSync(key: string): Uint8Array | null {
    return this.data.get(key) ?? null;
  }

  async get(key: string) {
    return this.getSync(key);
  }

  async getFrom(key: string, offset: number) {
    const value = this.data.get(key);
    return value ? value.subarray(Math.min(offset, value.length)) : null;
  }

  async getMany(keys: string[]) {
    return keys.map((k) => this.getSync(k));
  }

  async set(key: string, value: Uint8Array) {
    this.data.set(key, value);
  }

  async delete(key: string) {
    this.data.delete(key);
  }

  incrementSync(key: string, delta: bigint): bigint {
    const current = this.data.get(key);
    const next = (current ? BigInt(textDecoder.decode(current)) : 0n) + delta;
    this.data.set(key, textEncoder.encode(next.toString()));
    return next;
  }

  async increment(key: string, delta: bigint) {
    return this.incrementSync(key, delta);
  }

  async append(key: string, value: Uint8Array) {
    const current = this.data.get(key);
    if (!current) {
      this.data.set(key, value.slice());
      return value.length;
    }
    const next = new Uint8Array(current.length + value.length);
    next.set(current);
    next.set(value, current.length);
    this.data.set(key, next);
    return next.length;
  }

  commitSync(txn: KvTransaction): boolean {
    for (const e of txn.expect) if (!bytesEqual(this.getSync(e.key), e.value)) return false;
    for (const w of txn.writes) {
      if (w.value === null) this.data.delete(w.key);
      else this.data.set(w.key, w.value);
    }
    for (const inc of txn.increments) this.incrementSync(inc.key, inc.delta);
    return true;
  }

  async commit(txn: KvTransaction) {
    return this.commitSync(txn);
  }

  async ping() {
    return true;
  }

  async close() {}

  /** Number of keys, for tests and metrics. */
  get size(): number {
    return this.data.size;
  }
}
