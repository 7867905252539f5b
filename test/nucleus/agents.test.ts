import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/log.ts';
import { AgentCard } from '../../nucleus/agents/card.ts';
import { loadAgents, type AgentManifest } from '../../nucleus/agents/manifest.ts';
import { startNucleus, type Nucleus } from '../../nucleus/index.ts';
import { startMorpheus, type Morpheus } from '../../nucleus/morpheus/index.ts';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm-upstream.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';

let llm: FakeLlm;
let morpheus: Morpheus;
let nucleus: Nucleus;
let now = 1_700_000_000_000;
let agents: AgentManifest[];

beforeAll(async () => {
  llm = await startFakeLlm((input) => (input.includes('incident') ? 'security incident: page the on-call' : `platform, urgency 3: ${input}`));
  agents = await loadAgents(join(REPO_ROOT, 'agents'));
  // The nucleus reaches the (fake) LLM only through a real Morpheus, as in production.
  morpheus = await startMorpheus({ port: 0, env: { MORPHEUS_UPSTREAM_URL: `${llm.url}/v1` } });
  nucleus = await startNucleus({ port: 0, agents, morpheusUrl: morpheus.url, purgatoryTtlMs: 60_000, now: () => now });
});
afterAll(async () => {
  await nucleus?.close();
  await morpheus?.close();
  await llm?.close();
});

