/**
 * The key-value store behind `wasi:keyvalue`, the pheromone field and reflex flags.
 *
 * Values are bytes. `commit` is the one atomic primitive: it applies a set of writes only if
 * every expected value is still current (optimistic concurrency). The reflex host runs a Wasm
 * call against a snapshot and commits its writes this way, which is how `wasi:keyvalue`
 * compare-and-swap stays atomic across processes on Redis; `increment` and `append` are atomic
 * on their own.
 */
export interface KvExpectation {
  key: string;
  /** null = the key must be absent. */
  value: Uint8Array | null;
}

export interface KvWrite {
  key: string;
  /** null = delete. */
  value: Uint8Array | null;
}

export interface KvIncrement {
  key: string;
  delta: bigint;
}

export interface KvTransaction {
  expect: KvExpectation[];
  writes: KvWrite[];
  increments: KvIncrement[];
}

export interface OnceMarker {
  key: string;
  value: Uint8Array;
  ttlMs: number;
}

export interface KvStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<Uint8Array | null>;
  getMany(keys: string[]): Promise<(Uint8Array | null)[]>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomic add; a missing key counts as 0. Values are decimal text, as Spin's Redis store keeps them. */
  increment(key: string, delta: bigint): Promise<bigint>;
  /** Atomic append; returns the new length. */
  append(key: string, value: Uint8Array): Promise<number>;
  /**
   * Appends `value` to `key` and sets `marker` (for `marker.ttlMs`) in one atomic step, unless the
   * marker is already there: then nothing is written and the marker's value comes back (null
   * when this call appended). A client's retry of a write that may have landed is a no-op.
   */
  appendOnce(key: string, value: Uint8Array, marker: OnceMarker): Promise<Uint8Array | null>;
  /** Applies writes and increments only if every expectation holds; returns false (and writes nothing) otherwise. */
  commit(txn: KvTransaction): Promise<boolean>;
  /** The value's bytes from `offset` on (empty when shorter); readers of append-only keys fetch only what is new. */
  getFrom(key: string, offset: number): Promise<Uint8Array | null>;
  /**
   * Deletes the keys under `prefix` whose value `isStale` says means nothing any more, each only
   * if it has not changed since it was read; returns how many went.
   */
  sweep(prefix: string, isStale: (value: Uint8Array) => boolean): Promise<number>;
  /** Answers quickly whether the backing store is reachable now. */
  ping(): Promise<boolean>;
  /** Number of keys, where the store knows it without a round trip (in memory). */
  readonly size?: number;
  close(): Promise<void>;
}

export const textEncoder = new TextEncoder();
export const textDecoder = new TextDecoder();

/** A counter after `delta`, and its stored form: decimal text, as Spin's Redis store keeps it. */
export function addToCounter(current: Uint8Array | null, delta: bigint): { value: bigint; bytes: Uint8Array } {
  const value = (current ? BigInt(textDecoder.decode(current)) : 0n) + delta;
  return { value, bytes: textEncoder.encode(value.toString()) };
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
