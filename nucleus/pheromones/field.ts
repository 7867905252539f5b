import { randomUUID } from 'node:crypto';
import type { KvStore } from '../../common/kv/index.ts';
import { textEncoder } from '../../common/kv/index.ts';
import { decodeLine, effectiveHalfLifeMs, encodeDeposit, intensityAt, isLive, PHEROMONE_TYPES, pheromoneKey, type DepositRecord, type PheromoneType } from '../../common/pheromone.ts';
import { DepositInput, SenseQuery, type SenseResult, type SensedPheromone } from './schema.ts';

export interface FieldEvents {
  deposited?(d: DepositRecord): void;
  evaporated?(type: PheromoneType, collected: number): void;
}

interface TypeCache {
  generation: string | null;
  /** Bytes of the key already parsed. */
  length: number;
  records: DepositRecord[];
}

const generationKey = (type: PheromoneType) => `${pheromoneKey(type)}#gen`;
const decoder = new TextDecoder();

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

  async deposit(input: DepositInput): Promise<DepositRecord> {
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
    await this.kv.append(pheromoneKey(d.type), textEncoder.encode(encodeDeposit(record)));
    this.options.events?.deposited?.(record);
    return record;
  }

  /** Brings the cache of one type up to date and returns every record seen (live or not). */
  private async records(type: PheromoneType): Promise<DepositRecord[]> {
    const generation = await this.kv.get(generationKey(type));
    const gen = generation ? decoder.decode(generation) : null;
    let cache = this.caches.get(type);
    if (!cache || cache.generation !== gen) {
      cache = { generation: gen, length: 0, records: [] };
      this.caches.set(type, cache);
    }
    const tail = await this.kv.getFrom(pheromoneKey(type), cache.length);
    if (tail && tail.length > 0) {
      const endByte = tail.lastIndexOf(10) + 1; // appends are whole lines; leave anything unfinished
      const text = decoder.decode(tail.subarray(0, endByte));
      let start = 0;
      while (start < text.length) {
        const nl = text.indexOf('\n', start);
        const record = decodeLine(type, text.slice(start, nl));
        if (record) cache.records.push(record);
        start = nl + 1;
      }
      cache.length += endByte;
    }
    return cache.records;
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
    const matches: { record: DepositRecord; intensity: number }[] = [];
    let level = 0;
    for (const type of types) {
      for (const record of await this.records(type)) {
        if (q.target !== undefined && record.target !== null && record.target !== q.target) continue;
        if (record.expiresAtMs > 0 && now >= record.expiresAtMs) continue;
        const intensity = intensityAt(record.intensity, record.emittedAtMs, record.halfLifeMs, now);
        if (intensity < 0.01) continue;
        level += intensity;
        matches.push({ record, intensity });
      }
    }
    const top = topByIntensity(matches, q.limit);
    return { total: matches.length, level: Math.min(1, level), pheromones: top.map(({ record, intensity }) => view(record, intensity)) };
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
      const current = await this.kv.get(pheromoneKey(type));
      if (!current) continue;
      const lines = decoder.decode(current).split('\n').filter(Boolean);
      const live = lines.filter((line) => {
        const r = decodeLine(type, line);
        return r !== null && isLive(r, now);
      });
      const dead = lines.length - live.length;
      if (dead < 100 || dead * 2 < lines.length) continue;
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

/** The `limit` strongest entries, strongest first, without sorting the whole list. */
function topByIntensity<T extends { intensity: number }>(items: T[], limit: number): T[] {
  if (items.length <= limit) return items.sort((a, b) => b.intensity - a.intensity);
  // A min-heap of the best `limit` seen so far.
  const heap: T[] = [];
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].intensity < heap[m].intensity) m = l;
      if (r < heap.length && heap[r].intensity < heap[m].intensity) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].intensity <= heap[i].intensity) return;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  for (const item of items) {
    if (heap.length < limit) {
      heap.push(item);
      up(heap.length - 1);
    } else if (item.intensity > heap[0].intensity) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort((a, b) => b.intensity - a.intensity);
}
