/**
 * The request target as reflexes and upstreams see it. An absolute-form target keeps only its
 * path and query, and a target whose path has a dot segment is refused, as the Spin path
 * refuses it (compiler/assembly/http.ts): so neither `..` nor a host written into the target
 * takes a request past a rule or outside `allowed_outbound_hosts`.
 */
export interface RequestTarget {
  path: string;
  /** Without the `?`. */
  query: string;
}

/** Origin-form targets URL would serialize unchanged: the common case skips the parser. */
const PLAIN = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
/** `.` or `..`, plain or percent-encoded, between `/` or `\` (URL parsers resolve both). */
const DOT_SEGMENT = /(?:^|[/\\])(?:\.|%2e){1,2}(?:[/\\]|$)/i;

/** The target's path and query, or why it is refused. */
export function parseTarget(target: string): RequestTarget | { refused: string } {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  if (DOT_SEGMENT.test(rawPath)) return { refused: 'path has a . or .. segment' };
  if (PLAIN.test(target)) return { path: rawPath, query: q < 0 ? '' : target.slice(q + 1) };
  const originForm = target.startsWith('/');
  let url: URL;
  try {
    // A fixed origin in front, so a target like `//host/x` stays a path.
    url = new URL(originForm ? `http://origin${target}` : target);
  } catch {
    return { refused: 'the request target is neither a path nor an http(s) URL' };
  }
  if (!originForm && url.protocol !== 'http:' && url.protocol !== 'https:') return { refused: 'the request target is neither a path nor an http(s) URL' };
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
