import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/log.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { startNucleus, type Nucleus } from '../../nucleus/index.ts';
import { startMorpheus, type Morpheus } from '../../nucleus/morpheus/index.ts';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm-upstream.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';

// The whole request path of the architecture: client -> reflex host (agent-limit, api-router)
// -> nucleus -> Morpheus -> a FAKE LLM. The clients are the official openai and
// @anthropic-ai/sdk packages, base URL only.
let llm: FakeLlm;
let morpheus: Morpheus;
let nucleus: Nucleus;
let host: ReflexHost;
let client: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  await shippedApp();
  llm = await startFakeLlm((input) => `edge says: ${input}`);
  morpheus = await startMorpheus({ port: 0, env: { MORPHEUS_UPSTREAM_URL: `${llm.url}/v1` }, logger: createLogger('test', 'silent') });
  nucleus = await startNucleus({ port: 0, agents: [], morpheusUrl: morpheus.url });
  host = await startHost({ distDir: SHIPPED_DIST, port: 0, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: nucleus.url }, logger: createLogger('test', 'silent') });
  client = new OpenAI({ baseURL: `${host.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: host.url, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await host?.close();
  await nucleus?.close();
  await morpheus?.close();
  await llm?.close();
});

describe('agent cards through the edge', () => {
  it('the router passes card requests to the nucleus, and the card names the edge, so agents are invoked through the rate limit', async () => {
    const card = await (await fetch(`${host.url}/.well-known/agent-card.json`)).json();
    expect(card.supportedInterfaces[0].url).toBe(`${host.url}/v1/agents`);
  });

  it('behind an ingress that ends TLS, the card names the origin the ingress was asked at', async () => {
    const response = await fetch(`${host.url}/.well-known/agent-card.json`, { headers: { 'x-forwarded-host': 'agents.example', 'x-forwarded-proto': 'https' } });
    expect((await response.json()).supportedInterfaces[0].url).toBe('https://agents.example/v1/agents');
    // A cache in front must key the card on the fields it was made from.
    expect(response.headers.get('vary')).toBe('host, x-forwarded-host, x-forwarded-proto');
  });
});

/** Reads a stream to its end; what it threw, if anything. */
async function streamError(events: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of events);
  } catch (error) {
    return error;
  }
  return null;
}

/** Runs a call while the FAKE upstream cuts its streams half-way. */
async function withCutStream<T>(call: () => Promise<T>): Promise<T> {
  llm.fault = 'cut';
  try {
    return await call();
  } finally {
    llm.fault = 'none';
  }
}

const post = (base: string, body: string) => fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('LLM APIs at the edge', () => {
  it('answers an OpenAI client through the router, the nucleus and Morpheus', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(completion.choices[0].message.content).toBe('edge says: hello');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(llm.requests.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { model: 'gpt-4o-mini' } });
  });

  it('streams the chunks through, ending the way OpenAI does', async () => {
    const chunks = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream me' }], stream: true });
    const deltas: string[] = [];
    for await (const chunk of chunks) deltas.push(chunk.choices[0]?.delta?.content ?? '');
    expect(deltas.filter(Boolean).length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('edge says: stream me');
    const raw = await (await post(host.url, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }))).text();
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it("passes on Morpheus's validation error, status and field path, to the client", async () => {
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: 'hello' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain('messages');
  });

  it('answers a body that is not JSON with 400 in the OpenAI error shape, and keeps serving', async () => {
    for (const body of ['not json', '[1, 2]']) {
      const response = await post(nucleus.url, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('JSON') } });
    }
    expect((await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] })).choices[0].message.content).toBe('edge says: again');
  });

  it("keeps Morpheus's 429 and its Retry-After for the client", async () => {
    llm.fault = 'status-429';
    try {
      const response = await post(host.url, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }));
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(await response.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
    } finally {
      llm.fault = 'none';
    }
  });

  it('sends a cut upstream stream on as an error event', async () => {
    const error = await withCutStream(async () => streamError(await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a long answer that will be cut' }], stream: true })));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/ended before it was complete/);
  });

  it('answers 502 in the OpenAI shape when Morpheus is down, and 503 when none is set', async () => {
    const orphan = await startNucleus({ port: 0, agents: [], morpheusUrl: 'http://127.0.0.1:9' });
    const unset = await startNucleus({ port: 0, agents: [], env: {} });
    try {
      const down = await post(orphan.url, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }));
      expect(down.status).toBe(502);
      expect(await down.json()).toMatchObject({ error: { type: 'api_error', message: expect.stringContaining('Morpheus is unreachable') } });
      const none = await post(unset.url, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }));
      expect(none.status).toBe(503);
      expect(await none.json()).toMatchObject({ error: { message: expect.stringContaining('MORPHEUS_URL') } });
    } finally {
      await orphan.close();
      await unset.close();
    }
  });

  it('answers an Anthropic client through the same path, streaming included', async () => {
    const message = await anthropic.messages.create({ model: 'claude-edge', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'edge says: hello' });
    const events = await anthropic.messages.create({ model: 'claude-edge', max_tokens: 64, messages: [{ role: 'user', content: 'stream me' }], stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of events) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe('edge says: stream me');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
  });

  it('passes the Anthropic version and betas an Anthropic client asked for on to Morpheus', async () => {
    // The FAKE LLM stands in for Morpheus here: it records what the nucleus sends it.
    const nucleusToFake = await startNucleus({ port: 0, agents: [], morpheusUrl: llm.url });
    try {
      const client = new Anthropic({ baseURL: nucleusToFake.url, apiKey: 'unused', maxRetries: 0 });
      await client.messages.create({ model: 'claude-edge', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
      expect(llm.requests.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    } finally {
      await nucleusToFake.close();
    }
  });

  it("passes on Morpheus's Anthropic-shaped errors, before and during a stream", async () => {
    const invalid = await anthropic.messages.create({ model: 'claude-edge', messages: [{ role: 'user', content: 'x' }] } as never).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect((invalid as InstanceType<typeof Anthropic.APIError>).message).toContain('max_tokens');
    const error = await withCutStream(async () => streamError(await anthropic.messages.create({ model: 'claude-edge', max_tokens: 64, messages: [{ role: 'user', content: 'a long answer that will be cut' }], stream: true })));
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).message).toMatch(/ended before it was complete/);
  });

  it('lists the models and makes embeddings for an OpenAI client at the edge, as Morpheus answers them', async () => {
    const models = await client.models.list();
    expect(models.data).toContainEqual(expect.objectContaining({ id: 'fake-model', object: 'model' }));
    expect(models.data).toEqual((await (await fetch(`${morpheus.url}/v1/models`)).json()).data);
    // The client asks for base64 vectors and decodes them; a plain request gets floats.
    const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(embedding.data[0].embedding).toEqual([0.25, 0.5, 0.75]);
    const plain = await fetch(`${host.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-3-small', input: 'hi' }) });
    expect((await plain.json()).data[0].embedding).toEqual([0.25, 0.5, 0.75]);
    expect(llm.requests.at(-1)).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'hi' } });
    // Morpheus's validation error comes back in the OpenAI shape.
    const invalid = await client.embeddings.create({ model: 'text-embedding-3-small' } as never).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as InstanceType<typeof OpenAI.APIError>).message).toContain('input');
  });

  it('carries tool calls between an OpenAI client at the edge and the model', async () => {
    const lookup = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'find it' }], tools: [lookup] });
    expect(completion.choices[0].message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'lookup', arguments: '{"q":"find it"}' } });
    const chunks = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream it' }], tools: [lookup], stream: true });
    let args = '';
    for await (const chunk of chunks) args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
    expect(JSON.parse(args)).toEqual({ q: 'stream it' });
  });

  it('answers an unknown nucleus route with its JSON error, not plain text', async () => {
    const response = await fetch(`${nucleus.url}/v1/nothing-here`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nothing-here' } });
  });
});
