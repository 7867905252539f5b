import { AMBIGUOUS_PATH } from '../compiler/abi.ts';

/**
 * The request target as reflexes and upstreams see it, the same on the Spin path
 * (compiler/assembly/target.ts). A path that Spin's routes, a reflex and an upstream could read
 * differently is refused: one with a `.` or `..` segment (an upstream that resolves
 * `/public/../admin` gets a path no rule saw), with a `\\`, or with an escaped unreserved
 * character (an upstream routes `/v1/%63hat` as `/v1/chat`; Spin's routes do not). An absolute-form target
 * keeps only its path and query, and `//host/x` is a path, so no host written into the target
 * takes a request outside `allowed_outbound_hosts`.
 */
export interface RequestTarget {
  path: string;
  /** Without the `?`. */
  query: string;
}

/** `.` or `..` between `/` or `\` (URL parsers resolve both). */
const DOT_SEGMENT = /(?:^|[/\\])\.{1,2}(?:[/\\]|$)/;
/** `%XX` for a letter, digit, `-`, `.`, `_` or `~`. */
const ESCAPED_UNRESERVED = /%(?:3[0-9]|[46][1-9a-f]|[57][0-9a]|2[de]|5f|7e)/i;

const NOT_A_TARGET = 'the request target is neither a path nor an http(s) URL';

/**
 * The target's path and query, or why it is refused. An origin-form target (`/path?query`, what
 * clients send) is taken as sent, as Spin takes it: a URL parser would rewrite it (`\` to `/`,
 * `{` to `%7B`) and the reflex would judge another path than Spin's. A `\` anywhere is refused:
 * WHATWG-minded upstreams read it as `/`.
 */
export function parseTarget(target: string): RequestTarget | { refused: string } {
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  let query = q < 0 ? '' : target.slice(q + 1);
  // Judged as sent, before any parser could resolve it away.
  if (DOT_SEGMENT.test(path) || ESCAPED_UNRESERVED.test(path) || path.includes('\\')) return { refused: AMBIGUOUS_PATH };
  if (!path.startsWith('/')) {
    // Absolute-form (`GET http://host/x`, as sent to a proxy): its path and query only.
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return { refused: NOT_A_TARGET };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { refused: NOT_A_TARGET };
    path = url.pathname;
    query = url.search.slice(1);
  }
  return { path, query };
}

/** The upstream URL for a target: the upstream's origin and base path, then the target's path and query. */
export function upstreamUrl(base: URL, target: RequestTarget): URL {
  const url = new URL(base);
  url.pathname = base.pathname.replace(/\/$/, '') + target.path;
  url.search = target.query;
  url.hash = '';
  return url;
}
