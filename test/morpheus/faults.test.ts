import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../common/net.ts';
import { MAX_MODEL_LABELS } from '../../nucleus/morpheus/metrics.ts';
import { rawGet } from '../support/raw-http.ts';
import { ANTHROPIC_SECRET, startMorpheusRig, type MorpheusRig } from '../support/morpheus-rig.ts';

let rig: MorpheusRig;
let openai: OpenAI;
let anthropic: Anthropic;
const user = (content: string) => [{ role: 'user' as const, content }];

beforeAll(async () => {
  const closedPort = await freePort();
  rig = await startMorpheusRig((upstream) => ({
    backends: [
      { kind: 'openai', name: 'openai', baseUrl: `${upstream}/v1` },
      { kind: 'openai', name: 'dead', baseUrl: `http://127.0.0.1:${closedPort}/v1` },
      { kind: 'anthropic', name: 'anthropic', baseUrl: upstream },
      // Long enough for node to start the fake CLI on a loaded machine, short enough for the hang test.
      { kind: 'claude-cli', name: 'claude-cli', timeoutMs: 2_000 },
    ],
    routes: [
      { prefix: 'dead', backends: ['dead'] },
      { prefix: 'fallback', backends: ['dead', 'openai'] },
      { prefix: 'mixed', backends: ['dead', 'anthropic'] },
      { prefix: 'gpt', backends: ['openai'] },
      { prefix: 'claude-cli', backends: ['claude-cli'] },
      { prefix: 'claude', backends: ['anthropic'] },
    ],
    connectTimeoutMs: 300,
    responseTimeoutMs: 1_000,
    retries: 1,
    maxBodyBytes: 65_536,
  }));
  openai = new OpenAI({ baseURL: `${rig.morpheus.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: rig.morpheus.url, apiKey: 'unused', maxRetries: 0 });
}, 30_000);
afterAll(() => rig?.close());

// Every fault must leave the gateway serving: after each test, a normal call in each API works.
afterEach(async () => {
  rig.upstream.fault = 'none';
  rig.cliMode('ok');
  const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('still there?') });
  expect(completion.choices[0].message.content).toBe('echo: still there?');
  const message = await anthropic.messages.create({ model: 'claude-3', max_tokens: 16, messages: user('and you?') });
  expect(message.content[0]).toMatchObject({ text: 'echo: and you?' });
});

async function openAiError(model: string): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await openai.chat.completions.create({ model, messages: user('hi') }).then(() => null, (e) => e);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error;
}

async function anthropicError(model: string): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await anthropic.messages.create({ model, max_tokens: 16, messages: user('hi') }).then(() => null, (e) => e);
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error;
}

describe('request errors, in each API shape', () => {
  it('400 for an invalid body, naming the field', async () => {
    const o = await fetch(`${rig.morpheus.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [] }) });
    expect(o.status).toBe(400);
    expect(await o.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('messages') } });
    const a = await fetch(`${rig.morpheus.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-3', messages: user('x') }) });
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
    const garbage = await fetch(`${rig.morpheus.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(garbage.status).toBe(400);
  });

  it('413 for a body over maxBodyBytes, whether its length is declared or not', async () => {
    const big = JSON.stringify({ model: 'gpt-4o', messages: user('x'.repeat(100_000)) });
    const declared = await fetch(`${rig.morpheus.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large', message: 'the body is larger than 65536 bytes (maxBodyBytes)' } });
    // Chunked: no Content-Length, so the limit is found while reading.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10_000)));
        controller.close();
      },
    });
    const streamed = await fetch(`${rig.morpheus.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('404 for a model no route serves', async () => {
    expect((await openAiError('llama-3')).status).toBe(404);
    const error = await anthropicError('llama-3');
    expect(error.status).toBe(404);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('404 in OpenAI shape for an unknown route, with no model code (no model was asked for)', async () => {
    const response = await fetch(`${rig.morpheus.url}/v1/models`, { method: 'PUT' });
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatchObject({ message: expect.stringContaining('no route for PUT /v1/models'), type: 'invalid_request_error', code: null });
  });

  it('keeps at most 100 model names as metric labels; the rest count as "other"', async () => {
    const before = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
    const seen = (text: string) => new Set([...text.matchAll(/^morpheus_requests_total\{model="([^"]*)"/gm)].map((m) => m[1]));
    const known = seen(before).size;
    await Promise.all(Array.from({ length: 120 }, (_, i) => openai.chat.completions.create({ model: `random-${i}`, messages: user('hi') }).catch(() => null)));
    const after = seen(await (await fetch(`${rig.morpheus.url}/metrics`)).text());
    expect(after.size).toBe(MAX_MODEL_LABELS + 1);
    expect(after.has('other')).toBe(true);
    expect([...after].filter((m) => m.startsWith('random-'))).toHaveLength(MAX_MODEL_LABELS - known);
  });

  it('400 in OpenAI shape for a request target no URL can be made of', async () => {
    const answer = await rawGet(rig.morpheus.url, '*');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatchObject({ type: 'invalid_request_error', code: null, message: expect.stringContaining('bad request') });
  });
});

describe('upstream faults', () => {
  it('upstream down: 502 after retries', async () => {
    const error = await openAiError('dead-model');
    expect(error.status).toBe(502);
    expect(error.message).toContain('cannot reach the upstream');
    expect((await anthropicError('dead-model')).error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('falls back to the next backend configured for the model', async () => {
    const completion = await openai.chat.completions.create({ model: 'fallback-model', messages: user('via fallback') });
    expect(completion.choices[0].message.content).toBe('echo: via fallback');
  });

  it('upstream too slow: 504', async () => {
    rig.upstream.fault = 'slow';
    rig.upstream.delayMs = 3_000;
    const started = Date.now();
    const error = await openAiError('gpt-4o');
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((await anthropicError('claude-3')).status).toBe(504);
  });

  it('500: 502 without retrying', async () => {
    rig.upstream.fault = 'status-500';
    const before = rig.upstream.requests.length;
    const error = await openAiError('gpt-4o');
    expect(error.status).toBe(502);
    expect(error.message).toContain('upstream answered 500');
    expect(rig.upstream.requests.length - before).toBe(1);
  });

  it('429 with Retry-After: retried, then passed on with its Retry-After', async () => {
    rig.upstream.fault = 'status-429';
    const before = rig.upstream.requests.length;
    const error = await openAiError('gpt-4o');
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('7');
    expect(rig.upstream.requests.length - before).toBe(2);
    const anthropicSide = await anthropicError('claude-3');
    expect(anthropicSide.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it("400 from the upstream: its own message, and for a caller of its API its type, code and param", async () => {
    rig.upstream.fault = 'status-400';
    const error = await openAiError('gpt-4o');
    expect(error.status).toBe(400);
    expect(error.message).toContain("maximum context length is 128000 tokens");
    expect(error.message).not.toContain('{');
    expect(error).toMatchObject({ code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
    const anthropicSide = await anthropicError('claude-3');
    expect(anthropicSide.status).toBe(400);
    expect(anthropicSide.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('prompt is too long') } });
    // Across APIs the message still says what the upstream said.
    const crossed = await anthropic.messages.create({ model: 'gpt-4o', max_tokens: 16, messages: user('hi') }).then(() => null, (e) => e);
    expect(crossed.status).toBe(400);
    expect(crossed.error.error.message).toContain('maximum context length');
  });

  it('529 (Anthropic overloaded) is retried, then 503 overloaded_error with Retry-After', async () => {
    rig.upstream.fault = 'status-529';
    const before = rig.upstream.requests.length;
    const error = await anthropicError('claude-3');
    expect(error.status).toBe(503);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(error.headers?.get('retry-after')).toBe('1');
    expect(rig.upstream.requests.length - before).toBe(2);
  });

  it('an OpenAI stream that closes after its finish chunk without [DONE] completes', async () => {
    rig.upstream.fault = 'no-done';
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('one two three'), stream: true });
    let received = '';
    for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    expect(received).toBe('echo: one two three');
    const message = await anthropic.messages.stream({ model: 'gpt-4o', max_tokens: 16, messages: user('one two') }).finalMessage();
    expect(message).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'echo: one two' }] });
  });

  it('falls back from a backend of the caller\'s API, which gets the request as sent, to one of the other API, which gets it translated', async () => {
    const before = rig.upstream.requests.length;
    const completion = await openai.chat.completions.create({ model: 'mixed-1', messages: user('over there'), stream: true });
    let text = '';
    for await (const chunk of completion) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: over there');
    expect(rig.upstream.requests.slice(before).map((r) => r.path)).toEqual(['/v1/messages']);
  });

  it('garbage JSON: 502 that says so', async () => {
    rig.upstream.fault = 'garbage';
    const error = await openAiError('gpt-4o');
    expect(error.status).toBe(502);
    expect(error.message).toContain('not JSON');
    expect((await anthropicError('claude-3')).status).toBe(502);
  });

  it('stream cut mid-way: the stream error event, then the end of the stream', async () => {
    rig.upstream.fault = 'cut';
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('one two three four five six'), stream: true });
    let received = '';
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().then(() => null, (e) => e);
    expect(received.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String(error.message)).toContain('ended before it was complete');

    const messages = anthropic.messages.stream({ model: 'claude-3', max_tokens: 16, messages: user('one two three four five six') });
    const anthropicFailure = await messages.finalMessage().then(() => null, (e) => e);
    expect(anthropicFailure).toBeInstanceOf(Anthropic.APIError);
    expect(anthropicFailure.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it("an Anthropic upstream's overloaded_error mid-stream: passed on as sent to an Anthropic client, counted as OVERLOADED on the translated path", async () => {
    rig.upstream.fault = 'stream-overloaded';
    const messages = anthropic.messages.stream({ model: 'claude-3', max_tokens: 16, messages: user('one two three four five six') });
    const anthropicFailure = await messages.finalMessage().then(() => null, (e) => e);
    expect(anthropicFailure).toBeInstanceOf(Anthropic.APIError);
    expect(anthropicFailure.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });

    const stream = await openai.chat.completions.create({ model: 'claude-3', messages: user('one two three four five six'), stream: true });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().then(() => null, (e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String(error.message)).toContain('Overloaded');
    const metrics = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
    expect(metrics).toMatch(/morpheus_errors_total\{[^}]*model="claude-3"[^}]*code="OVERLOADED"\} 1/);
  });

  it('stream cut mid-way on the untranslated path (tools): the stream error event too', async () => {
    rig.upstream.fault = 'cut';
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('one two three four five six'), tools, stream: true });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().then(() => null, (e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String(error.message)).toContain('ended before it was complete');

    const anthropicTools = [{ name: 'lookup', input_schema: { type: 'object' as const, properties: {} } }];
    const messages = anthropic.messages.stream({ model: 'claude-3', max_tokens: 16, messages: user('one two three four five six'), tools: anthropicTools });
    const anthropicFailure = await messages.finalMessage().then(() => null, (e) => e);
    expect(anthropicFailure).toBeInstanceOf(Anthropic.APIError);
    expect(anthropicFailure.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('client disconnect cancels the upstream request', async () => {
    rig.upstream.fault = 'slow';
    rig.upstream.delayMs = 800;
    const cancelled = rig.upstream.cancelled;
    const controller = new AbortController();
    const call = openai.chat.completions.create({ model: 'gpt-4o', messages: user('bye') }, { signal: controller.signal }).catch((e) => e);
    await waitFor(() => rig.upstream.requests.at(-1)?.body.messages !== undefined && JSON.stringify(rig.upstream.requests.at(-1)!.body).includes('bye'));
    controller.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    await waitFor(() => rig.upstream.cancelled > cancelled);
  });
});

describe('the claude CLI backend', () => {
  it('a failing CLI gives 502 with its message', async () => {
    rig.cliMode('fail');
    const error = await openAiError('claude-cli-x');
    expect(error.status).toBe(502);
    expect(error.message).toContain('Please run /login');
  });

  it('a CLI that hangs is killed at the timeout: 504', async () => {
    rig.cliMode('slow');
    const error = await anthropicError('claude-cli-x');
    expect(error.status).toBe(504);
    await waitFor(() => !alive(rig.cliCalls().at(-1)!.pid));
  });

  it('a client that disconnects kills the CLI process', async () => {
    rig.cliMode('slow');
    const calls = rig.cliCalls().length;
    const controller = new AbortController();
    const call = openai.chat.completions.create({ model: 'claude-cli-x', messages: user('bye'), stream: true }, { signal: controller.signal }).catch((e) => e);
    await waitFor(() => rig.cliCalls().length > calls);
    const { pid } = rig.cliCalls().at(-1)!;
    expect(alive(pid)).toBe(true);
    controller.abort();
    await call;
    await waitFor(() => !alive(pid));
  });
});

describe('secrets', () => {
  it('never shows a credential in a response body or a log line', async () => {
    rig.upstream.fault = 'echo-credentials';
    const error = await openAiError('claude-3');
    expect(error.status).toBe(502);
    expect(JSON.stringify(error.error)).toContain('[redacted]');
    const stream = await fetch(`${rig.morpheus.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-3', max_tokens: 8, messages: user('x'), stream: true }) });
    const bodies = [JSON.stringify(error.error), await stream.text()];
    expect(rig.upstream.requests.at(-1)!.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
    for (const text of [...bodies, ...rig.logs]) expect(text).not.toContain(ANTHROPIC_SECRET);
    expect(rig.logs.length).toBeGreaterThan(0);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const waitFor = (check: () => boolean, timeout = 5_000) => vi.waitFor(() => expect(check()).toBe(true), { timeout, interval: 20 });
