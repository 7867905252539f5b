import type { Api, Usage } from '../canonical.ts';
import { usageFromAnthropic } from './anthropic.ts';
import { usageFromOpenAi } from './openai.ts';

/** Either API's token counts, in the canonical form. */
export const usageIn = (api: Api, usage: Record<string, number>): Usage => (api === 'openai' ? usageFromOpenAi(usage) : usageFromAnthropic(usage));

const USAGE_MARK = Buffer.from('"usage"');
const NO_BYTES = Buffer.alloc(0);

/**
 * Drops the usage-only chunk (no choices, just `usage`) that Morpheus asked an OpenAI stream for
 * on its own account. Only a chunk that mentions usage is decoded; a usage chunk split across
 * two reads passes as it is (a chunk shape clients know).
 */
export function withoutAddedUsage(chunk: Uint8Array): Uint8Array {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (!bytes.includes(USAGE_MARK)) return chunk;
  const text = bytes.toString('utf8');
  const kept = text
    .split(/(?<=\r?\n\r?\n)/)
    .filter((event) => !(/"choices":\s*\[\]/.test(event) && event.includes('"usage"')))
    .join('');
  return kept.length === text.length ? chunk : Buffer.from(kept);
}

/**
 * Token counts read off a stream as it passes through: OpenAI sends them in a last chunk (with
 * include_usage), Anthropic in message_start and message_delta. Only complete lines are read,
 * and only a run of them that mentions usage is decoded and parsed: most chunks are looked at,
 * not copied.
 */
export class StreamUsage {
  readonly total = { input: 0, output: 0 };
  /** The start of a line the last chunk cut. */
  private tail: Buffer = NO_BYTES;

  constructor(private readonly api: Api) {}

  read(chunk: Uint8Array): void {
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const bytes = this.tail.length > 0 ? Buffer.concat([this.tail, view]) : view;
    const end = bytes.lastIndexOf(10) + 1;
    this.tail = end === bytes.length ? NO_BYTES : Buffer.from(bytes.subarray(end));
    if (end === 0 || !bytes.subarray(0, end).includes(USAGE_MARK)) return;
    for (const line of bytes.toString('utf8', 0, end).split('\n')) {
      if (!line.startsWith('data:') || !line.includes('"usage"')) continue;
      try {
        const event = JSON.parse(line.slice(5)) as { usage?: Record<string, number>; message?: { usage?: Record<string, number> } };
        const usage = event.usage ?? event.message?.usage;
        if (!usage) continue;
        // Anthropic's events each carry part of the count: keep what an earlier one said.
        const seen = usageIn(this.api, usage);
        Object.assign(this.total, { input: seen.input || this.total.input, output: seen.output || this.total.output });
      } catch {
        // Not JSON: the backend's business; the client gets it as sent.
      }
    }
  }
}

