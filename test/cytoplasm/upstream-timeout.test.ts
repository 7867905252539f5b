import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { streamTicks } from '../support/upstream.ts';

// The host's upstream budget covers the wait for the answer's headers, not a streamed body:
// an LLM's SSE answer through the edge can outlast it.
const BUDGET_MS = 400;
let upstream: Server;
let host: ReflexHost;

beforeAll(async () => {
  await shippedApp();
  upstream = createServer((req, res) => {
    if (req.url?.startsWith('/v1/chat/silent')) return; // never answers
    streamTicks(res, 5, BUDGET_MS / 2, 'data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as { port: number };
  host = await startHost({ distDir: SHIPPED_DIST, port: 0, sensors: false, upstreamTimeoutMs: BUDGET_MS, env: { SPIN_VARIABLE_NUCLEUS_URL: `http://127.0.0.1:${port}` } });
});
afterAll(async () => {
  await host?.close();
  upstream?.closeAllConnections();
  upstream?.close();
});

describe('upstream timeout', () => {
  it('an upstream that sends no headers within the budget gets 504 in JSON', async () => {
    const answer = await fetch(`${host.url}/v1/chat/silent`);
    expect(answer.status).toBe(504);
    expect((await answer.json()).error).toEqual({ code: 'upstream_timeout', message: expect.stringMatching(/^upstream http:\/\/127\.0\.0\.1:\d+ did not answer within 400 ms$/) });
  });

  it('a stream that lasts longer than the budget arrives whole', async () => {
    const started = performance.now();
    const answer = await fetch(`${host.url}/v1/chat/completions`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(performance.now() - started).toBeGreaterThan(2 * BUDGET_MS);
    expect(text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: [DONE]\n\n');
  });
});
