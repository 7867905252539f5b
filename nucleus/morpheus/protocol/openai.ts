import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type ChatChunk, type ChatMessage, type ChatRequest, type ChatResponse, type ContentPart, type FinishReason, type ImageSource, type ToolCall, type ToolChoice, type Usage } from '../canonical.ts';
import { fieldsSet } from './uncarried.ts';

/** A content part: text, an image (which translation carries), or another kind (audio, a file...) that only a native request carries. */
const Part = z.object({ type: z.string(), text: z.string().optional(), image_url: z.object({ url: z.string() }).passthrough().optional() }).passthrough();
const Content = z.union([z.string(), z.array(Part).min(1), z.null()]);

/** A tool: a function (which translation carries), or another kind (custom, built-in) that only a native request carries. */
const Tool = z.object({ type: z.string(), function: z.object({ name: z.string().min(1), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }).passthrough().optional() }).passthrough();
const ToolCallIn = z.object({ id: z.string(), type: z.literal('function'), function: z.object({ name: z.string(), arguments: z.string() }).passthrough() }).passthrough();
const ToolChoiceIn = z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }).passthrough()]);

/** OpenAI takes null for any optional top-level field, as Python clients send None: the same as leaving it out. */
const withoutNulls = (value: unknown) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) : value);

export const ChatCompletionRequest = z.preprocess(
  withoutNulls,
  z.object({
    model: z.string().min(1),
    messages: z
      .array(
        z
          .object({
            role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
            content: Content.optional(),
            tool_calls: z.array(ToolCallIn).optional(),
            tool_call_id: z.string().optional(),
          })
          .passthrough(),
      )
      .min(1),
    n: z.number().int().min(1).optional(),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop: z.union([z.string(), z.array(z.string())]).optional(),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().optional(),
    tools: z.array(Tool).optional(),
    tool_choice: ToolChoiceIn.optional(),
    parallel_tool_calls: z.boolean().optional(),
  })
  .passthrough(),
);
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

const NATIVE_ONLY = ['tools', 'tool_choice', 'parallel_tool_calls', 'functions', 'function_call', 'response_format', 'logprobs', 'top_logprobs', 'audio', 'modalities', 'prediction', 'web_search_options'] as const;
const TOOL_HISTORY = 'tool calls or results in the history';
const IMAGES = 'images in the messages';

/** What translation carries beyond text chat: function tools, the choice among them, their calls and results, and images. */
export const OPENAI_TRANSLATABLE: ReadonlySet<string> = new Set(['tools', 'tool_choice', 'parallel_tool_calls', TOOL_HISTORY, IMAGES]);

/** What the request asks for beyond text chat (see uncarried.ts); empty when it is text chat. */
export function openAiNativeNeeds(r: ChatCompletionRequest): string[] {
  const needs = fieldsSet(r, NATIVE_ONLY);
  if ((r.n ?? 1) > 1) needs.push('n');
  if (r.tools?.some((t) => t.type !== 'function' || !t.function)) needs.push('tools other than functions');
  if (r.messages.some((m) => m.role === 'tool' || (m.tool_calls?.length ?? 0) > 0)) needs.push(TOOL_HISTORY);
  const parts = r.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
  if (parts.some((p) => p.type === 'image_url')) needs.push(IMAGES);
  if (r.messages.some((m) => fieldsSet(m, ['function_call', 'audio']).length > 0) || parts.some((p) => p.type !== 'text' && p.type !== 'image_url')) needs.push('parts other than text and images in the messages');
  return needs;
}

/** Text, or tokens (LangChain sends token arrays by default): one input or a list of them. */
export const EmbeddingsRequest = z
  .object({ model: z.string().min(1), input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]) })
  .passthrough();

const text = (c: z.infer<typeof Content> | undefined) => (c === null || c === undefined ? '' : typeof c === 'string' ? c : c.map((p) => p.text ?? '').join(''));

/** A data URL carries its image inline; any other URL is fetched by the backend. */
function imageSourceIn(url: string): ImageSource {
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return inline ? { mediaType: inline[1], data: inline[2] } : { url };
}

/** Text and images in order, for a message that has images or more than one text part (kept apart, not run together). */
function partsIn(content: z.infer<typeof Content> | undefined): ContentPart[] | undefined {
  if (!Array.isArray(content) || (!content.some((p) => p.type === 'image_url') && content.length < 2)) return undefined;
  return content.map((p): ContentPart => (p.type === 'image_url' ? { type: 'image', source: imageSourceIn(p.image_url?.url ?? '') } : { type: 'text', text: p.text ?? '' }));
}

function toolChoiceIn(choice: z.infer<typeof ToolChoiceIn> | undefined): ToolChoice | undefined {
  if (choice === undefined || typeof choice === 'string') return choice;
  return { name: choice.function.name };
}

