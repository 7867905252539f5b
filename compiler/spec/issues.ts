import type { z } from 'zod';
import { REFLEX_KINDS } from './schema.ts';

/** `rules.2.match.path` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

/** One readable line per zod issue: field path, what was expected, what was found. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = fieldPath(issue.path);
  if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'kind') {
    return `kind: unknown kind; expected one of ${REFLEX_KINDS.join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys') return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${field}: ${issue.message}`;
}
