import { createHash, timingSafeEqual } from 'node:crypto';

/** The keys in MORPHEUS_API_KEYS (comma-separated). */
export const apiKeyList = (list: string | undefined): string[] => (list ?? '').split(',').map((k) => k.trim()).filter(Boolean);

/**
 * Inbound API keys (MORPHEUS_API_KEYS, comma-separated). Keys are compared as SHA-256 digests
 * with timingSafeEqual, so neither the content nor the length of a key leaks through timing.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(list: string | undefined) {
    this.digests = apiKeyList(list).map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Accepts `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key: <key>` (Anthropic clients). */
  allows(header: (name: string) => string | undefined): boolean {
    if (!this.enabled) return true;
    const bearer = header('authorization')?.replace(/^Bearer\s+/i, '');
    const presented = header('x-api-key') ?? bearer;
    if (!presented) return false;
    const d = digest(presented);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
