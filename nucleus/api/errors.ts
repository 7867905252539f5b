import type { Context } from 'hono';
import { z } from 'zod';
import { httpStatusOf, isKgentsError, KgentsError } from '../../common/errors.ts';
import { fieldPath } from '../../common/zod-issues.ts';

/** The nucleus's error shape: `{ "error": { "code", "message", "issues"? } }`. */
export function errorResponse(c: Context, error: unknown): Response {
  if (error instanceof z.ZodError) {
    const issues = error.issues.map((i) => ({ path: fieldPath(i.path), message: i.message }));
    return c.json({ error: { code: 'invalid_request', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues } }, 400);
  }
  if (isKgentsError(error)) {
    return c.json({ error: { code: error.code.toLowerCase(), message: error.message } }, httpStatusOf(error) as 400);
  }
  return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
}

/** Parses a JSON body with a zod schema; a body that is not JSON is a 400 too. */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new KgentsError('INVALID_REQUEST', 'the body must be JSON');
  }
  return schema.parse(raw);
}
