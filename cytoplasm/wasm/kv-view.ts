import { addToCounter, bytesEqual, type KvTransaction } from '../../common/kv/index.ts';
import type { MemoryKv } from '../../common/kv/memory.ts';
import type { ReadCache } from '../read-cache.ts';

/**
 * What a reflex's `wasi:keyvalue` imports see during one call. Imports are synchronous, so:
 * - on the in-memory store they act on it directly (nothing can interleave a sync call);
 * - on a remote store the call runs against a snapshot. A read of a key not in the snapshot
 *   throws NeedKeys; the host fetches the keys and runs the call again. Read-modify-writes
 *   (cas swap, increment) become expectations, and the writes commit atomically only if
 *   those still hold; otherwise the host runs the call again on fresh values. Several calls
 *   can share one view and commit together (see ReflexRuntime's group commit).
 */
export interface KvView {
  /** When true every store import answers with an error, and the reflex applies its failure policy. */
  readonly down: boolean;
  get(key: string): Uint8Array | null;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
  increment(key: string, delta: bigint): bigint;
  /** Stores `value` if the key still holds `expected`; false = someone else wrote first. */
  swap(key: string, expected: Uint8Array | null, value: Uint8Array): boolean;
}

export class NeedKeys extends Error {
  constructor(readonly keys: string[]) {
    super(`reflex needs keys ${keys.join(', ')}`);
  }
}

export class MemoryView implements KvView {
  readonly down = false;
  constructor(private readonly store: MemoryKv) {}
  get(key: string) {
    return this.store.getSync(key);
  }
  set(key: string, value: Uint8Array) {
    this.store.commitSync({ expect: [], writes: [{ key, value }], increments: [] });
  }
  delete(key: string) {
    this.store.commitSync({ expect: [], writes: [{ key, value: null }], increments: [] });
  }
  increment(key: string, delta: bigint) {
    return this.store.incrementSync(key, delta);
  }
  swap(key: string, expected: Uint8Array | null, value: Uint8Array) {
    return this.store.commitSync({ expect: [{ key, value: expected }], writes: [{ key, value }], increments: [] });
  }
}

export const DOWN: KvView = {
  down: true,
  get: () => null,
  set: () => {},
  delete: () => {},
  increment: () => 0n,
  swap: () => false,
};

/** A point in a view's undo journal (see SnapshotView.mark). */
export type SnapshotMark = number;

interface Undo {
  map: Map<string, Uint8Array | null>;
  key: string;
  had: boolean;
  previous: Uint8Array | null | undefined;
}

export class SnapshotView implements KvView {
  readonly down = false;
  private readonly writes = new Map<string, Uint8Array | null>();
  private readonly expectations = new Map<string, Uint8Array | null>();
  /** Every change to writes and expectations, so one call of a batch can be undone. */
  private readonly journal: Undo[] = [];
  readonly missing = new Set<string>();

  constructor(
    private readonly snapshot: Map<string, Uint8Array | null>,
    private readonly cache?: ReadCache,
  ) {}

  private current(key: string): Uint8Array | null {
    if (this.writes.has(key)) return this.writes.get(key)!;
    if (this.snapshot.has(key)) return this.snapshot.get(key)!;
    const cached = this.cache?.get(key);
    if (cached !== undefined) {
      // Not read from the store: the commit checks it is still current.
      if (!this.expectations.has(key)) this.put(this.expectations, key, cached);
      return cached;
    }
    this.missing.add(key);
    throw new NeedKeys([...this.missing]);
  }

  private put(map: Map<string, Uint8Array | null>, key: string, value: Uint8Array | null): void {
    this.journal.push({ map, key, had: map.has(key), previous: map.get(key) });
    map.set(key, value);
  }

  /** A read-modify-write: the value it read must still be there at commit. */
  private expect(key: string, before: Uint8Array | null): void {
    if (!this.expectations.has(key) && !this.writes.has(key)) this.put(this.expectations, key, before);
  }

  get(key: string) {
    return this.current(key);
  }
  set(key: string, value: Uint8Array) {
    this.put(this.writes, key, value);
  }
  delete(key: string) {
    this.put(this.writes, key, null);
  }
  increment(key: string, delta: bigint) {
    const before = this.current(key);
    this.expect(key, before);
    const { value, bytes } = addToCounter(before, delta);
    this.put(this.writes, key, bytes);
    return value;
  }
  swap(key: string, expected: Uint8Array | null, value: Uint8Array) {
    const before = this.current(key);
    if (!bytesEqual(before, expected)) return false;
    this.expect(key, before);
    this.put(this.writes, key, value);
    return true;
  }

  /**
   * Where the view stands, to undo one call of a batch that failed midway. A journal index,
   * not a copy: a batch marks before every call, and copies would grow with the batch.
   */
  mark(): SnapshotMark {
    return this.journal.length;
  }

  rollback(mark: SnapshotMark): void {
    while (this.journal.length > mark) {
      const { map, key, had, previous } = this.journal.pop()!;
      if (had) map.set(key, previous as Uint8Array | null);
      else map.delete(key);
    }
  }

  /** Whether a commit is needed: writes to apply, or cached reads to check. */
  get dirty(): boolean {
    return this.writes.size > 0 || this.expectations.size > 0;
  }

  transaction(): KvTransaction {
    return {
      expect: [...this.expectations].map(([key, value]) => ({ key, value })),
      writes: [...this.writes].map(([key, value]) => ({ key, value })),
      increments: [],
    };
  }
}
