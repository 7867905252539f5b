import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { untranslated, type ChatChunk, type ChatRequest, type ChatResponse, type FinishReason } from '../canonical.ts';
import { fieldsSet } from './uncarried.ts';

/** A content block: text, or another kind (tool use, an image...) that only a native request carries. */
const Block = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const Blocks = z.union([z.string(), z.array(Block).min(1)]);

export const MessagesRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: Blocks }).passthrough()).min(1),
    system: Blocks.optional(),
    max_tokens: z.number().int().positive(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop_sequences: z.array(z.string()).optional(),
    stream: z.boolean().optional(),
  })
  .passthrough();
export type MessagesRequest = z.infer<typeof MessagesRequest>;

const NATIVE_ONLY = ['tools', 'tool_choice', 'thinking', 'mcp_servers', 'container'] as const;

/** What the request asks for beyond text chat (see uncarried.ts); empty when it translates whole. */
export function anthropicNativeNeeds(r: MessagesRequest): string[] {
  const needs = fieldsSet(r, NATIVE_ONLY);
  const beyondText = (b: z.infer<typeof Blocks> | undefined) => Array.isArray(b) && b.some((block) => block.type !== 'text');
  if (beyondText(r.system) || r.messages.some((m) => beyondText(m.content))) needs.push('content blocks other than text (tool use, tool results, images)');
  return needs;
}

const text = (b: z.infer<typeof Blocks>) => (typeof b === 'string' ? b : b.map((x) => x.text ?? '').join(''));

/** The fields fromAnthropic translates; the Anthropic API gets the others as sent. */
const TRANSLATED = ['model', 'messages', 'system', 'max_tokens', 'temperature', 'top_p', 'stop_sequences', 'stream'] as const;

export function fromAnthropic(r: MessagesRequest): ChatRequest {
  return {
    model: r.model,
    messages: [...(r.system ? [{ role: 'system' as const, content: text(r.system) }] : []), ...r.messages.map((m) => ({ role: m.role, content: text(m.content) }))],
    maxTokens: r.max_tokens,
    temperature: r.temperature,
    topP: r.top_p,
    stop: r.stop_sequences,
    native: { api: 'anthropic', fields: untranslated(r, TRANSLATED) },
  };
}

/** The request the Anthropic API receives: system prompts move to `system`, max_tokens is required. */
export function toAnthropic(r: ChatRequest, stream: boolean): Record<string, unknown> {
  const system = r.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  return {
    ...(r.native?.api === 'anthropic' ? r.native.fields : {}),
    model: r.model,
    max_tokens: r.maxTokens ?? 1024,
    messages: r.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
    ...(system ? { system } : {}),
    ...(r.temperature !== undefined ? { temperature: Math.min(1, r.temperature) } : {}),
    ...(r.topP !== undefined ? { top_p: r.topP } : {}),
    ...(r.stop ? { stop_sequences: r.stop } : {}),
    ...(stream ? { stream: true } : {}),
  };
}

const STOP_OUT: Record<FinishReason, string> = { stop: 'end_turn', length: 'max_tokens', stop_sequence: 'stop_sequence', error: 'end_turn' };
export const STOP_IN: Record<string, FinishReason> = { end_turn: 'stop', max_tokens: 'length', stop_sequence: 'stop_sequence', tool_use: 'stop', pause_turn: 'stop', refusal: 'stop' };

export function anthropicResponse(r: ChatResponse): Record<string, unknown> {
  return {
    id: r.id.startsWith('msg_') ? r.id : `msg_${r.id}`,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: [{ type: 'text', text: r.content }],
    stop_reason: STOP_OUT[r.finish],
    stop_sequence: null,
    usage: { input_tokens: r.usage.input, output_tokens: r.usage.output },
  };
}

/** The Anthropic event sequence: message_start, content_block_start, deltas, content_block_stop, message_delta, message_stop. */
export function anthropicStreamEncoder(model: string) {
  const event = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
  let started = false;
  const start = () =>
    event('message_start', { message: { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } }) +
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  return {
    chunk(c: ChatChunk): string {
      let out = '';
      if (!started) {
        started = true;
        out += start();
      }
      if (c.type === 'delta') return out + event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: c.text } });
      return (
        out +
        event('content_block_stop', { index: 0 }) +
        event('message_delta', { delta: { stop_reason: STOP_OUT[c.finish], stop_sequence: null }, usage: { input_tokens: c.usage?.input ?? 0, output_tokens: c.usage?.output ?? 0 } }) +
        event('message_stop', {})
      );
    },
    error(status: number, message: string): string {
      return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(status, message))}\n\n`;
    },
  };
}

export function anthropicErrorBody(status: number, message: string): Record<string, unknown> {
  const type = status === 400 ? 'invalid_request_error' : status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 404 ? 'not_found_error' : status === 413 ? 'request_too_large' : status === 429 ? 'rate_limit_error' : status === 503 ? 'overloaded_error' : 'api_error';
  return { type: 'error', error: { type, message } };
}
