import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type ChatChunk, type ChatMessage, type ChatRequest, type ChatResponse, type ContentPart, type FinishReason, type ImageSource, type ToolCall, type ToolChoice, type Usage } from '../canonical.ts';
import { GatewayError } from '../errors.ts';
import { fieldsSet } from './uncarried.ts';

/**
 * A content block: text, an image, a tool use or a tool result (which translation carries), or
 * another kind (a document...) that only a native request carries.
 */
const Block = z
  .object({
    type: z.string(),
    text: z.string().optional(),
    id: z.string().optional(),
    name: z.string().optional(),
    input: z.unknown().optional(),
    tool_use_id: z.string().optional(),
    is_error: z.boolean().optional(),
    source: z.object({ type: z.string(), media_type: z.string().optional(), data: z.string().optional(), url: z.string().optional() }).passthrough().optional(),
    content: z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough())]).optional(),
  })
  .passthrough();
const Blocks = z.union([z.string(), z.array(Block).min(1)]);

const Tool = z.object({ type: z.string().optional(), name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()).optional() }).passthrough();
const ToolChoiceIn = z.object({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() }).passthrough();

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
    tools: z.array(Tool).optional(),
    tool_choice: ToolChoiceIn.optional(),
  })
  .passthrough();
export type MessagesRequest = z.infer<typeof MessagesRequest>;

const NATIVE_ONLY = ['tools', 'tool_choice', 'thinking', 'mcp_servers', 'container'] as const;
const TOOL_BLOCKS = 'tool use or tool results in the messages';
const IMAGES = 'images in the messages';
const TRANSLATED_BLOCKS = new Set(['text', 'tool_use', 'tool_result', 'image']);

/**
 * The caller's fields a backend of the Anthropic API gets too: the API version and the beta
 * features it asked for (a beta tool or a longer context needs its `anthropic-beta`).
 */
const ANTHROPIC_CALLER_FIELDS = ['anthropic-version', 'anthropic-beta'] as const;

/** Those of ANTHROPIC_CALLER_FIELDS the caller sent, read with `header`. */
export function anthropicCallerFields(header: (name: string) => string | null | undefined): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const name of ANTHROPIC_CALLER_FIELDS) {
    const value = header(name);
    if (value) sent[name] = value;
  }
  return sent;
}

/** What translation carries beyond text chat: tools (custom ones), the choice among them, their uses and results, and images. */
export const ANTHROPIC_TRANSLATABLE: ReadonlySet<string> = new Set(['tools', 'tool_choice', TOOL_BLOCKS, IMAGES]);

/** What the request asks for beyond text chat (see uncarried.ts); empty when it is text chat. */
export function anthropicNativeNeeds(r: MessagesRequest): string[] {
  const needs = fieldsSet(r, NATIVE_ONLY);
  // Server tools (web search...) have a `type` of their own and no input_schema: only the API runs them.
  if (r.tools?.some((t) => t.type !== undefined && t.type !== 'custom')) needs.push('server tools');
  const blocks = [r.system, ...r.messages.map((m) => m.content)].flatMap((b) => (Array.isArray(b) ? b : []));
  if (blocks.some((b) => b.type === 'tool_use' || b.type === 'tool_result')) needs.push(TOOL_BLOCKS);
  if (blocks.some((b) => b.type === 'image')) needs.push(IMAGES);
  const systemImages = Array.isArray(r.system) && r.system.some((b) => b.type !== 'text');
  if (systemImages || blocks.some((b) => !TRANSLATED_BLOCKS.has(b.type) || (b.type === 'tool_result' && Array.isArray(b.content) && b.content.some((c) => c.type !== 'text')))) needs.push('content blocks other than text, images and tools (documents...)');
  return needs;
}

const textOf = (blocks: readonly { type: string; text?: string }[]) => blocks.filter((b) => b.type === 'text').map((b) => b.text ?? '').join('');
const text = (b: z.infer<typeof Blocks>) => (typeof b === 'string' ? b : textOf(b));

function imageSourceIn(source: NonNullable<z.infer<typeof Block>['source']>): ImageSource {
  return source.type === 'url' ? { url: source.url ?? '' } : { mediaType: source.media_type ?? 'image/png', data: source.data ?? '' };
}

/** Text and images in order, for blocks that hold images or more than one text (kept apart, not run together). */
function partsIn(blocks: z.infer<typeof Block>[]): ContentPart[] | undefined {
  if (!blocks.some((b) => b.type === 'image') && blocks.filter((b) => b.type === 'text').length < 2) return undefined;
  return blocks.flatMap((b): ContentPart[] => (b.type === 'image' && b.source ? [{ type: 'image', source: imageSourceIn(b.source) }] : b.type === 'text' ? [{ type: 'text', text: b.text ?? '' }] : []));
}

