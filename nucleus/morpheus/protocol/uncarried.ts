import type { z } from 'zod';

/**
 * Request fields the canonical chat (text in, text out) cannot carry, checked on the parsed
 * body. Dropping one would answer another question than the client asked (no tools, no JSON
 * mode, one choice instead of n), so a request that sets one gets 400 naming it.
 */
export function refuseUncarried(fields: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    for (const field of fields) {
      const set = value[field];
      if (set === undefined || set === null || set === false) continue;
      ctx.addIssue({ code: 'custom', path: [field], message: `Morpheus carries text chat only and cannot pass ${field} on; call the backend directly for it` });
    }
  };
}
