import { z } from 'zod';

/**
 * The pheromone field's law and its wire format in the key-value store.
 *
 * The same bytes are written by the nucleus (memory or Redis) and read by compiled sensor
 * reflexes through `wasi:keyvalue`, so this file is the contract between TypeScript and the
 * AssemblyScript support library (compiler/assembly/pheromone.ts). Change both together.
 *
 * Layout: one key per type, `pheromone/<TYPE>`, in the `default` store. Its value is
 * append-only text, one deposit per line:
 *
 *   <emittedAtMs> <intensity0> <halfLifeMs> <expiresAtMs|0> <target|*> <json {id,source,payload}>\n
 *
 * Appending (Redis APPEND) makes concurrent deposits lossless without locks; the numbers come
 * first so a sensor parses four fields and skips the rest of the line. DREAM's doubled
 * half-life is applied when the deposit is written, so readers need no per-type rules.
 */

export const PHEROMONE_TYPES = [
  'METAPHOR', 'WARNING', 'MEMORY', 'NARRATIVE', 'OPPORTUNITY', 'SCARCITY',
  'CAPABILITY', 'STATE', 'TEST', 'INTENT', 'DREAM', 'CHAOS',
] as const;
export const PheromoneType = z.enum(PHEROMONE_TYPES);
export type PheromoneType = z.infer<typeof PheromoneType>;

/** Below this a deposit has evaporated and may be collected. */
export const EVAPORATION_THRESHOLD = 0.01;
export const BROADCAST = '*';
/** Targets and sources are single tokens so the line format needs no escaping. */
export const TOKEN = /^[A-Za-z0-9._:@/-]{1,128}$/;

export function pheromoneKey(type: PheromoneType): string {
  return `pheromone/${type}`;
}

export function flagKey(flag: string): string {
  return `flag/${flag}`;
}

export function effectiveHalfLifeMs(type: PheromoneType, halfLifeMs: number): number {
  return type === 'DREAM' ? halfLifeMs * 2 : halfLifeMs;
}

/** I(t) = I0 * 0.5 ^ ((now - emittedAt) / halfLife), clamped to [0, 1]. Computed on read, never written back. */
export function intensityAt(intensity0: number, emittedAtMs: number, halfLifeMs: number, nowMs: number): number {
  const age = Math.max(0, nowMs - emittedAtMs);
  const value = intensity0 * Math.pow(0.5, age / halfLifeMs);
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

export const DepositRecord = z.object({
  id: z.string(),
  type: PheromoneType,
  source: z.string(),
  target: z.string().nullable(),
  intensity: z.number(),
  /** Effective half-life (DREAM already doubled). */
  halfLifeMs: z.number(),
  emittedAtMs: z.number(),
  /** 0 = no ttl. */
  expiresAtMs: z.number(),
  payload: z.unknown(),
});
export type DepositRecord = z.infer<typeof DepositRecord>;

export function encodeDeposit(d: DepositRecord): string {
  const meta = JSON.stringify({ id: d.id, source: d.source, payload: d.payload ?? null });
  return `${d.emittedAtMs} ${d.intensity} ${d.halfLifeMs} ${d.expiresAtMs} ${d.target ?? BROADCAST} ${meta}\n`;
}

/** Parses every complete line of a key's value; a torn or foreign line is skipped, not fatal. */
export function decodeDeposits(type: PheromoneType, text: string): DepositRecord[] {
  const out: DepositRecord[] = [];
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    const record = decodeLine(type, text.slice(start, end));
    if (record) out.push(record);
    start = end + 1;
  }
  return out;
}

export function decodeLine(type: PheromoneType, line: string): DepositRecord | null {
  const parts = line.split(' ', 5);
  if (parts.length < 5) return null;
  const metaStart = parts.reduce((n, p) => n + p.length + 1, 0);
  try {
    const meta = JSON.parse(line.slice(metaStart)) as { id: string; source: string; payload: unknown };
    const [emittedAtMs, intensity, halfLifeMs, expiresAtMs] = parts.slice(0, 4).map(Number);
    if (![emittedAtMs, intensity, halfLifeMs, expiresAtMs].every(Number.isFinite)) return null;
    return {
      id: meta.id, type, source: meta.source, target: parts[4] === BROADCAST ? null : parts[4],
      intensity, halfLifeMs, emittedAtMs, expiresAtMs, payload: meta.payload,
    };
  } catch {
    return null;
  }
}

/** Live = above the evaporation threshold and not past its ttl. */
export function isLive(d: Pick<DepositRecord, 'intensity' | 'emittedAtMs' | 'halfLifeMs' | 'expiresAtMs'>, nowMs: number): boolean {
  if (d.expiresAtMs > 0 && nowMs >= d.expiresAtMs) return false;
  return intensityAt(d.intensity, d.emittedAtMs, d.halfLifeMs, nowMs) >= EVAPORATION_THRESHOLD;
}