/** One Anthropic message as canonical ones: a user turn's tool results become tool messages, ahead of its text. */
function messagesOf(role: 'system' | 'user' | 'assistant', content: z.infer<typeof Blocks>): ChatMessage[] {
  if (typeof content === 'string') return [{ role, content }];
  const parts = partsIn(content);
  if (role === 'assistant') {
    const toolCalls = content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id ?? '', name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) }));
    return [{ role, content: textOf(content), ...(parts ? { parts } : {}), ...(toolCalls.length ? { toolCalls } : {}) }];
  }
  const results = content
    .filter((b) => b.type === 'tool_result')
    .map((b): ChatMessage => ({ role: 'tool', toolCallId: b.tool_use_id ?? '', content: typeof b.content === 'string' ? b.content : textOf(b.content ?? []), ...(b.is_error ? { toolError: true } : {}) }));
  const said = textOf(content);
  return [...results, ...(said || parts || results.length === 0 ? [{ role, content: said, ...(parts ? { parts } : {}) }] : [])];
}

function toolChoiceIn(choice: z.infer<typeof ToolChoiceIn> | undefined): ToolChoice | undefined {
  if (!choice) return undefined;
  if (choice.type === 'tool') return { name: choice.name ?? '' };
  return choice.type === 'any' ? 'required' : choice.type;
}

export function fromAnthropic(r: MessagesRequest): ChatRequest {
  return {
    model: r.model,
    messages: [...(r.system ? messagesOf('system', r.system) : []), ...r.messages.flatMap((m) => messagesOf(m.role, m.content))],
    maxTokens: r.max_tokens,
    temperature: r.temperature,
    topP: r.top_p,
    stop: r.stop_sequences,
    tools: r.tools?.map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema ?? { type: 'object', properties: {} } })),
    toolChoice: toolChoiceIn(r.tool_choice),
    parallelToolCalls: r.tool_choice?.disable_parallel_tool_use === true ? false : undefined,
  };
}

/**
 * Tool call arguments as the object Anthropic carries. Text that is not JSON is the caller's
 * mistake in a request (400), the model's in an answer (502).
 */
function argumentsObject(call: ToolCall, from: 'request' | 'answer'): unknown {
  try {
    return JSON.parse(call.arguments || '{}');
  } catch {
    throw new GatewayError(from === 'request' ? 'INVALID_REQUEST' : 'UPSTREAM_UNAVAILABLE', `the arguments of tool call ${call.id} are not JSON`);
  }
}

const anthropicBlock = (p: ContentPart) =>
  p.type === 'text' ? p : { type: 'image', source: 'url' in p.source ? { type: 'url', url: p.source.url } : { type: 'base64', media_type: p.source.mediaType, data: p.source.data } };

/**
 * Canonical messages as Anthropic turns: tool calls become tool_use blocks, and tool results
 * tool_result blocks in a user turn (several results in a row share one turn, with any user
 * text that follows them).
 */
function anthropicTurns(messages: ChatMessage[]): { role: 'user' | 'assistant'; content: unknown }[] {
  const turns: { role: 'user' | 'assistant'; content: unknown }[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'assistant' && m.toolCalls?.length) {
      turns.push({ role: 'assistant', content: [...(m.content ? [{ type: 'text', text: m.content }] : []), ...m.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: argumentsObject(c, 'request') }))] });
      continue;
    }
    const last = turns.at(-1);
    const blocks = m.role === 'tool' ? [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.toolError ? { is_error: true } : {}) }] : m.parts ? m.parts.map(anthropicBlock) : [{ type: 'text', text: m.content }];
    if (m.role !== 'assistant' && last?.role === 'user' && Array.isArray(last.content)) {
      last.content.push(...blocks);
      continue;
    }
    turns.push(m.role === 'tool' || m.parts ? { role: m.role === 'tool' ? 'user' : m.role, content: blocks } : { role: m.role, content: m.content });
  }
  return turns;
}

/**
 * The Anthropic API requires max_tokens; OpenAI's clients leave it out to mean "as long as the
 * model goes". Every Claude model since Claude 3 can write 4,096 tokens in one answer.
 */
const DEFAULT_MAX_TOKENS = 4096;

