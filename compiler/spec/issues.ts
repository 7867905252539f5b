import type { z } from 'zod';
import { describeIssue as describeGeneric, fieldPath } from '../../common/zod-issues.ts';
import { REFLEX_KINDS } from './schema.ts';

/** One readable line per zod issue, in ReflexSpec terms: a missing kind and unknown fields get their own wording. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = fieldPath(issue.path);
  // The loader names a kind it does not know before zod runs, so here the kind is missing.
  if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'kind') {
    return `kind: missing; expected one of ${REFLEX_KINDS.join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys') return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return describeGeneric(issue);
}
