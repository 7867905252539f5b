/**
 * The named fields a request sets. Each protocol lists with it what a request asks for beyond
 * text chat: what translation carries (tools, images), and what only a backend of the caller's
 * own API can take as sent (Gateway.chat).
 */
export function fieldsSet(body: Record<string, unknown>, names: readonly string[]): string[] {
  return names.filter((name) => body[name] !== undefined && body[name] !== null && body[name] !== false);
}
