import { createServer, type Server } from 'node:http';

/**
 * FAKE: a tiny OpenAI-compatible LLM server for tests (an LLM cannot run here). It answers
 * chat completions, streaming or not, with `reply(lastUserMessage)`, and records requests.
 */
export interface FakeLlm {
  url: string;
  requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startFakeOpenAi(reply: (input: string) => string = (i) => `echo: ${i}`): Promise<FakeLlm> {
  const requests: FakeLlm['requests'] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      requests.push({ path: req.url ?? '', body });
      if (req.url === '/v1/models') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] }));
      if (req.url !== '/v1/chat/completions') return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      const messages = (body.messages ?? []) as { role: string; content: string }[];
      const text = reply(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
      const base = { id: 'chatcmpl-fake', created: 0, model: body.model };
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: text.split(' ').length, total_tokens: 7 + text.split(' ').length } }));
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const words = text.split(/(?<= )/);
      for (const w of words) res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
