import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startMorpheus, type Morpheus } from '../../nucleus/morpheus/index.ts';
import { startMorpheusRig, type MorpheusRig } from '../support/morpheus-rig.ts';

let rig: MorpheusRig | undefined;
let bare: Morpheus | undefined;
afterEach(async () => {
  await rig?.close();
  await bare?.close();
  rig = bare = undefined;
});

const user = (content: string) => [{ role: 'user' as const, content }];

describe('bounded queues', () => {
  it('answers 429 with Retry-After when the queue is full, and serves again once it drains', async () => {
    rig = await startMorpheusRig({ globalMaxConcurrent: 1, queueMax: 1 });
    const openai = new OpenAI({ baseURL: `${rig.morpheus.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    rig.upstream.fault = 'slow';
    rig.upstream.delayMs = 400;
    const running = openai.chat.completions.create({ model: 'gpt-4o', messages: user('first') });
    const queued = openai.chat.completions.create({ model: 'gpt-4o', messages: user('second') });
    await new Promise((r) => setTimeout(r, 100));
    const refused = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('third') }).then(() => null, (e) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.message).toContain('at capacity');
    const metrics = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
    expect(metrics).toContain('morpheus_queue_depth{semaphore="morpheus"} 1');
    expect(metrics).toContain('morpheus_in_flight{semaphore="morpheus"} 1');
    expect((await running).choices[0].message.content).toBe('echo: first');
    expect((await queued).choices[0].message.content).toBe('echo: second');
    rig.upstream.fault = 'none';
    expect((await openai.chat.completions.create({ model: 'gpt-4o', messages: user('fourth') })).choices[0].message.content).toBe('echo: fourth');
  });
});

describe('one busy backend', () => {
  it('does not hold the global slots its queued requests wait in: another backend\'s request goes ahead', async () => {
    rig = await startMorpheusRig((upstream) => ({
      backends: [
        { kind: 'openai', name: 'busy', baseUrl: `${upstream}/v1`, maxConcurrent: 1 },
        { kind: 'anthropic', name: 'anthropic', baseUrl: upstream },
      ],
      routes: [
        { prefix: 'gpt', backends: ['busy'] },
        { prefix: 'claude', backends: ['anthropic'] },
      ],
      globalMaxConcurrent: 2,
    }));
    const openai = new OpenAI({ baseURL: `${rig.morpheus.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: rig.morpheus.url, apiKey: 'unused', maxRetries: 0 });
    rig.upstream.fault = 'slow';
    rig.upstream.delayMs = 600;
    const busy = [openai.chat.completions.create({ model: 'gpt-4o', messages: user('one') }), openai.chat.completions.create({ model: 'gpt-4o', messages: user('two') })];
    await new Promise((r) => setTimeout(r, 100));
    const other = anthropic.messages.create({ model: 'claude-3', max_tokens: 16, messages: user('meanwhile') });
    await new Promise((r) => setTimeout(r, 150));
    // The Anthropic request reached the upstream while the busy backend still worked on its first.
    expect(rig.upstream.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/messages']);
    await Promise.all([...busy, other]);
  });
});

describe('inbound API keys (MORPHEUS_API_KEYS)', () => {
  it('refuses a missing or wrong key in each API shape, accepts a listed one', async () => {
    rig = await startMorpheusRig({}, { MORPHEUS_API_KEYS: 'team-a-key,team-b-key' });
    const wrong = new OpenAI({ baseURL: `${rig.morpheus.url}/v1`, apiKey: 'team-c-key', maxRetries: 0 });
    expect(await wrong.chat.completions.create({ model: 'gpt-4o', messages: user('x') }).catch((e) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    const anthropicWrong = new Anthropic({ baseURL: rig.morpheus.url, apiKey: 'team-a-ke', maxRetries: 0 });
    const refused = await anthropicWrong.messages.create({ model: 'claude-3', max_tokens: 8, messages: user('x') }).catch((e) => e);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(refused.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const right = new Anthropic({ baseURL: rig.morpheus.url, apiKey: 'team-b-key', maxRetries: 0 });
    expect((await right.messages.create({ model: 'claude-3', max_tokens: 8, messages: user('x') })).content[0]).toMatchObject({ text: 'echo: x' });
  });
});

describe('no backend configured', () => {
  it('still starts, and names the variable to set in the log, /healthz and every error body', async () => {
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }));
    bare = await startMorpheus({ port: 0, env: {}, logger });
    expect(logs.join('')).toContain('MORPHEUS_UPSTREAM_URL');
    const health = await fetch(`${bare.url}/healthz`);
    expect(health.status).toBe(503);
    expect((await fetch(`${bare.url}/livez`)).status).toBe(200);
    expect(JSON.stringify(await health.json())).toContain('MORPHEUS_UPSTREAM_URL');
    const openai = new OpenAI({ baseURL: `${bare.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }).catch((e) => e);
    expect(error.status).toBe(503);
    expect(error.message).toContain('MORPHEUS_UPSTREAM_URL');
    const invalid = await fetch(`${bare.url}/v1/messages`, { method: 'POST', body: '{}' });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('ANTHROPIC_API_KEY');
  });
});
