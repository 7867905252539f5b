import type { z } from 'zod';
import { KgentsError, type ErrorCode, type ErrorDetails } from './errors.ts';

type Issue = z.core.$ZodIssue;

/** `rules.2.match.path` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

/**
 * The issue that says what is wrong. A union that failed ("Invalid input") is replaced by the
 * issue of the option that got furthest into the value (`{ respond: { headers: ... } }` is a
 * respond action with a bad header, not "no action"); a record key that failed, by why.
 */
export function mostSpecific(issue: Issue): Issue {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const firsts = issue.errors.map((option) => option[0]).filter((first) => first !== undefined);
    const furthest = firsts.sort((a, b) => b.path.length - a.path.length)[0];
    if (furthest && furthest.path.length > 0) return mostSpecific({ ...furthest, path: [...issue.path, ...furthest.path] });
  }
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return { ...issue.issues[0], path: issue.path } as Issue;
  return issue;
}

export const describeIssue = (issue: Issue): string => {
  const specific = mostSpecific(issue);
  return `${fieldPath(specific.path)}: ${specific.message}`;
};

/**
 * Parses `raw` with `schema`; on failure throws one KgentsError that names the first bad field
 * (for `file: field:` output) and lists every issue in its message.
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, raw: unknown, code: ErrorCode, details: ErrorDetails = {}, describe: (issue: Issue) => string = describeIssue): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  throw new KgentsError(code, issues.map(describe).join('; '), { ...details, field: fieldPath(mostSpecific(issues[0]).path), issues: issues.map(describe) });
}
