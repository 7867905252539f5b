// The request path as a reflex decides on it, on the Spin path; cytoplasm/request-target.ts
// does the same on the embedded host. Keep the two in step.

/** The value of an ASCII hex digit, or -1. */
export function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** RFC 3986's unreserved characters: ALPHA, DIGIT, `-`, `.`, `_`, `~`. */
function isUnreserved(c: i32): bool {
  const lower = c | 32;
  return (lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95 || c == 126;
}

/**
 * `%XX` escapes of unreserved characters decoded (RFC 3986 6.2.2.2: `/v1/%63hat` is `/v1/chat`,
 * and an upstream routes it so); other escapes, `%2F` among them, stay as they are.
 */
export function decodeUnreserved(path: string): string {
  if (path.indexOf('%') < 0) return path;
  let out = '';
  let from = 0;
  for (let i = 0; i + 2 < path.length; i++) {
    if (path.charCodeAt(i) != 37) continue;
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0 || !isUnreserved((high << 4) | low)) continue;
    out += path.substring(from, i) + String.fromCharCode((high << 4) | low);
    from = i + 3;
    i += 2;
  }
  return from == 0 ? path : out + path.substring(from);
}

/**
 * A `.` or `..` segment between `/` or `\` (URL parsers resolve both). Spin hands the path over
 * as sent; an upstream that resolves it would get a path the reflex never decided on.
 */
export function hasDotSegment(path: string): bool {
  const n = path.length;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : 47;
    if (c != 47 && c != 92) continue;
    const length = i - start;
    if ((length == 1 || length == 2) && path.charCodeAt(start) == 46 && path.charCodeAt(i - 1) == 46) return true;
    start = i + 1;
  }
  return false;
}
