import { describe, expect, it } from 'vitest';
import { fromAnthropic, MessagesRequest, toAnthropic } from '../../nucleus/morpheus/protocol/anthropic.ts';
import { toOpenAi } from '../../nucleus/morpheus/protocol/openai.ts';

// A failed tool's result, as an Anthropic client sends it, through the canonical request to each API.
const request = MessagesRequest.parse({
  model: 'm',
  max_tokens: 16,
  messages: [
    { role: 'user', content: 'weather in Oslo' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'Oslo' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'service unavailable', is_error: true }] },
  ],
});

describe('a failed tool result across APIs', () => {
  it('keeps is_error to an Anthropic backend, and says "Error:" in the text to an OpenAI one, which has no flag', () => {
    const canonical = fromAnthropic(request);
    expect((toAnthropic(canonical, false).messages as unknown[]).at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'service unavailable', is_error: true }] });
    expect((toOpenAi(canonical, false).messages as unknown[]).at(-1)).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'Error: service unavailable' });
  });

  it('leaves a result that did not fail as it was', () => {
    const ok = MessagesRequest.parse({ ...request, messages: [...request.messages.slice(0, 2), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '4 degrees' }] }] });
    expect((toAnthropic(fromAnthropic(ok), false).messages as unknown[]).at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '4 degrees' }] });
  });
});
