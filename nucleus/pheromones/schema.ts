import { z } from 'zod';
import { DepositRecord, PheromoneType, TOKEN } from '../../common/pheromone.ts';
import { Duration } from '../../compiler/spec/duration.ts';

export const DepositInput = z
  .object({
    type: PheromoneType,
    source: z.string().regex(TOKEN, 'a token: letters, digits and . _ : @ / -'),
    target: z.string().regex(TOKEN, 'a token: letters, digits and . _ : @ / -').nullish(),
    intensity: z.number().min(0).max(1),
    /** Milliseconds, or a duration such as "30s". DREAM's is doubled when stored. */
    halfLife: Duration,
    /** Optional lifetime after which the deposit is gone whatever its intensity. */
    ttl: Duration.optional(),
    payload: z.unknown().optional(),
  })
  .strict()
  .refine((d) => serializedBytes(d.payload ?? null) <= 8192, { message: 'payload must serialize to at most 8 KB (UTF-8), and nest no deeper than JSON.stringify can go', path: ['payload'] });
export type DepositInput = z.input<typeof DepositInput>;

const LIMIT = 'expected a whole number from 1 to 10000';

export const SenseQuery = z.object({
  type: PheromoneType.optional(),
  target: z.string().regex(TOKEN).optional(),
  // Digits only: Number() would also take ` 5`, `0x10` and `1e3`.
  limit: z
    .preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number({ error: LIMIT }).int({ error: LIMIT }).min(1, { error: LIMIT }).max(10_000, { error: LIMIT }))
    .default(100),
});
export type SenseQuery = z.input<typeof SenseQuery>;

/** A deposit as sensing shows it: its record's identity and settings, its intensity now, times as ISO text. */
export const SensedPheromone = DepositRecord.pick({ id: true, type: true, source: true, target: true, halfLifeMs: true, payload: true }).extend({
  intensity: z.number(),
  initialIntensity: z.number(),
  emittedAt: z.string(),
  expiresAt: z.string().nullable(),
});
export type SensedPheromone = z.infer<typeof SensedPheromone>;

export const SenseResult = z.object({
  /** Live deposits that matched, before the limit. */
  total: z.number().int(),
  /** Sum of their intensities, clamped to 1: what a sensor reflex with `aggregate: 'sum'` sees. */
  level: z.number(),
  pheromones: z.array(SensedPheromone),
});
export type SenseResult = z.infer<typeof SenseResult>;

/** The payload's size as stored (UTF-8 bytes); Infinity for one too deeply nested to serialize at all. */
function serializedBytes(payload: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(payload));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