export function fromOpenAi(r: ChatCompletionRequest): ChatRequest {
  return {
    model: r.model,
    messages: r.messages.map((m): ChatMessage => {
      if (m.role === 'tool') return { role: 'tool', content: text(m.content), toolCallId: m.tool_call_id ?? '' };
      const toolCalls = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      const parts = partsIn(m.content);
      return { role: m.role === 'developer' ? 'system' : m.role, content: text(m.content), ...(parts ? { parts } : {}), ...(toolCalls?.length ? { toolCalls } : {}) };
    }),
    maxTokens: r.max_completion_tokens ?? r.max_tokens,
    temperature: r.temperature,
    topP: r.top_p,
    stop: r.stop === undefined ? undefined : Array.isArray(r.stop) ? r.stop : [r.stop],
    // Only function tools get here (openAiNativeNeeds).
    tools: r.tools?.flatMap((t) => (t.function ? [{ name: t.function.name, description: t.function.description, parameters: t.function.parameters ?? { type: 'object', properties: {} } }] : [])),
    toolChoice: toolChoiceIn(r.tool_choice),
    parallelToolCalls: r.parallel_tool_calls,
  };
}

const openAiToolCalls = (calls: ToolCall[]) => calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));

const openAiPart = (p: ContentPart) =>
  p.type === 'text' ? p : { type: 'image_url', image_url: { url: 'url' in p.source ? p.source.url : `data:${p.source.mediaType};base64,${p.source.data}` } };

function toOpenAiMessage(m: ChatMessage): Record<string, unknown> {
  // OpenAI's tool message has no error flag: a failed tool's result says so in its text.
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.toolError ? `Error: ${m.content}` : m.content };
  const calls = m.toolCalls?.length ? m.toolCalls : undefined;
  // An assistant turn that only calls tools has null content, as OpenAI writes it.
  const content = m.parts ? m.parts.map(openAiPart) : calls ? m.content || null : m.content;
  return { role: m.role, content, ...(calls ? { tool_calls: openAiToolCalls(calls) } : {}) };
}

/** The request an OpenAI-compatible backend receives. */
export function toOpenAi(r: ChatRequest, stream: boolean): Record<string, unknown> {
  const choice = r.toolChoice;
  return {
    model: r.model,
    messages: r.messages.map(toOpenAiMessage),
    ...(r.maxTokens ? { max_tokens: r.maxTokens } : {}),
    ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
    ...(r.topP !== undefined ? { top_p: r.topP } : {}),
    ...(r.stop ? { stop: r.stop } : {}),
    ...(r.tools?.length ? { tools: r.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters } })) } : {}),
    ...(choice ? { tool_choice: typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } } } : {}),
    ...(r.parallelToolCalls !== undefined && r.tools?.length ? { parallel_tool_calls: r.parallelToolCalls } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

/** OpenAI's token counts, as Morpheus counts them. */
export const usageFromOpenAi = (u: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): Usage => ({ input: u?.prompt_tokens ?? 0, output: u?.completion_tokens ?? 0 });

const FINISH_OUT: Record<FinishReason, string> = { stop: 'stop', length: 'length', stop_sequence: 'stop', tool_calls: 'tool_calls', error: 'stop' };
export const FINISH_IN: Record<string, FinishReason> = { stop: 'stop', length: 'length', content_filter: 'stop', tool_calls: 'tool_calls', function_call: 'tool_calls' };

export function openAiResponse(r: ChatResponse): Record<string, unknown> {
  return {
    id: r.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: r.model,
    choices: [{ index: 0, message: { role: 'assistant', content: r.toolCalls?.length && !r.content ? null : r.content, ...(r.toolCalls?.length ? { tool_calls: openAiToolCalls(r.toolCalls) } : {}) }, finish_reason: FINISH_OUT[r.finish], logprobs: null }],
    usage: { prompt_tokens: r.usage.input, completion_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output },
  };
}

/** SSE frames (`data: ...`) for a canonical stream, ending with `[DONE]`. */
export function openAiStreamEncoder(model: string, includeUsage: boolean) {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const frame = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
  let started = false;
  return {
    chunk(c: ChatChunk): string {
      let out = '';
      if (!started) {
        started = true;
        out += frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
      }
      if (c.type === 'delta') return out + frame([{ index: 0, delta: { content: c.text }, finish_reason: null }]);
      if (c.type === 'tool_call') {
        const call = { index: c.index, ...(c.id ? { id: c.id, type: 'function' } : {}), function: { ...(c.name ? { name: c.name } : {}), arguments: c.arguments } };
        return out + frame([{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }]);
      }
      out += frame([{ index: 0, delta: {}, finish_reason: FINISH_OUT[c.finish] }]);
      if (includeUsage && c.usage) out += frame([], { usage: { prompt_tokens: c.usage.input, completion_tokens: c.usage.output, total_tokens: c.usage.input + c.usage.output } });
      return `${out}data: [DONE]\n\n`;
    },
  };
}

/** An error in the middle of a stream: OpenAI's clients read a data line that holds an error body. */
export function openAiStreamError(body: Record<string, unknown>): string {
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** `code` defaults from the status; an unknown URL passes null, as OpenAI does, since no model is involved. */
export function openAiErrorBody(status: number, message: string, code: string | null = defaultCode(status)): Record<string, unknown> {
  const type = status === 400 || status === 404 || status === 413 ? 'invalid_request_error' : status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'api_error';
  return { error: { message, type, param: null, code } };
}

function defaultCode(status: number): string {
  return status === 404 ? 'model_not_found' : status === 413 ? 'request_too_large' : status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_api_key' : status === 504 ? 'timeout' : status >= 500 ? 'upstream_error' : 'invalid_request';
}
