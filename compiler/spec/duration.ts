import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `10s`, `1m`, `1h`, or a number of milliseconds; always milliseconds after parsing. */
export const Duration = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as "100ms", "10s", "1m" or "1h"'),
  ])
  .transform((v) => (typeof v === 'number' ? v : Number(v.match(/^\d+/)![0]) * UNITS[v.match(/(ms|s|m|h)$/)![0]]));
