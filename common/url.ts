// URL.canParse, not URL.parse: the latter needs Node 20.18, and the package allows 20.10.

/** The scheme of a URL with its colon (`http:`), or '' when the value is not a URL. */
export const protocolOf = (value: string): string => (URL.canParse(value) ? new URL(value).protocol : '');

/** An absolute http:// or https:// URL with a host: what an upstream, or Morpheus, must be. */
export const isHttpUrl = (value: string | undefined): boolean => value !== undefined && /^https?:\/\/[^/]/i.test(value) && URL.canParse(value);

/**
 * The origin a client asked for: from X-Forwarded-Host and -Proto when a proxy (a reflex, an
 * ingress) set them, their first value being the first proxy's; else the request's own. A host
 * that is more than a host (a path, a user) is not taken.
 */
export function requestOrigin(url: string, header: (name: string) => string | undefined): string {
  const own = new URL(url);
  const host = header('x-forwarded-host')?.split(',')[0].trim();
  if (!host || !HOST_AND_PORT.test(host)) return own.origin;
  const proto = header('x-forwarded-proto')?.split(',')[0].trim().toLowerCase();
  const scheme = proto === 'http' || proto === 'https' ? proto : own.protocol.slice(0, -1);
  const origin = `${scheme}://${host}`;
  return URL.canParse(origin) ? new URL(origin).origin : own.origin;
}

/** A name, IPv4 or bracketed IPv6 address, and an optional port. */
const HOST_AND_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;
