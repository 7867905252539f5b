import type { ChatChunk, ChatRequest, ChatResponse, FinishReason } from '../canonical.ts';
import { GatewayError } from '../errors.ts';
import { STOP_IN, toAnthropic, usageFromAnthropic } from '../protocol/anthropic.ts';
import { parseStreamJson, readSse, streamCut, upstreamFetch, upstreamJson, type UpstreamResponse } from './http.ts';
import type { Backend, CallOptions } from './types.ts';

interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

interface Message {
  id?: string;
  model?: string;
  content?: ContentBlock[];
  stop_reason?: string | null;
  usage?: { input_tokens?: number; output_tokens?: number };
}

interface StreamEvent {
  type: string;
  index?: number;
  message?: Message;
  content_block?: ContentBlock;
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: { output_tokens?: number; input_tokens?: number };
  error?: { type?: string; message?: string };
}

/** The Anthropic Messages API. */
export class AnthropicBackend implements Backend {
  readonly kind = 'anthropic' as const;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  private init(body: Record<string, unknown>, passed: Record<string, string> = {}) {
    return {
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...passed, ...(this.apiKey ? { 'x-api-key': this.apiKey } : {}) },
      body: JSON.stringify(body),
    };
  }

  private url(): string {
    return `${this.baseUrl.replace(/\/$/, '')}/v1/messages`;
  }

  async complete(request: ChatRequest, options: CallOptions): Promise<ChatResponse> {
    const body = await upstreamJson<Message>(await upstreamFetch(this.url(), this.init(toAnthropic(request, false)), options), options);
    if (!Array.isArray(body.content)) throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the upstream answer has no content blocks');
    return {
      id: body.id ?? 'msg_morpheus',
      model: body.model ?? request.model,
      content: body.content.filter((b) => b.type === 'text').map((b) => b.text ?? '').join(''),
      ...(body.content.some((b) => b.type === 'tool_use') ? { toolCalls: body.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id ?? '', name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) })) } : {}),
      finish: STOP_IN[body.stop_reason ?? 'end_turn'] ?? 'stop',
      usage: usageFromAnthropic(body.usage),
    };
  }

  native(body: Record<string, unknown>, options: CallOptions): Promise<UpstreamResponse> {
    return upstreamFetch(this.url(), this.init(body, options.passed), options);
  }

  async *stream(request: ChatRequest, options: CallOptions): AsyncGenerator<ChatChunk> {
    const response = await upstreamFetch(this.url(), this.init(toAnthropic(request, true)), options);
    let input = 0;
    let output = 0;
    let finish: FinishReason = 'stop';
    let ended = false;
    /** Content block index -> the tool call's index among the answer's calls. */
    const toolBlocks = new Map<number, number>();
    // Read to the end of the body after message_stop: leaving early destroys the connection.
    for await (const event of readSse(response.body)) {
      if (ended) continue;
      const e = parseStreamJson<StreamEvent>(event.data);
      if (e.type === 'error') {
        // Anthropic's own word for it travels on: an Anthropic caller gets `overloaded_error` back, not a generic one.
        const overloaded = e.error?.type === 'overloaded_error';
        throw new GatewayError(overloaded ? 'OVERLOADED' : 'UPSTREAM_UNAVAILABLE', `upstream stream error: ${e.error?.message ?? 'unknown'}`, undefined, undefined, { api: 'anthropic', type: e.error?.type });
      }
      if (e.type === 'message_start') input = e.message?.usage?.input_tokens ?? 0;
      if (e.type === 'content_block_delta' && e.delta?.type === 'text_delta' && e.delta.text) yield { type: 'delta', text: e.delta.text };
      if (e.type === 'content_block_start' && e.content_block?.type === 'tool_use') {
        toolBlocks.set(e.index ?? 0, toolBlocks.size);
        yield { type: 'tool_call', index: toolBlocks.size - 1, id: e.content_block.id, name: e.content_block.name ?? '', arguments: '' };
      }
      if (e.type === 'content_block_delta' && e.delta?.type === 'input_json_delta' && e.delta.partial_json) yield { type: 'tool_call', index: toolBlocks.get(e.index ?? 0) ?? 0, arguments: e.delta.partial_json };
      if (e.type === 'message_delta') {
        finish = STOP_IN[e.delta?.stop_reason ?? 'end_turn'] ?? 'stop';
        output = e.usage?.output_tokens ?? output;
      }
      if (e.type === 'message_stop') {
        ended = true;
        yield { type: 'done', finish, usage: { input, output } };
      }
    }
    if (!ended) throw streamCut();
  }
}
