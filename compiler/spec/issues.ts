import type { z } from 'zod';
import { describeIssue as describeGeneric, fieldPath, mostSpecific } from '../../common/zod-issues.ts';
import { REFLEX_KINDS } from './schema.ts';

/** One readable line per zod issue, in ReflexSpec terms: a missing kind and unknown fields get their own wording. */
export function describeIssue(raw: z.core.$ZodIssue): string {
  // The loader names a kind it does not know before zod runs, so here the kind is missing.
  if (raw.code === 'invalid_union' && raw.path.length === 1 && raw.path[0] === 'kind') {
    return `kind: missing; expected one of ${REFLEX_KINDS.join(', ')}`;
  }
  const issue = mostSpecific(raw);
  const field = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return describeGeneric(issue);
}
