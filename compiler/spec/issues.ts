import type { z } from 'zod';
import { describeIssue as describeGeneric, fieldPath, mostSpecific } from '../../common/zod-issues.ts';
import { REFLEX_KINDS } from './schema.ts';

/** One readable line per zod issue, in ReflexSpec terms: a missing kind and unknown fields get their own wording. */
export function describeIssue(union: z.core.$ZodIssue): string {
  // The loader names a kind it does not know before zod runs, so here the kind is missing.
  if (union.code === 'invalid_union' && union.path.length === 1 && union.path[0] === 'kind') {
    return `kind: missing; expected one of ${REFLEX_KINDS.join(', ')}`;
  }
  const issue = mostSpecific(union);
  const field = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return describeGeneric(issue);
}
