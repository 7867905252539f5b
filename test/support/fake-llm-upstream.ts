import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * FAKE: a small LLM server for tests and benchmarks (no LLM can run here). It speaks both the
 * OpenAI API (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) and the Anthropic API
 * (`/v1/messages`), streaming or not, answering `reply(lastUserMessage)`, or calling the first
 * tool a request offers. `fault` makes it misbehave the way real upstreams do, so the gateway's
 * error paths can be checked.
 */
export type Fault =
  | 'none'
  | 'slow' // headers only after `delayMs`
  | 'status-500'
  | 'status-429' // with Retry-After: 7
  | 'garbage' // 200 with a body that is not JSON
  | 'cut' // a stream that stops half-way (socket destroyed)
  | 'no-done' // an OpenAI stream that closes after its finish chunk, without [DONE]
  | 'status-400' // the API's own error body: OpenAI's context_length_exceeded, Anthropic's invalid_request_error
  | 'status-529' // Anthropic's overloaded_error
  | 'stream-overloaded' // an Anthropic stream that sends an overloaded_error event half-way, then ends
  | 'echo-credentials'; // a 500 whose body repeats the credential it was sent

export interface FakeLlm {
  url: string;
  requests: { path: string; body: Record<string, unknown>; headers: IncomingMessage['headers'] }[];
  /** Requests whose client went away before the answer was complete. */
  cancelled: number;
  fault: Fault;
  delayMs: number;
  close(): Promise<void>;
}

type Reply = (input: string) => string;

export async function startFakeLlm(reply: Reply = (i) => `echo: ${i}`): Promise<FakeLlm> {
  const fake: FakeLlm = {
    url: '',
    requests: [],
    cancelled: 0,
    fault: 'none',
    delayMs: 5_000,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      fake.requests.push({ path: req.url ?? '', body, headers: req.headers });
      res.on('close', () => {
        if (!res.writableFinished) fake.cancelled++;
      });
      void answer(fake, reply, req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return fake;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

async function answer(fake: FakeLlm, reply: Reply, req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
  const anthropic = req.url === '/v1/messages';
  if (fake.fault === 'slow') {
    await new Promise((r) => setTimeout(r, fake.delayMs));
    if (res.destroyed) return;
  }
  if (fake.fault === 'status-500') return json(res, 500, { error: { message: 'the fake upstream broke', type: 'server_error' } });
  if (fake.fault === 'status-429') return json(res, 429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { 'retry-after': '7' });
  if (fake.fault === 'status-400') {
    if (anthropic) return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 300000 tokens > 200000 maximum' } });
    return json(res, 400, { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  }
  if (fake.fault === 'status-529') return json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  if (fake.fault === 'echo-credentials') return json(res, 500, { error: { message: `bad key ${req.headers['x-api-key'] ?? req.headers.authorization}` } });
  if (fake.fault === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops');

  if (req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
  if (req.url === '/v1/embeddings') {
    // Like OpenAI: the official client asks for base64 (packed float32) by default.
    const vector = [0.25, 0.5, 0.75];
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return json(res, 200, { object: 'list', model: body.model, data: [{ object: 'embedding', index: 0, embedding }], usage: { prompt_tokens: 3, total_tokens: 3 } });
  }
  if (req.url !== '/v1/chat/completions' && !anthropic) return json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });

  const messages = (body.messages ?? []) as { role: string; content: string | { text?: string }[] | null }[];
  const last = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const prompt = typeof last === 'string' ? last : (last ?? []).map((b) => b.text ?? '').join('');
  const text = reply(prompt);
  const words = text.split(/(?<= )/);
  const usage = { input: 7, output: words.length };
  // Offered tools: the fake calls the first one, with the prompt as its argument.
  const tools = body.tools as ({ name?: string; function?: { name: string } } | undefined)[] | undefined;
  const toolName = tools?.[0] ? (tools[0].function?.name ?? tools[0].name ?? 'tool') : null;
  if (toolName && !body.stream) return answerWithToolCall(res, anthropic, body, toolName, prompt, usage);
  if (!body.stream) {
    if (anthropic) return json(res, 200, { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: usage.output } });
    return json(res, 200, { id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const events = toolName
    ? toolCallEvents(anthropic, body, toolName, prompt, usage)
    : anthropic
      ? anthropicEvents(body.model as string, words, usage)
      : openAiEvents(body.model as string, words, usage);
  if (fake.fault === 'no-done' && !anthropic) events.splice(events.indexOf('data: [DONE]\n\n'), 1);
  if (fake.fault === 'stream-overloaded' && anthropic) events.splice(Math.floor(events.length / 2), Infinity, `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`);
  const cutAt = fake.fault === 'cut' ? Math.max(1, Math.floor(events.length / 2)) : Infinity;
  for (const [i, event] of events.entries()) {
    if (i === cutAt) {
      // Let what was written reach the client first, as when a real upstream dies mid-answer.
      await new Promise((r) => setTimeout(r, 50));
      return void res.destroy();
    }
    res.write(event);
  }
  res.end();
}

function answerWithToolCall(res: ServerResponse, anthropic: boolean, body: Record<string, unknown>, name: string, prompt: string, usage: { input: number; output: number }): void {
  const args = JSON.stringify({ q: prompt });
  if (anthropic) return json(res, 200, { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'tool_use', id: 'toolu_fake', name, input: { q: prompt } }], stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: usage.output } });
  const message = { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake', type: 'function', function: { name, arguments: args } }] };
  return json(res, 200, { id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model: body.model, choices: [{ index: 0, message, finish_reason: 'tool_calls' }], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
}

/** A streamed call of the tool, its arguments in two deltas. */
function toolCallEvents(anthropic: boolean, body: Record<string, unknown>, name: string, prompt: string, usage: { input: number; output: number }): string[] {
  const args = JSON.stringify({ q: prompt });
  const halves = [args.slice(0, 4), args.slice(4)];
  if (anthropic) {
    const event = (type: string, x: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...x })}\n\n`;
    return [
      event('message_start', { message: { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 0 } } }),
      event('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_fake', name, input: {} } }),
      ...halves.map((part) => event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: part } })),
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: usage.output } }),
      event('message_stop', {}),
    ];
  }
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 0, model: body.model };
  const data = (x: unknown) => `data: ${JSON.stringify(x)}\n\n`;
  const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
  return [
    data({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_fake', type: 'function', function: { name, arguments: '' } }] }, finish_reason: null }] }),
    // As vLLM does: the later deltas of a call say `id: null` and `name: null`.
    ...halves.map((part) => data({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: null, function: { name: null, arguments: part } }] }, finish_reason: null }] })),
    data({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
    ...(withUsage ? [data({ ...base, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } })] : []),
    'data: [DONE]\n\n',
  ];
}

function openAiEvents(model: string, words: string[], usage: { input: number; output: number }): string[] {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 0, model };
  const data = (x: unknown) => `data: ${JSON.stringify(x)}\n\n`;
  return [
    ...words.map((w) => data({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
    data({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    data({ ...base, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } }),
    'data: [DONE]\n\n',
  ];
}

function anthropicEvents(model: string, words: string[], usage: { input: number; output: number }): string[] {
  const event = (type: string, x: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...x })}\n\n`;
  return [
    event('message_start', { message: { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 0 } } }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...words.map((w) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } })),
    event('content_block_stop', { index: 0 }),
    event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }),
    event('message_stop', {}),
  ];
}
