import type { z } from 'zod';
import { KgentsError, type ErrorCode, type ErrorDetails } from './errors.ts';

type Issue = z.core.$ZodIssue;

/** `rules.2.match.path` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

/** How one option of a union failed: keys it needs that the value lacks, keys it does not know, and bad values under keys it does know. */
interface OptionFailure {
  missing: string[];
  unknown: string[];
  deep: Issue[];
  /** The value itself is not of the option's type (a number for a string), or fails its own check. */
  wrongType: boolean;
}

function failureOf(option: Issue[]): OptionFailure {
  const failure: OptionFailure = { missing: [], unknown: [], deep: [], wrongType: false };
  for (const issue of option) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) failure.unknown.push(...issue.keys);
    else if (issue.code === 'invalid_type' && issue.path.length === 1 && issue.message.endsWith('received undefined')) failure.missing.push(String(issue.path[0]));
    else if (issue.path.length === 0) failure.wrongType = true;
    else failure.deep.push(issue);
  }
  return failure;
}

const unique = (items: string[]) => [...new Set(items)];

/**
 * Every option failed on the value's shape alone (`{ redirect: ... }` where an action is one of
 * `route`, `respond`, `deny`): the keys the options take, and the keys the value has. The value's
 * keys are those some option did not know; an option that needs none it lacks takes the rest.
 */
function keysMessage(options: OptionFailure[]): string | null {
  if (options.some((o) => o.deep.length > 0 || o.wrongType) || options.every((o) => o.missing.length === 0 && o.unknown.length === 0)) return null;
  const given = unique(options.flatMap((o) => o.unknown));
  const taken = unique(options.flatMap((o) => [...o.missing, ...given.filter((key) => !o.unknown.includes(key))]));
  return `expected one of ${taken.join(', ')}; got ${given.join(', ') || 'none of them'}`;
}

/** Every option wanted another type of value (`method: 5` for a name or a list of names). */
function typesMessage(issue: Issue & { code: 'invalid_union' }): string | null {
  const firsts = issue.errors.map((option) => option[0]);
  if (!firsts.every((first) => first?.code === 'invalid_type' && first.path.length === 0)) return null;
  const received = /received \w+$/.exec(firsts[0].message)?.[0];
  return `expected ${unique(firsts.map((first) => (first as { expected: string }).expected)).join(' or ')}${received ? `, ${received}` : ''}`;
}

/**
 * The issue that says what is wrong. A union that failed ("Invalid input") is replaced by the
 * issue of the option whose keys the value has, when one failed only on a value under them
 * (`{ respond: { headers: ... } }` is a respond action with a bad header, not "no action"); by
 * what the options take, when each failed on the value's keys or type; else by the issue of the
 * option that got furthest into the value. A record key that failed, by why.
 */
export function mostSpecific(issue: Issue): Issue {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const options = issue.errors.map(failureOf);
    const fitting = options.filter((o) => o.missing.length === 0 && o.unknown.length === 0 && !o.wrongType && o.deep.length > 0).map((o) => o.deep[0]);
    const message = fitting.length === 0 ? (keysMessage(options) ?? typesMessage(issue)) : null;
    if (message) return { ...issue, message };
    const candidates = fitting.length > 0 ? fitting : issue.errors.map((option) => option[0]).filter((first) => first !== undefined);
    const furthest = candidates.sort((a, b) => b.path.length - a.path.length)[0];
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
