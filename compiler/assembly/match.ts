// Matchers that generated router code calls. None backtracks: each costs at most path x pattern.
import { includesIgnoringCase, strFrom, utf8 } from './abi';
import { Request } from './codec';
import { hexValue } from './target';

export function pathPrefix(path: string, prefix: string): bool {
  if (!path.startsWith(prefix)) return false;
  // "/v1/chat" matches "/v1/chat" and "/v1/chat/x", not "/v1/chatter".
  return path.length == prefix.length || prefix.endsWith('/') || path.charCodeAt(prefix.length) == 47;
}

/**
 * Glob over paths: `*` matches within one segment, `**` across segments. The pattern runs as a
 * small automaton over the path, every position it could be at kept at once: time path x
 * pattern, no backtracking (a greedy matcher with one restart point failed when a `*` after
 * a `**` had to give text back).
 */
export function glob(pattern: string, text: string): bool {
  const m = pattern.length;
  let current = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  current[0] = 1;
  skipEmptyStars(pattern, current);
  for (let t = 0; t < text.length; t++) {
    const c = text.charCodeAt(t);
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (current[i] == 0) continue;
      const p = pattern.charCodeAt(i);
      if (p == 42) {
        // A star takes this character and stays: `**` any, `*` all but a `/`.
        if (doubleStar(pattern, i) || c != 47) {
          next[i] = 1;
          alive = true;
        }
      } else if (p == c) {
        next[i + 1] = 1;
        // `/a/` `**` `/b` matches `/a/b`: the slash may also stand for the slash after the `**`
        // (and after each of several in a row).
        for (let j = i; c == 47 && slashBeforeGlobstar(pattern, j); j += 3) next[j + 4] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    skipEmptyStars(pattern, next);
    const spent = current;
    current = next;
    next = spent;
  }
  return current[m] == 1;
}

function doubleStar(pattern: string, i: i32): bool {
  return i + 1 < pattern.length && pattern.charCodeAt(i + 1) == 42;
}

/** A star may match nothing: from a star, the position after it is reachable too. */
function skipEmptyStars(pattern: string, positions: Uint8Array): void {
  for (let i = 0; i < pattern.length; i++) {
    if (positions[i] != 0 && pattern.charCodeAt(i) == 42) positions[doubleStar(pattern, i) ? i + 2 : i + 1] = 1;
  }
}

/** Whether the `/` at `i` starts a segment that is only `**` (`/` `**` `/`): globstar lets that whole segment go. */
function slashBeforeGlobstar(pattern: string, i: i32): bool {
  return i + 3 < pattern.length && pattern.charCodeAt(i + 1) == 42 && pattern.charCodeAt(i + 2) == 42 && pattern.charCodeAt(i + 3) == 47;
}

/** The first value of `name` in a query string, decoded as a form field is. */
export function queryParam(query: string, name: string): string | null {
  const parts = query.split('&');
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    const key = formDecode(eq < 0 ? parts[i] : parts[i].substring(0, eq));
    if (key == name) return eq < 0 ? '' : formDecode(parts[i].substring(eq + 1));
  }
  return null;
}

/** `+` is a space and `%XX` a byte, the bytes read as UTF-8 (`a+b`, `a%20b` and `caf%C3%A9` as a client meant them). */
function formDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const bytes = Uint8Array.wrap(utf8(s));
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    let b = <i32>bytes[i];
    if (b == 43) b = 32;
    else if (b == 37 && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1]);
      const low = hexValue(bytes[i + 2]);
      if (high >= 0 && low >= 0) {
        b = (high << 4) | low;
        i += 2;
      }
    }
    bytes[n++] = <u8>b;
  }
  return strFrom(bytes.dataStart, n);
}

export function containsKeyword(req: Request, keyword: string): bool {
  return includesIgnoringCase(req.bodyText(), keyword) || includesIgnoringCase(req.path, keyword);
}

/**
 * Where the value of a JSON body field at a dotted path (`model`, `metadata.tier`) starts, -1
 * when absent or not JSON. Keys match as JSON.parse reads them: escapes decoded, and of a key
 * written twice, the last (an upstream reads that one). A small scanner, not a full parser:
 * enough to route on a field, with no copy of the body.
 */
