import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP upstream on loopback that records what it receives and echoes it as JSON. */
export async function startEchoUpstream(): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' }).end(JSON.stringify({ echo: entry.url, method: entry.method, body: entry.body }));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with an event stream, as an LLM does: headers at once, then `data: 0` to `data: <count-1>`, one each `everyMs`, then `tail` and the end. */
export function streamTicks(res: ServerResponse, count: number, everyMs: number, tail = ''): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let n = 0;
  const tick = setInterval(() => {
    res.write(`data: ${n}\n\n`);
    if (++n === count) {
      clearInterval(tick);
      res.end(tail);
    }
  }, everyMs);
}