/** The request the Anthropic API receives: system prompts move to `system`, max_tokens is required. */
export function toAnthropic(r: ChatRequest, stream: boolean): Record<string, unknown> {
  // System text as blocks, each part of each system message its own, so none run together.
  const systemBlocks = r.messages.filter((m) => m.role === 'system').flatMap((m) => (m.parts ?? [{ type: 'text' as const, text: m.content }]).flatMap((p) => (p.type === 'text' && p.text ? [{ type: 'text', text: p.text }] : [])));
  const system = systemBlocks.length > 1 ? systemBlocks : systemBlocks[0]?.text;
  // Anthropic says "one call at most" inside tool_choice, so it needs one (auto by default).
  const single = r.parallelToolCalls === false && (r.tools?.length ?? 0) > 0;
  const choice = r.toolChoice ?? (single ? 'auto' : undefined);
  return {
    model: r.model,
    max_tokens: r.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: anthropicTurns(r.messages),
    ...(system ? { system } : {}),
    ...(r.temperature !== undefined ? { temperature: Math.min(1, r.temperature) } : {}),
    ...(r.topP !== undefined ? { top_p: r.topP } : {}),
    ...(r.stop ? { stop_sequences: r.stop } : {}),
    ...(r.tools?.length ? { tools: r.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters })) } : {}),
    ...(choice ? { tool_choice: { ...(typeof choice === 'string' ? { type: choice === 'required' ? 'any' : choice } : { type: 'tool', name: choice.name }), ...(single && choice !== 'none' ? { disable_parallel_tool_use: true } : {}) } } : {}),
    ...(stream ? { stream: true } : {}),
  };
}

/** Anthropic's token counts (the claude CLI reports the same), as Morpheus counts them. */
export const usageFromAnthropic = (u: { input_tokens?: number; output_tokens?: number } | null | undefined): Usage => ({ input: u?.input_tokens ?? 0, output: u?.output_tokens ?? 0 });

const STOP_OUT: Record<FinishReason, string> = { stop: 'end_turn', length: 'max_tokens', stop_sequence: 'stop_sequence', tool_calls: 'tool_use', error: 'end_turn' };
export const STOP_IN: Record<string, FinishReason> = { end_turn: 'stop', max_tokens: 'length', stop_sequence: 'stop_sequence', tool_use: 'tool_calls', pause_turn: 'stop', refusal: 'stop' };

const toolUse = (c: ToolCall) => ({ type: 'tool_use', id: c.id, name: c.name, input: argumentsObject(c, 'answer') });

export function anthropicResponse(r: ChatResponse): Record<string, unknown> {
  const calls = r.toolCalls ?? [];
  return {
    id: r.id.startsWith('msg_') ? r.id : `msg_${r.id}`,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: [...(r.content || calls.length === 0 ? [{ type: 'text', text: r.content }] : []), ...calls.map(toolUse)],
    stop_reason: STOP_OUT[r.finish],
    stop_sequence: r.stopSequence ?? null,
    usage: { input_tokens: r.usage.input, output_tokens: r.usage.output },
  };
}

/**
 * The Anthropic event sequence: message_start, then content blocks (a text block for text, a
 * tool_use block per tool call, whose arguments come as input_json_delta), each opened with
 * content_block_start and closed with content_block_stop, then message_delta and message_stop.
 */
export function anthropicStreamEncoder(model: string) {
  const event = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
  let started = false;
  let block = -1;
  let open: 'text' | 'tool' | null = null;
  const close = () => {
    const out = open ? event('content_block_stop', { index: block }) : '';
    open = null;
    return out;
  };
  const openBlock = (kind: 'text' | 'tool', contentBlock: Record<string, unknown>) => {
    const out = close() + event('content_block_start', { index: ++block, content_block: contentBlock });
    open = kind;
    return out;
  };
  return {
    chunk(c: ChatChunk): string {
      let out = '';
      if (!started) {
        started = true;
        out += event('message_start', { message: { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } });
      }
      if (c.type === 'delta') {
        if (open !== 'text') out += openBlock('text', { type: 'text', text: '' });
        return out + event('content_block_delta', { index: block, delta: { type: 'text_delta', text: c.text } });
      }
      if (c.type === 'tool_call') {
        // A call's first piece names it; the pieces after it carry its arguments.
        if (c.name !== undefined || open !== 'tool') out += openBlock('tool', { type: 'tool_use', id: c.id ?? `toolu_${c.index}`, name: c.name ?? '', input: {} });
        return c.arguments ? out + event('content_block_delta', { index: block, delta: { type: 'input_json_delta', partial_json: c.arguments } }) : out;
      }
      if (block < 0) out += openBlock('text', { type: 'text', text: '' });
      return (
        out +
        close() +
        event('message_delta', { delta: { stop_reason: STOP_OUT[c.finish], stop_sequence: c.stopSequence ?? null }, usage: { input_tokens: c.usage?.input ?? 0, output_tokens: c.usage?.output ?? 0 } }) +
        event('message_stop', {})
      );
    },
  };
}

/** An error in the middle of a stream: Anthropic's `error` event. */
export function anthropicStreamError(body: Record<string, unknown>): string {
  return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
}

export function anthropicErrorBody(status: number, message: string): Record<string, unknown> {
  const type = status === 400 ? 'invalid_request_error' : status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 404 ? 'not_found_error' : status === 413 ? 'request_too_large' : status === 429 ? 'rate_limit_error' : status === 503 ? 'overloaded_error' : 'api_error';
  return { type: 'error', error: { type, message } };
}
