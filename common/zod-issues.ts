import type { z } from 'zod';
import { KgentsError, type ErrorCode, type ErrorDetails } from './errors.ts';

type Issue = z.core.$ZodIssue;

/** `rules.2.match.path` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

export const describeIssue = (issue: Issue): string => `${fieldPath(issue.path)}: ${issue.message}`;

/**
 * Parses `raw` with `schema`; on failure throws one KgentsError that names the first bad field
 * (for `file: field:` output) and lists every issue in its message.
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, raw: unknown, code: ErrorCode, details: ErrorDetails = {}, describe: (issue: Issue) => string = describeIssue): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  throw new KgentsError(code, issues.map(describe).join('; '), { ...details, field: fieldPath(issues[0].path), issues: issues.map(describe) });
}
