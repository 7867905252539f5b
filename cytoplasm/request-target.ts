/**
 * The request target as reflexes and upstreams see it, the same on the Spin path
 * (compiler/assembly/target.ts): escapes of unreserved characters are decoded, since an upstream
 * routes `/v1/%63hat` as `/v1/chat`; a path with a dot segment is refused; an absolute-form
 * target keeps only its path and query. So neither an escape, nor `..`, nor a host written into
 * the target takes a request past a rule or outside `allowed_outbound_hosts`.
 */
export interface RequestTarget {
  path: string;
  /** Without the `?`. */
  query: string;
}

/** Origin-form targets URL would serialize unchanged: the common case skips the parser. */
const PLAIN = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
/** `.` or `..` between `/` or `\` (URL parsers resolve both). */
const DOT_SEGMENT = /(?:^|[/\\])\.{1,2}(?:[/\\]|$)/;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

function decodeUnreserved(path: string): string {
  return path.replace(ESCAPE, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape;
  });
}

const NOT_A_TARGET = 'the request target is neither a path nor an http(s) URL';

/** The target's path and query, or why it is refused. */
export function parseTarget(target: string): RequestTarget | { refused: string } {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const path = rawPath.includes('%') ? decodeUnreserved(rawPath) : rawPath;
  if (DOT_SEGMENT.test(path)) return { refused: 'path has a . or .. segment' };
  const query = q < 0 ? '' : target.slice(q + 1);
  if (PLAIN.test(target)) return { path, query };
  const originForm = path.startsWith('/');
  let url: URL;
  try {
    // A fixed origin in front, so a target like `//host/x` stays a path.
    url = new URL(`${originForm ? `http://origin${path}` : path}${q < 0 ? '' : `?${query}`}`);
  } catch {
    return { refused: NOT_A_TARGET };
  }
  if (!originForm && url.protocol !== 'http:' && url.protocol !== 'https:') return { refused: NOT_A_TARGET };
  return { path: url.pathname, query: url.search.slice(1) };
}

/** The upstream URL for a target: the upstream's origin and base path, then the target's path and query. */
export function upstreamUrl(base: URL, target: RequestTarget): URL {
  const url = new URL(base);
  url.pathname = base.pathname.replace(/\/$/, '') + target.path;
  url.search = target.query;
  url.hash = '';
  return url;
}
