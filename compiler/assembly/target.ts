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
 * Whether Spin's routes, the reflex and the upstream could read the path differently: a `\`
 * (WHATWG-minded upstreams read it as `/`), a `.` or `..` segment (URL parsers resolve them,
 * Spin does not), or an escaped unreserved character (an upstream routes `/v1/%63hat` as
 * `/v1/chat`; Spin's routes do not).
 */
export function isAmbiguousPath(path: string): bool {
  const n = path.length;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : 47;
    if (c == 37 && i + 2 < n) {
      const high = hexValue(path.charCodeAt(i + 1));
      const low = hexValue(path.charCodeAt(i + 2));
      if (high >= 0 && low >= 0 && isUnreserved((high << 4) | low)) return true;
    }
    if (c == 92) return true;
    if (c != 47) continue;
    const length = i - start;
    if ((length == 1 || length == 2) && path.charCodeAt(start) == 46 && path.charCodeAt(i - 1) == 46) return true;
    start = i + 1;
  }
  return false;
}
