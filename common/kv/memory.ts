import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { addToCounter, bytesEqual, type KvStore, type KvTransaction, type OnceMarker } from './store.ts';

const SWEEP_SLICE = 10_000;

/** The embedded default: one process, so every operation is trivially atomic. */
export class MemoryKv implements KvStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Uint8Array>();
  /** Buffers this store owns with spare room, by key (values set by callers are never written into). */
  private readonly appendable = new Map<string, ArrayBuffer>();

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

  /** Every write but append goes through here, so a replaced value's append buffer is let go. */
  private put(key: string, value: Uint8Array | null): void {
    this.appendable.delete(key);
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  }

  async set(key: string, value: Uint8Array) {
    this.put(key, value);
  }

  async delete(key: string) {
    this.put(key, null);
  }

  incrementSync(key: string, delta: bigint): bigint {
    const { value, bytes } = addToCounter(this.data.get(key) ?? null, delta);
    this.put(key, bytes);
    return value;
  }

  async increment(key: string, delta: bigint) {
    return this.incrementSync(key, delta);
  }

  /**
   * Appends grow a buffer with spare capacity, so a key appended to 10,000 times is copied
   * about 14 times, not 10,000. Views handed out earlier stay valid: appends only write past
   * their end, and a grown buffer is a new one.
   */
  async append(key: string, value: Uint8Array) {
    const current = this.data.get(key);
    const length = (current?.length ?? 0) + value.length;
    let buffer = current?.buffer as ArrayBuffer | undefined;
    // A buffer this store made for appends, with room left: write in place.
    if (!current || current.byteOffset !== 0 || buffer!.byteLength < length || this.appendable.get(key) !== buffer) {
      buffer = new ArrayBuffer(Math.max(64, length * 2));
      const grown = new Uint8Array(buffer);
      if (current) grown.set(current);
      this.appendable.set(key, buffer);
    }
    const target = new Uint8Array(buffer!, 0, length);
    target.set(value, length - value.length);
    this.data.set(key, target);
    return length;
  }

  /** appendOnce markers, apart from the data: they expire, which nothing else here does. */
  private readonly markers = new Map<string, { value: Uint8Array; expiresAt: number }>();
  private markersAtLastPrune = 0;

  async appendOnce(key: string, value: Uint8Array, marker: OnceMarker) {
    const now = Date.now();
    const existing = this.markers.get(marker.key);
    if (existing && existing.expiresAt > now) return existing.value;
    // Expired markers go whenever their number has doubled since the last look.
    if (this.markers.size >= 2 * Math.max(this.markersAtLastPrune, 512)) {
      for (const [k, m] of this.markers) if (m.expiresAt <= now) this.markers.delete(k);
      this.markersAtLastPrune = this.markers.size;
    }
    this.markers.set(marker.key, { value: marker.value.slice(), expiresAt: now + marker.ttlMs });
    await this.append(key, value);
    return null;
  }

  commitSync(txn: KvTransaction): boolean {
    for (const e of txn.expect) if (!bytesEqual(this.getSync(e.key), e.value)) return false;
    for (const w of txn.writes) this.put(w.key, w.value);
    for (const inc of txn.increments) this.incrementSync(inc.key, inc.delta);
    return true;
  }

  async commit(txn: KvTransaction) {
    return this.commitSync(txn);
  }

  /** Gives the event loop a turn every SWEEP_SLICE keys: a store of a million keys would stall requests. */
  async sweep(prefix: string, isStale: (value: Uint8Array) => boolean) {
    let swept = 0;
    let seen = 0;
    for (const [key, value] of this.data) {
      if (++seen % SWEEP_SLICE === 0) await yieldToEventLoop();
      if (!key.startsWith(prefix) || !isStale(value)) continue;
      this.put(key, null);
      swept++;
    }
    return swept;
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
