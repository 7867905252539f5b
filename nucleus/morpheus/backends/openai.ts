import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical.ts';
import { GatewayError } from '../errors.ts';
import { FINISH_IN, toOpenAi, usageFromOpenAi } from '../protocol/openai.ts';
import { parseStreamJson, readSse, streamCut, upstreamFetch, upstreamJson, type UpstreamResponse } from './http.ts';
import type { Backend, CallOptions } from './types.ts';

interface ToolCallOut {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string };
}

interface Completion {
  id?: string;
  model?: string;
  choices?: { message?: { content?: string | null; tool_calls?: ToolCallOut[] }; delta?: { content?: string | null; tool_calls?: ToolCallOut[] }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Any OpenAI-compatible server: vLLM, Ollama, llama.cpp server, OpenAI itself. */
export class OpenAiBackend implements Backend {
  readonly kind = 'openai' as const;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) };
  }

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}${path}`;
  }

  async complete(request: ChatRequest, options: CallOptions): Promise<ChatResponse> {
    const response = await upstreamFetch(this.url('/chat/completions'), { method: 'POST', headers: this.headers(), body: JSON.stringify(toOpenAi(request, false)) }, options);
    const body = await upstreamJson<Completion>(response, options);
    const choice = body.choices?.[0];
    if (!choice?.message) throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the upstream answer has no choices[0].message');
    return {
      id: body.id ?? 'chatcmpl-morpheus',
      model: body.model ?? request.model,
      content: choice.message.content ?? '',
      ...(choice.message.tool_calls?.length ? { toolCalls: choice.message.tool_calls.map((c) => ({ id: c.id ?? '', name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' })) } : {}),
      finish: FINISH_IN[choice.finish_reason ?? 'stop'] ?? 'stop',
      usage: usageFromOpenAi(body.usage),
    };
  }

  async *stream(request: ChatRequest, options: CallOptions): AsyncGenerator<ChatChunk> {
    const response = await upstreamFetch(this.url('/chat/completions'), { method: 'POST', headers: this.headers(), body: JSON.stringify(toOpenAi(request, true)) }, options);
    let finish: ChatChunk | null = null;
    let usage: { input: number; output: number } | undefined;
    let ended = false;
    // Read the body to its end even after [DONE]: leaving early destroys the upstream
    // connection, so the next request would pay for a new one.
    for await (const event of readSse(response.body)) {
      if (ended) continue;
      if (event.data === '[DONE]') {
        ended = true;
        yield finish ? { ...(finish as { type: 'done'; finish: 'stop' }), usage } : { type: 'done', finish: 'stop', usage };
        continue;
      }
      const chunk = parseStreamJson<Completion>(event.data);
      if (chunk.error) throw new GatewayError('UPSTREAM_UNAVAILABLE', `upstream stream error: ${chunk.error.message ?? 'unknown'}`);
      if (chunk.usage) usage = usageFromOpenAi(chunk.usage);
      const choice = chunk.choices?.[0];
      if (choice?.delta?.content) yield { type: 'delta', text: choice.delta.content };
      // Servers repeat `name: null` and `id: null` on a call's later deltas: only the first names the call.
      for (const call of choice?.delta?.tool_calls ?? []) yield { type: 'tool_call', index: call.index ?? 0, id: call.id ?? undefined, name: call.function?.name ?? undefined, arguments: call.function?.arguments ?? '' };
      if (choice?.finish_reason) finish = { type: 'done', finish: FINISH_IN[choice.finish_reason] ?? 'stop' };
    }
    // Some OpenAI-compatible servers close the stream after the finish chunk without [DONE]:
    // complete all the same. Without a finish, the answer was cut short.
    if (!ended && finish) yield { ...(finish as { type: 'done'; finish: 'stop' }), usage };
    else if (!ended) throw streamCut();
  }

  native(body: Record<string, unknown>, options: CallOptions): Promise<UpstreamResponse> {
    return upstreamFetch(this.url('/chat/completions'), { method: 'POST', headers: this.headers(), body: JSON.stringify(body) }, options);
  }

  async embeddings(body: unknown, options: CallOptions): Promise<unknown> {
    const response = await upstreamFetch(this.url('/embeddings'), { method: 'POST', headers: this.headers(), body: JSON.stringify(body) }, options);
    return upstreamJson(response, options);
  }

  async models(options: CallOptions): Promise<string[]> {
    const response = await upstreamFetch(this.url('/models'), { method: 'GET', headers: this.headers() }, options);
    const body = await upstreamJson<{ data?: { id: string }[] }>(response, options);
    return (body.data ?? []).map((m) => m.id);
  }
}
