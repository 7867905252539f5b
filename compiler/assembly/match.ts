// Matchers that generated router code calls. Iterative (no backtracking blow-up).
import { includesIgnoringCase } from './abi';
import { Request } from './codec';
import { hexValue } from './target';

export function pathPrefix(path: string, prefix: string): bool {
  if (!path.startsWith(prefix)) return false;
  // "/v1/chat" matches "/v1/chat" and "/v1/chat/x", not "/v1/chatter".
  return path.length == prefix.length || prefix.endsWith('/') || path.charCodeAt(prefix.length) == 47;
}

/** Glob over paths: `*` matches within one segment, `**` across segments. */
export function glob(pattern: string, text: string): bool {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  let starCrosses = false;
  while (t < text.length) {
    if (p < pattern.length && pattern.charCodeAt(p) == 42) {
      starCrosses = p + 1 < pattern.length && pattern.charCodeAt(p + 1) == 42;
      p += starCrosses ? 2 : 1;
      starP = p;
      starT = t;
    } else if (p < pattern.length && pattern.charCodeAt(p) == text.charCodeAt(t)) {
      p++;
      t++;
    } else if (starP >= 0 && (starCrosses || text.charCodeAt(starT) != 47)) {
      starT++;
      t = starT;
      p = starP;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) == 42) p++;
  return p == pattern.length;
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
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
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
  return String.UTF8.decodeUnsafe(bytes.dataStart, <usize>n);
}

export function containsKeyword(req: Request, keyword: string): bool {
  return includesIgnoringCase(req.bodyText(), keyword) || includesIgnoringCase(req.path, keyword);
}

/**
 * Where the value of a JSON body field at a dotted path (`model`, `metadata.tier`) lies, as
 * text: strings without their quotes, numbers and literals as written. Packed as
 * `start << 32 | end`, -1 when absent or not JSON; a span, not a copy, so a large field costs
 * no memory. A small scanner, not a full parser: enough to route on a field.
 */
function jsonFieldSpan(body: string, path: string): i64 {
  const keys = path.split('.');
  let pos = 0;
  for (let k = 0; k < keys.length; k++) {
    pos = findKey(body, pos, keys[k]);
    if (pos < 0) return -1;
  }
  pos = skipSpace(body, pos);
  if (pos >= body.length) return -1;
  if (body.charCodeAt(pos) == 34) {
    const end = stringEnd(body, pos);
    return end < 0 ? -1 : (<i64>(pos + 1) << 32) | <i64>end;
  }
  let end = pos;
  while (end < body.length) {
    const e = body.charCodeAt(end);
    if (e == 44 || e == 125 || e == 93 || e == 32 || e == 10) break;
    end++;
  }
  return (<i64>pos << 32) | <i64>end;
}

function skipSpace(s: string, pos: i32): i32 {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c != 32 && c != 10 && c != 13 && c != 9) break;
    pos++;
  }
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

/** Finds `"key":` among the members of the object that starts at or after pos; returns the value's offset. */
function findKey(s: string, pos: i32, key: string): i32 {
  pos = skipSpace(s, pos);
  if (pos >= s.length || s.charCodeAt(pos) != 123) return -1;
  pos++;
  let depth = 0;
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c == 34) {
      const end = stringEnd(s, pos);
      if (end < 0) return -1;
      if (depth == 0) {
        const after = skipSpace(s, end + 1);
        if (after < s.length && s.charCodeAt(after) == 58) {
          if (s.substring(pos + 1, end) == key) return after + 1;
        }
      }
      pos = end + 1;
      continue;
    }
    if (c == 123 || c == 91) depth++;
    else if (c == 125 || c == 93) {
      if (depth == 0) return -1;
      depth--;
    }
    pos++;
  }
  return -1;
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

export function jsonEquals(req: Request, path: string, value: string): bool {
  const body = req.bodyText();
  const span = jsonFieldSpan(body, path);
  if (span < 0) return false;
  const start = <i32>(span >> 32);
  const length = <i32>(span & 0xffffffff) - start;
  return length == value.length && memory.compare(changetype<usize>(body) + (<usize>start << 1), changetype<usize>(value), <usize>length << 1) == 0;
}
