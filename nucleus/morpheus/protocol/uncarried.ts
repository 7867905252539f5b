/**
 * What a request asks for that the canonical chat (text in, text out) cannot carry: tools,
 * images, JSON mode and the like. Such a request goes to a backend of the caller's own API as
 * sent (Gateway.native) instead of being translated and losing it.
 */
export function fieldsSet(body: Record<string, unknown>, names: readonly string[]): string[] {
  return names.filter((name) => body[name] !== undefined && body[name] !== null && body[name] !== false);
}
