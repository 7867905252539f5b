import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { KgentsError } from '../../common/errors.ts';
import type { KvStore } from '../../common/kv/index.ts';
import { textEncoder } from '../../common/kv/index.ts';
import { decodeDeposits, decodeLine, DepositRecord, effectiveHalfLifeMs, encodeDeposit, EVAPORATION_THRESHOLD, isLive, PHEROMONE_TYPES, pheromoneKey, type PheromoneType } from '../../common/pheromone.ts';
import { DepositInput, SenseQuery, type SenseResult, type SensedPheromone } from './schema.ts';

export interface FieldEvents {
  deposited?(d: DepositRecord): void;
  evaporated?(type: PheromoneType, collected: number): void;
}

/**
 * Everything parsed from one type's key. The numbers sensing needs sit in typed arrays (one
 * slot per deposit), so a sense over ten thousand deposits is a tight numeric loop.
 */
class TypeCache {
  /** Bytes of the key already parsed. */
  length = 0;
  records: DepositRecord[] = [];
  emitted = new Float64Array(256);
  initial = new Float64Array(256);
  decay = new Float64Array(256);
  expires = new Float64Array(256);
  /** Index into `targets`, or -1 for a broadcast. */
  target = new Int32Array(256);
  readonly targets = new Map<string, number>();

  constructor(readonly generation: string | null) {}

  push(r: DepositRecord): void {
    const i = this.records.length;
    if (i === this.emitted.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.emitted = grow(this.emitted);
      this.initial = grow(this.initial);
      this.decay = grow(this.decay);
      this.expires = grow(this.expires);
      this.target = grow(this.target);
    }
    this.records.push(r);
    this.emitted[i] = r.emittedAtMs;
    this.initial[i] = r.intensity;
    this.decay[i] = Math.LN2 / r.halfLifeMs;
    this.expires[i] = r.expiresAtMs;
    let t = -1;
    if (r.target !== null) {
      t = this.targets.get(r.target) ?? this.targets.size;
      this.targets.set(r.target, t);
    }
    this.target[i] = t;
  }

  /** The law (common/pheromone.ts) from the precomputed columns; 0 once expired or evaporated. */
  intensity(i: number, now: number): number {
    if (this.expires[i] > 0 && now >= this.expires[i]) return 0;
    const age = now > this.emitted[i] ? now - this.emitted[i] : 0;
    const value = Math.min(1, this.initial[i] * Math.exp(-age * this.decay[i]));
    return value < EVAPORATION_THRESHOLD ? 0 : value;
  }
}

const generationKey = (type: PheromoneType) => `${pheromoneKey(type)}#gen`;