const invoke = (agent: string, body: unknown) => fetch(`${nucleus.url}/v1/agents/${agent}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('agent API', () => {
  it('lists the agents registered from agents/*.yaml', async () => {
    const body = await (await fetch(`${nucleus.url}/v1/agents`)).json();
    expect(body.agents.map((a: { name: string }) => a.name).sort()).toEqual(['release-notes', 'triage']);
  });

  it('invokes an agent through the LLM gateway with its system prompt and model', async () => {
    const response = await invoke('triage', { input: 'checkout is slow' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'allowed', agent: 'triage', output: 'platform, urgency 3: checkout is slow', usage: { promptTokens: 7 } });
    const sent = llm.requests.at(-1)!.body as { model: string; messages: { role: string; content: string }[] };
    expect(sent.model).toBe('claude-sonnet-4');
    expect(sent.messages[0]).toMatchObject({ role: 'system' });
    expect(sent.messages[0].content).toContain('You triage requests');
  });

  it('streams the answer as SSE deltas, then the reviewed result', async () => {
    const response = await invoke('triage', { input: 'disk full on db-3', stream: true });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean).map((block) => ({ event: /event: (.*)/.exec(block)?.[1], data: JSON.parse(/data: (.*)/.exec(block)![1]) }));
    const deltas = events.filter((e) => e.event === 'delta').map((e) => e.data.text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('platform, urgency 3: disk full on db-3');
    expect(events.at(-1)).toMatchObject({ event: 'result', data: { status: 'allowed', output: 'platform, urgency 3: disk full on db-3' } });
  });

  it("passes Morpheus's own reason on: no backend configured, or Morpheus not reachable", async () => {
    const bare = await startMorpheus({ port: 0, env: {}, logger: createLogger('test', 'silent') });
    const gone = await startMorpheus({ port: 0, env: {}, logger: createLogger('test', 'silent') });
    await gone.close();
    const viaBare = await startNucleus({ port: 0, agents, morpheusUrl: bare.url });
    const viaGone = await startNucleus({ port: 0, agents, morpheusUrl: gone.url });
    try {
      const unconfigured = await fetch(`${viaBare.url}/v1/agents/triage/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"hi"}' });
      expect(unconfigured.status).toBe(502);
      expect((await unconfigured.json()).error.message).toMatch(/^Morpheus answered 503 Morpheus has no LLM backend: set MORPHEUS_UPSTREAM_URL/);
      const unreachable = await fetch(`${viaGone.url}/v1/agents/triage/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"hi"}' });
      expect(unreachable.status).toBe(502);
      expect((await unreachable.json()).error.message).toMatch(/^Morpheus is unreachable: /);
      // Streamed, a failure before the first word has its status and JSON body all the same.
      const streamed = await fetch(`${viaBare.url}/v1/agents/triage/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"hi","stream":true}' });
      expect(streamed.status).toBe(502);
      expect((await streamed.json()).error.message).toMatch(/^Morpheus answered 503 /);
    } finally {
      await viaBare.close();
      await viaGone.close();
      await bare.close();
    }
  });

  it('answers 404 for an unknown agent and 400 with field paths for a bad body', async () => {
    expect((await invoke('nobody', { input: 'x' })).status).toBe(404);
    const bad = await invoke('triage', { input: '', extra: 1 });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['(root)', 'input']);
  });

  it('serves OpenAPI generated from the schemas', async () => {
    const doc = await (await fetch(`${nucleus.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/agents/{name}/invoke', '/v1/pheromones', '/v1/purgatory/{token}/resolve', '/v1/observe']));
    expect(doc.paths['/v1/pheromones'].post.requestBody.content['application/json'].schema.properties.type.enum).toContain('DREAM');
  });
});

describe('A2A agent cards', () => {
  it('every agent and the nucleus publish a valid card', async () => {
    for (const name of ['triage', 'release-notes']) {
      const card = AgentCard.parse(await (await fetch(`${nucleus.url}/agents/${name}/.well-known/agent-card.json`)).json());
      expect(card.name).toBe(name);
      expect(card.supportedInterfaces[0].url).toBe(`${nucleus.url}/v1/agents/${name}/invoke`);
    }
    const own = AgentCard.parse(await (await fetch(`${nucleus.url}/.well-known/agent-card.json`)).json());
    expect(own.skills.map((s) => s.id).sort()).toEqual(['release-notes.release-notes', 'triage.triage']);
  });

  it('a card names the origin its request was sent to, not the address the nucleus listens on', async () => {
    const card = await new Promise<AgentCard>((resolve, reject) => {
      const { port } = new URL(nucleus.url);
      request({ host: '127.0.0.1', port, path: '/agents/triage/.well-known/agent-card.json', headers: { host: 'nucleus.agents.svc:8081' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(AgentCard.parse(JSON.parse(body))));
      })
        .on('error', reject)
        .end();
    });
    expect(card.supportedInterfaces[0].url).toBe('http://nucleus.agents.svc:8081/v1/agents/triage/invoke');
  });

  it('KGENTS_PUBLIC_URL names where clients reach the nucleus; a value that is not an http(s) URL stops the start, naming it', async () => {
    const behindIngress = await startNucleus({ port: 0, agents, morpheusUrl: morpheus.url, env: { KGENTS_PUBLIC_URL: 'https://agents.example.com/edge/' }, sweepRateLimitState: false });
    try {
      const own = AgentCard.parse(await (await fetch(`${behindIngress.url}/.well-known/agent-card.json`)).json());
      expect(own.supportedInterfaces[0].url).toBe('https://agents.example.com/edge/v1/agents');
    } finally {
      await behindIngress.close();
    }
    await expect(startNucleus({ port: 0, agents, env: { KGENTS_PUBLIC_URL: 'agents.example.com' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('KGENTS_PUBLIC_URL') });
  });
});

describe('conscience and purgatory', () => {
  const purgatory = async (query = '') => (await (await fetch(`${nucleus.url}/v1/purgatory${query}`)).json()).entries;
  const post = (path: string, body?: unknown) => fetch(`${nucleus.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('holds a decision, then resolves it with human input', async () => {
    const held = await invoke('release-notes', { input: 'feat: dark mode' });
    expect(held.status).toBe(202);
    const { token, reason } = await held.json();
    expect(reason).toContain('requires human approval');
    expect((await purgatory('?status=pending')).map((e: { token: string }) => e.token)).toContain(token);
    const resolved = await post(`/v1/purgatory/${token}/resolve`, { input: 'ship it' });
    expect(await resolved.json()).toMatchObject({ status: 'resolved', resolution: { input: 'ship it' } });
    expect((await post(`/v1/purgatory/${token}/resolve`, { input: 'again' })).status).toBe(409);
    // A state that does not exist is a mistake to say, not an empty list.
    const bogus = await fetch(`${nucleus.url}/v1/purgatory?status=bogus`);
    expect(bogus.status).toBe(400);
    expect((await bogus.json()).error.issues[0].path).toBe('status');
  });

  it('holds on a flagged word, and cancels', async () => {
    const held = await (await invoke('triage', { input: 'possible incident in prod' })).json();
    expect(held).toMatchObject({ status: 'held', reason: 'the output mentions "security incident"' });
    expect((await (await post(`/v1/purgatory/${held.token}/cancel`)).json()).status).toBe('cancelled');
    expect((await post('/v1/purgatory/not-a-token/cancel')).status).toBe(404);
  });

  it('expires held decisions', async () => {
    const { token } = await (await invoke('release-notes', { input: 'fix: crash' })).json();
    now += 61_000;
    const entry = (await purgatory()).find((e: { token: string }) => e.token === token);
    expect(entry.status).toBe('expired');
    expect((await post(`/v1/purgatory/${token}/resolve`, { input: 'late' })).status).toBe(409);
  });

  it('forgets a settled decision one TTL after it settled', async () => {
    const { token } = await (await invoke('release-notes', { input: 'feat: export' })).json();
    expect((await post(`/v1/purgatory/${token}/resolve`, { input: 'ok' })).status).toBe(200);
    const tokens = async () => (await purgatory()).map((e: { token: string }) => e.token);
    now += 59_000;
    expect(await tokens()).toContain(token);
    now += 2_000;
    const left = await tokens();
    expect(left).not.toContain(token);
    // The decisions that expired in the test before went one TTL after they expired, too.
    expect(left).toHaveLength(0);
    expect((await post(`/v1/purgatory/${token}/cancel`)).status).toBe(404);
  });
});

describe('agent manifests that cannot be read', () => {
  it('a file that does not parse names itself and where; a folder the user named must exist', async () => {
    const dir = scratchProject('bad-agents');
    writeFileSync(join(dir, 'broken.yaml'), 'name: x\nfoo: [\n');
    await expect(loadAgents(dir)).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { file: join(dir, 'broken.yaml') }, message: expect.stringMatching(/^cannot load the agent manifest: .* at line \d+, column \d+$/) });
    writeFileSync(join(dir, 'broken.yaml'), 'name: x\n');
    writeFileSync(join(dir, 'broken.ts'), 'export default {\n');
    await expect(loadAgents(dir)).rejects.toMatchObject({ code: 'INVALID_CONFIG', details: { file: join(dir, 'broken.ts') } });

    expect(await loadAgents(join(dir, 'none'))).toEqual([]);
    await expect(loadAgents(join(dir, 'none'), { required: true })).rejects.toMatchObject({ code: 'NOT_FOUND', details: { file: join(dir, 'none') } });
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'nucleus', '-p', '0', '--agents', join(dir, 'none')], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(66);
    expect(cli.stderr).toBe(`error: ${join(dir, 'none')}: cannot read the agents folder: no such folder\n`);
  });
});
