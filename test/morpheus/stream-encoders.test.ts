import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../nucleus/morpheus/canonical.ts';
import { anthropicStreamEncoder } from '../../nucleus/morpheus/protocol/anthropic.ts';
import { openAiStreamEncoder } from '../../nucleus/morpheus/protocol/openai.ts';

// An answer that says something, then calls two tools, streamed in pieces as backends send them.
const answer: ChatChunk[] = [
  { type: 'delta', text: 'Looking ' },
  { type: 'delta', text: 'it up.' },
  { type: 'tool_call', index: 0, id: 'call_a', name: 'lookup', arguments: '' },
  { type: 'tool_call', index: 0, arguments: '{"q":' },
  { type: 'tool_call', index: 0, arguments: '"Oslo"}' },
  { type: 'tool_call', index: 1, id: 'call_b', name: 'lookup', arguments: '{"q":"Bergen"}' },
  { type: 'done', finish: 'tool_calls', usage: { input: 5, output: 9 } },
];

const events = (sse: string) =>
  sse
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => JSON.parse(frame.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));

describe('stream encoders', () => {
  it('Anthropic: a text block, then a tool_use block per call with its input as JSON deltas', () => {
    const encoder = anthropicStreamEncoder('m');
    const sent = events(answer.map((c) => encoder.chunk(c)).join(''));
    expect(sent.map((e) => [e.type, e.index ?? null, e.content_block?.type ?? e.delta?.type ?? null])).toEqual([
      ['message_start', null, null],
      ['content_block_start', 0, 'text'],
      ['content_block_delta', 0, 'text_delta'],
      ['content_block_delta', 0, 'text_delta'],
      ['content_block_stop', 0, null],
      ['content_block_start', 1, 'tool_use'],
      ['content_block_delta', 1, 'input_json_delta'],
      ['content_block_delta', 1, 'input_json_delta'],
      ['content_block_stop', 1, null],
      ['content_block_start', 2, 'tool_use'],
      ['content_block_delta', 2, 'input_json_delta'],
      ['content_block_stop', 2, null],
      ['message_delta', null, null],
      ['message_stop', null, null],
    ]);
    expect(sent[5].content_block).toEqual({ type: 'tool_use', id: 'call_a', name: 'lookup', input: {} });
    expect(sent[6].delta.partial_json + sent[7].delta.partial_json).toBe('{"q":"Oslo"}');
    expect(sent[12].delta.stop_reason).toBe('tool_use');
  });

  it('OpenAI: content deltas, then tool_calls deltas by index, finishing with tool_calls', () => {
    const encoder = openAiStreamEncoder('m', true);
    const frames = answer.map((c) => encoder.chunk(c)).join('');
    expect(frames.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const chunks = events(frames.replace('data: [DONE]\n\n', ''));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '' } },
      { index: 0, function: { arguments: '{"q":' } },
      { index: 0, function: { arguments: '"Oslo"}' } },
      { index: 1, id: 'call_b', type: 'function', function: { name: 'lookup', arguments: '{"q":"Bergen"}' } },
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta?.content).filter(Boolean).join('')).toBe('Looking it up.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 });
  });
});