/** How long a deposit's idempotency key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

const decoder = new TextDecoder();
const Marker = z.object({ request: z.string(), record: DepositRecord });

/** An idempotency marker as this nucleus wrote it, or null (another writer's bytes under the key). */
function readMarker(bytes: Uint8Array): z.infer<typeof Marker> | null {
  try {
    const parsed = Marker.safeParse(JSON.parse(decoder.decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The deposit a request asked for, as comparable text (the parsed input: same fields, same order). */
const fingerprint = (d: DepositInput) => createHash('sha256').update(JSON.stringify(d)).digest('hex');

/**
 * The shared pheromone field over the key-value store, in the wire format compiled sensor
 * reflexes read (common/pheromone.ts). Deposits are appends, so concurrent writers lose
 * nothing. Readers keep what they parsed and fetch only the appended tail; compaction bumps a
 * generation key, which makes every reader start over.
 */
export class PheromoneField {
  private readonly caches = new Map<PheromoneType, TypeCache>();
  private readonly lastCompaction = new Map<PheromoneType, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly kv: KvStore,
    private readonly options: { now?: () => number; events?: FieldEvents; compactEveryMs?: number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /**
   * Records a deposit. With an idempotency key, a deposit under the same key within a day is
   * recorded once: a repeat gets the first one's record back (`replayed`), or IDEMPOTENCY_KEY_REUSED
   * when it asked for a different deposit. A client that got a 503 (a store that stopped
   * answering may still have written) retries safely.
   */
  async deposit(input: DepositInput, idempotencyKey?: string): Promise<{ record: DepositRecord; replayed: boolean }> {
    const d = DepositInput.parse(input);
    const now = this.now();
    const record: DepositRecord = {
      id: randomUUID(),
      type: d.type,
      source: d.source,
      target: d.target ?? null,
      intensity: d.intensity,
      halfLifeMs: effectiveHalfLifeMs(d.type, d.halfLife),
      emittedAtMs: now,
      expiresAtMs: d.ttl ? now + d.ttl : 0,
      payload: d.payload ?? null,
    };
    const line = textEncoder.encode(encodeDeposit(record));
    if (idempotencyKey === undefined) {
      await this.kv.append(pheromoneKey(d.type), line);
    } else {
      const request = fingerprint(d);
      const marker = { key: `once/pheromone/${idempotencyKey}`, value: textEncoder.encode(JSON.stringify({ request, record })), ttlMs: IDEMPOTENCY_TTL_MS };
      const first = await this.kv.appendOnce(pheromoneKey(d.type), line, marker);
      if (first !== null) {
        const earlier = readMarker(first);
        if (!earlier) throw new KgentsError('CONFLICT', `Idempotency-Key ${idempotencyKey} is held by a record this nucleus cannot read; use another key`);
        if (earlier.request !== request) throw new KgentsError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${idempotencyKey} was used for a different deposit`);
        return { record: earlier.record, replayed: true };
      }
    }
    this.options.events?.deposited?.(record);
    return { record, replayed: false };
  }

  /**
   * Refreshes of one type's cache run one at a time: two at once both read from the same
   * offset and both appended what they read (a deposit counted twice, and the offset past the
   * key's end from then on). A caller arriving while one runs shares the refresh queued behind
   * it, which starts after its own request, so it sees every deposit made before it asked.
   */
  private readonly refreshes = new Map<PheromoneType, { running: Promise<TypeCache>; queued?: Promise<TypeCache> }>();

  /** The cache of one type, up to date (live and dead records alike). */
  private cacheOf(type: PheromoneType): Promise<TypeCache> {
    const slot = this.refreshes.get(type);
    if (!slot) return this.runRefresh(type);
    const settled = () => undefined;
    return (slot.queued ??= slot.running.then(settled, settled).then(() => this.runRefresh(type)));
  }

  private runRefresh(type: PheromoneType): Promise<TypeCache> {
    const slot = { running: this.refresh(type) };
    this.refreshes.set(type, slot);
    const done = () => {
      if (this.refreshes.get(type) === slot) this.refreshes.delete(type);
    };
    slot.running.then(done, done);
    return slot.running;
  }

  private async refresh(type: PheromoneType): Promise<TypeCache> {
    const generation = await this.kv.get(generationKey(type));
    const gen = generation ? decoder.decode(generation) : null;
    let cache = this.caches.get(type);
    if (!cache || cache.generation !== gen) cache = this.freshCache(type, gen);
    // Read from the last byte already parsed, which must still be the newline that ended it: a
    // key that vanished (a Redis restart, an LRU eviction) or was written anew shows as a
    // missing or different byte, and the cache starts over.
    let tail = await this.kv.getFrom(pheromoneKey(type), Math.max(0, cache.length - 1));
    if (cache.length > 0) {
      if (!tail || tail.length === 0 || tail[0] !== 10) {
        cache = this.freshCache(type, gen);
        tail = await this.kv.getFrom(pheromoneKey(type), 0);
      } else {
        tail = tail.subarray(1);
      }
    }
    if (tail && tail.length > 0) {
      const endByte = tail.lastIndexOf(10) + 1; // appends are whole lines; leave anything unfinished
      for (const record of decodeDeposits(type, decoder.decode(tail.subarray(0, endByte)))) cache.push(record);
      cache.length += endByte;
    }
    return cache;
  }

  private freshCache(type: PheromoneType, generation: string | null): TypeCache {
    const cache = new TypeCache(generation);
    this.caches.set(type, cache);
    return cache;
  }

  /**
   * Current intensities, computed on read; broadcast deposits count for every target; the
   * strongest first. Only the top `limit` are sorted (a bounded selection), so a field of
   * thousands of deposits stays cheap to sense.
   */
  async sense(query: SenseQuery = {}): Promise<SenseResult> {
    const q = SenseQuery.parse(query);
    const now = this.now();
    const types = q.type ? [q.type] : PHEROMONE_TYPES;
    const top = new TopK(q.limit);
    let level = 0;
    let total = 0;
    for (const type of types) {
      const c = await this.cacheOf(type);
      // -1 matches broadcasts only: a target nobody aimed at still sees them.
      const wanted = q.target === undefined ? -2 : (c.targets.get(q.target) ?? -3);
      const target = c.target;
      // Newest first: recent deposits are usually the strongest, so the top-k heap fills with
      // them early and most older ones are turned away with one comparison.
      for (let i = c.records.length - 1; i >= 0; i--) {
        if (wanted !== -2 && target[i] !== -1 && target[i] !== wanted) continue;
        const intensity = c.intensity(i, now);
        if (intensity === 0) continue;
        level += intensity;
        total++;
        top.offer(intensity, c.records[i]);
      }
    }
    return { total, level: Math.min(1, level), pheromones: top.sorted().map(([intensity, record]) => view(record, intensity)) };
  }

  /**
   * Collects evaporated and expired deposits: a type's key is rewritten only when at least
   * half of it (and 100 lines) is dead, at most once per interval, and only if nobody appended
   * meanwhile (compare-and-swap); a lost race waits for the next round.
   */
  async evaporate(): Promise<number> {
    const now = this.now();
    let collected = 0;
    for (const type of PHEROMONE_TYPES) {
      if (now - (this.lastCompaction.get(type) ?? 0) < (this.options.compactEveryMs ?? 5000)) continue;
      // Count the dead from the parsed cache (a numeric scan); read and re-parse the key only
      // when it is worth rewriting.
      const cache = await this.cacheOf(type);
      let deadInCache = 0;
      for (let i = 0; i < cache.records.length; i++) if (cache.intensity(i, now) === 0) deadInCache++;
      if (deadInCache < 100 || deadInCache * 2 < cache.records.length) continue;
      const current = await this.kv.get(pheromoneKey(type));
      if (!current) continue;
      const lines = decoder.decode(current).split('\n').filter(Boolean);
      const live = lines.filter((line) => {
        const r = decodeLine(type, line);
        return r !== null && isLive(r, now);
      });
      const dead = lines.length - live.length;
      this.lastCompaction.set(type, now);
      const next = live.length ? textEncoder.encode(`${live.join('\n')}\n`) : null;
      const ok = await this.kv.commit({ expect: [{ key: pheromoneKey(type), value: current }], writes: [{ key: pheromoneKey(type), value: next }], increments: [{ key: generationKey(type), delta: 1n }] });
      if (ok) {
        collected += dead;
        this.options.events?.evaporated?.(type, dead);
      }
    }
    return collected;
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => void this.evaporate().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function view(r: DepositRecord, intensity: number): SensedPheromone {
  return {
    id: r.id,
    type: r.type,
    source: r.source,
    target: r.target,
    intensity,
    initialIntensity: r.intensity,
    halfLifeMs: r.halfLifeMs,
    emittedAt: new Date(r.emittedAtMs).toISOString(),
    expiresAt: r.expiresAtMs ? new Date(r.expiresAtMs).toISOString() : null,
    payload: r.payload,
  };
}

/** The k strongest offers, kept in a min-heap so a large field is never sorted whole. */
class TopK {
  private readonly values: number[] = [];
  private readonly items: DepositRecord[] = [];
  constructor(private readonly k: number) {}

  offer(value: number, item: DepositRecord): void {
    const { values, items } = this;
    if (values.length < this.k) {
      values.push(value);
      items.push(item);
      for (let i = values.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (values[p] <= values[i]) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    if (value <= values[0]) return;
    values[0] = value;
    items[0] = item;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < values.length && values[l] < values[m]) m = l;
      if (r < values.length && values[r] < values[m]) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const v = this.values[a];
    this.values[a] = this.values[b];
    this.values[b] = v;
    const item = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = item;
  }

  /** Strongest first. */
  sorted(): [number, DepositRecord][] {
    return this.values.map((v, i): [number, DepositRecord] => [v, this.items[i]]).sort((a, b) => b[0] - a[0]);
  }
}