function jsonFieldAt(body: string, path: string): i32 {
  const keys = path.split('.');
  let pos = 0;
  for (let k = 0; k < keys.length; k++) {
    pos = findKey(body, pos, keys[k]);
    if (pos < 0) return -1;
  }
  pos = skipSpace(body, pos);
  return pos < body.length ? pos : -1;
}

function isSpace(c: i32): bool {
  return c == 32 || c == 10 || c == 13 || c == 9;
}

function skipSpace(s: string, pos: i32): i32 {
  while (pos < s.length && isSpace(s.charCodeAt(pos))) pos++;
  return pos;
}

function stringEnd(s: string, quote: i32): i32 {
  for (let i = quote + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 92) i++;
    else if (c == 34) return i;
  }
  return -1;
}

/** Whether the JSON string between the quotes at `quote` and `end` reads as `expected`, escapes decoded. */
function jsonStringIs(s: string, quote: i32, end: i32, expected: string): bool {
  let j = 0;
  for (let i = quote + 1; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c == 92) {
      const e = s.charCodeAt(++i);
      if (e == 117) {
        // \uXXXX: one UTF-16 unit, as AssemblyScript strings hold them (a pair stays a pair).
        c = 0;
        for (let h = 1; h <= 4; h++) {
          const v = hexValue(s.charCodeAt(i + h));
          if (v < 0) return false;
          c = (c << 4) | v;
        }
        i += 4;
      } else c = e == 110 ? 10 : e == 116 ? 9 : e == 114 ? 13 : e == 98 ? 8 : e == 102 ? 12 : e;
    }
    if (j >= expected.length || expected.charCodeAt(j) != c) return false;
    j++;
  }
  return j == expected.length;
}

/**
 * Finds `"key":` among the members of the object that starts at or after pos (the last, if
 * written twice; in a body cut short, the last before the cut); returns the value's offset.
 */
function findKey(s: string, pos: i32, key: string): i32 {
  pos = skipSpace(s, pos);
  if (pos >= s.length || s.charCodeAt(pos) != 123) return -1;
  pos++;
  let depth = 0;
  let found = -1;
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c == 34) {
      const end = stringEnd(s, pos);
      if (end < 0) return found; // the body was cut (its first MiB): the last key seen so far
      if (depth == 0) {
        const after = skipSpace(s, end + 1);
        if (after < s.length && s.charCodeAt(after) == 58 && jsonStringIs(s, pos, end, key)) found = after + 1;
      }
      pos = end + 1;
      continue;
    }
    if (c == 123 || c == 91) depth++;
    else if (c == 125 || c == 93) {
      if (depth == 0) return found;
      depth--;
    }
    pos++;
  }
  return found;
}

export function headerEquals(req: Request, name: string, value: string): bool {
  const v = req.header(name);
  return v !== null && v == value;
}

export function headerPresent(req: Request, name: string): bool {
  return req.header(name) !== null;
}

export function queryEquals(req: Request, name: string, value: string): bool {
  const v = queryParam(req.query, name);
  return v !== null && v == value;
}

export function queryPresent(req: Request, name: string): bool {
  return queryParam(req.query, name) !== null;
}

/** A string field equals `value` as JSON.parse reads it; a number or literal as written. */
export function jsonEquals(req: Request, path: string, value: string): bool {
  const body = req.bodyText();
  const at = jsonFieldAt(body, path);
  if (at < 0) return false;
  if (body.charCodeAt(at) == 34) {
    const end = stringEnd(body, at);
    return end >= 0 && jsonStringIs(body, at, end, value);
  }
  let end = at;
  while (end < body.length) {
    const e = body.charCodeAt(end);
    if (e == 44 || e == 125 || e == 93 || isSpace(e)) break;
    end++;
  }
  const length = end - at;
  return length == value.length && memory.compare(changetype<usize>(body) + (<usize>at << 1), changetype<usize>(value), <usize>length << 1) == 0;
}
