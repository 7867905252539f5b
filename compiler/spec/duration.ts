import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const EXPECTED = 'a duration: "100ms", "10s", "1m", "1h", or a whole number of milliseconds';

/** A year and a day: longer durations are typing mistakes, and would overflow the µs arithmetic of rate limits. */
const MAX_DURATION_MS = 366 * 24 * 3_600_000;

/** `250ms`, `10s`, `1m`, `1h`, or a number of milliseconds; always milliseconds after parsing. */
export const Duration = z
  .union([z.number().int(`expected ${EXPECTED}`).positive(`expected ${EXPECTED}`), z.string().regex(/^\d+(ms|s|m|h)$/, `expected ${EXPECTED}`)], {
    // A union's own message is "Invalid input"; say what a duration looks like instead.
    error: (issue) => (issue.input === undefined ? `required: ${EXPECTED}` : `expected ${EXPECTED}`),
  })
  .transform((v) => (typeof v === 'number' ? v : Number(v.match(/^\d+/)![0]) * UNITS[v.match(/(ms|s|m|h)$/)![0]]))
  .refine((ms) => ms > 0, 'a duration above zero')
  .refine((ms) => ms <= MAX_DURATION_MS, 'a duration of at most 366 days ("8784h")');
