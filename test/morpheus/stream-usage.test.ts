import { describe, expect, it } from 'vitest';
import { StreamUsage, withoutAddedUsage } from '../../nucleus/morpheus/protocol/stream-usage.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunk: Uint8Array) => new TextDecoder().decode(chunk);

describe('token counts read off a passing stream', () => {
  it('counts an OpenAI usage chunk, even one cut across reads', () => {
    const stream = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}\n\ndata: [DONE]\n\n';
    for (const cuts of [[stream.length], [60, 75, 90], [5, 80, stream.length - 3]]) {
      const usage = new StreamUsage('openai');
      let from = 0;
      for (const at of [...cuts, stream.length]) {
        usage.read(bytes(stream.slice(from, at)));
        from = at;
      }
      expect(usage.total).toEqual({ input: 7, output: 3 });
    }
  });

  it("adds up Anthropic's counts from message_start and message_delta", () => {
    const usage = new StreamUsage('anthropic');
    usage.read(bytes('event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":42,"output_tokens":1}}}\n\n'));
    usage.read(bytes('event: message_delta\r\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\r\n\r\n'));
    expect(usage.total).toEqual({ input: 42, output: 9 });
  });

  it('keeps the usage-only chunk Morpheus asked for from a client that did not, and nothing else', () => {
    const content = 'data: {"choices":[{"delta":{"content":"the usage of words"}}]}\n\n';
    const usageOnly = 'data: {"choices":[],"usage":{"prompt_tokens":7}}\r\n\r\n';
    expect(text(withoutAddedUsage(bytes(content + usageOnly + 'data: [DONE]\n\n')))).toBe(content + 'data: [DONE]\n\n');
    const untouched = bytes(content);
    expect(withoutAddedUsage(untouched)).toBe(untouched);
  });
});
