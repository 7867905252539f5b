/**
 * What a reflex runtime saw in the remote store at its last commit: the small values it read
 * or wrote. A later batch reads them from here instead of the store, and its commit checks
 * they are still current (each becomes an expectation), so a batch that finds what it needs
 * here costs one round trip instead of two. Another writer makes that check fail; the batch
 * then forgets those keys, reads them afresh and runs again.
 */
const MAX_ENTRIES = 10_000;
/** Bigger values (a pheromone field) are read afresh: checking them would send them back. */
const MAX_VALUE_BYTES = 512;
/** Keys past this (a client's 9 KB header as a rate-limit key) are not kept: 10,000 of them held 90 MB. */
const MAX_KEY_LENGTH = 256;

export class ReadCache {
  private readonly entries = new Map<string, Uint8Array | null>();

  /** The value last seen (null = absent), or undefined when this cache does not know. */
  get(key: string): Uint8Array | null | undefined {
    return this.entries.get(key);
  }

  remember(values: Iterable<[string, Uint8Array | null]>): void {
    for (const [key, value] of values) {
      this.entries.delete(key);
      if ((value && value.length > MAX_VALUE_BYTES) || key.length > MAX_KEY_LENGTH) continue;
      this.entries.set(key, value && value.slice());
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
  }

  forget(keys: Iterable<string>): void {
    for (const key of keys) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
