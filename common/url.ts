// URL.canParse, not URL.parse: the latter needs Node 20.18, and the package allows 20.10.

/** The scheme of a URL with its colon (`http:`), or '' when the value is not a URL. */
export const protocolOf = (value: string): string => (URL.canParse(value) ? new URL(value).protocol : '');

/** An absolute http:// or https:// URL with a host: what an upstream, or Morpheus, must be. */
export const isHttpUrl = (value: string | undefined): boolean => value !== undefined && /^https?:\/\/[^/]/i.test(value) && URL.canParse(value);
