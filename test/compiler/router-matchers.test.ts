import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, memoryPagesOf } from '../../compiler/build.ts';
import { createLogger } from '../../common/log.ts';
import { startHost } from '../../cytoplasm/host.ts';
import { decodeDecision, encodeRequest, type Decision } from '../../compiler/abi.ts';
import { EXPORT_RENAMES, generateAssemblyScript, METERED_EXPORTS } from '../../compiler/codegen/index.ts';
import { ReflexSpec } from '../../compiler/spec/schema.ts';
import { compileAssemblyScript } from '../../compiler/toolchain/asc.ts';
import { componentize } from '../../compiler/toolchain/component.ts';
import { scratchProject } from '../support/tmp.ts';
import { instantiateThroughGlue } from '../support/transpiled-reflex.ts';
import { startEchoUpstream } from '../support/upstream.ts';

// The shipped router matches on path prefixes only; this one uses every kind of condition,
// compiled and run through jco's glue. Rules are ordered: the first that matches wins.
const SPEC = {
  kind: 'router',
  name: 'matchers',
  description: 'every matcher',
  route: '/...',
  upstreams: {
    agents: { variable: 'agents_url', default: 'http://agents:1' },
    gold: { variable: 'gold_url', default: 'http://gold:2' },
    beta: { variable: 'beta_url', default: 'http://beta:3' },
  },
  rules: [
    { match: { method: ['DELETE', 'PUT'] }, action: { deny: { status: 405, message: 'read-only' } } },
    { match: { path: { exact: '/ping' } }, action: { respond: { status: 200, body: 'pong', headers: { 'x-pong': '1' } } } },
    { match: { path: { exact: '/page' } }, action: { respond: { status: 200, body: '<p>hi</p>', headers: { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' } } } },
    { match: { path: { glob: '/v1/agents/*/invoke' } }, action: { route: 'agents' } },
    { match: { path: { glob: '/static/**' } }, action: { respond: { status: 200, body: { static: true } } } },
    { match: { path: { glob: '/g/**/x/*' } }, action: { respond: { status: 200, body: 'g' } } },
    { match: { path: { glob: '/h/**/*.css' } }, action: { respond: { status: 200, body: 'css' } } },
    { match: { path: { glob: '/k/**/b' } }, action: { respond: { status: 200, body: 'kb' } } },
    { match: { path: { glob: '/m/**/**/b' } }, action: { respond: { status: 200, body: 'mb' } } },
    { match: { path: { glob: '/v*/users' } }, action: { respond: { status: 200, body: 'users' } } },
    { match: { header: { name: 'X-Tier', equals: 'gold' } }, action: { route: 'gold' } },
    { match: { header: { name: 'x-debug', present: true } }, action: { respond: { status: 200, body: 'debug' } } },
    { match: { query: { name: 'beta', equals: '1' } }, action: { route: 'beta' } },
    { match: { query: { name: 'order', equals: 'café au lait' } }, action: { respond: { status: 200, body: 'coffee' } } },
    { match: { jsonField: { path: 'metadata.tier', equals: 'free' } }, action: { deny: {} } },
    { match: { path: { exact: '/numbers' }, jsonField: { path: 'n', equals: '1' } }, action: { respond: { status: 200, body: 'one' } } },
    { match: { keyword: 'URGENT' }, action: { route: 'gold' } },
    { match: { path: { exact: '/schools' }, keyword: 'École' }, action: { respond: { status: 200, body: 'school' } } },
    { match: { method: 'POST', path: { prefix: '/v1' } }, action: { route: 'agents' } },
  ],
  fallback: { respond: { status: 404, body: { error: 'no rule' } } },
};

let decide: (method: string, target: string, headers?: [string, string][], body?: string) => Decision;

beforeAll(async () => {
  const spec = ReflexSpec.parse(SPEC);
  const core = await compileAssemblyScript(generateAssemblyScript(spec, 'matchers.reflex.ts', 'test'), { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: spec.limits.fuel, maxMemoryPages: memoryPagesOf(spec) });
  const reflex = await instantiateThroughGlue(await componentize(core), { kv: new Map(), nowMs: () => 0 });
  decide = (method, target, headers = [], body) => {
    const [path, query = ''] = target.split('?');
    return decodeDecision(reflex.decide(encodeRequest({ method, path, query, client: '10.0.0.1', headers, body: body === undefined ? undefined : new TextEncoder().encode(body) })));
  };
});

/** What a decision amounts to, in one comparable value. */
function outcome(d: Decision): string {
  if (d.action === 'forward') return `forward ${d.target}`;
  if (d.action === 'respond') return `${d.status} ${d.body}`;
  return d.action;
}

describe('router matchers through jco glue', () => {
  it('method: a list matches any of its methods', () => {
    expect(outcome(decide('DELETE', '/anything'))).toBe('405 {"error":{"code":"denied","message":"read-only"}}');
    expect(outcome(decide('PUT', '/ping'))).toMatch(/^405 /);
  });

  it('path: exact, one-segment glob, many-segment glob; a fixed answer keeps its headers', () => {
    const ping = decide('GET', '/ping');
    expect(outcome(ping)).toBe('200 pong');
    expect(ping.action === 'respond' && Object.fromEntries(ping.headers)).toMatchObject({ 'x-pong': '1' });
    expect(outcome(decide('GET', '/ping/more'))).toBe('404 {"error":"no rule"}');
    // Header names in any case: a spec's own Content-Type replaces the default, once.
    const page = decide('GET', '/page');
    expect(page.action === 'respond' && page.headers).toEqual([['content-type', 'text/html'], ['cache-control', 'no-store']]);
    expect(outcome(decide('GET', '/v1/agents/triage/invoke'))).toBe('forward http://agents:1');
    expect(outcome(decide('GET', '/v1/agents/a/b/invoke'))).toBe('404 {"error":"no rule"}');
    expect(outcome(decide('GET', '/static/css/site.css'))).toBe('200 {"static":true}');
  });

  it('glob: a * after a ** may give text back to it', () => {
    expect(outcome(decide('GET', '/g/a/x/b/x/c'))).toBe('200 g');
    expect(outcome(decide('GET', '/g/a/x/b/c'))).toBe('404 {"error":"no rule"}');
    expect(outcome(decide('GET', '/h/x.css/y/z.css'))).toBe('200 css');
    expect(outcome(decide('GET', '/h/z.js'))).toBe('404 {"error":"no rule"}');
  });

  it('glob: a ** that is a whole segment may match no segment at all, as globstar does', () => {
    for (const path of ['/k/b', '/k/x/b', '/k/x/y/b', '/h/z.css', '/m/b', '/m/x/b', '/m/x/y/z/b', '/v1/users', '/v/users']) expect(outcome(decide('GET', path)), path).toMatch(/^200 /);
    // Only a segment that is all `**` may vanish: `/v*/users` still wants its segment.
    for (const path of ['/k/xb', '/kb', '/k/b/c', '/mb', '/users', '/x/users']) expect(outcome(decide('GET', path)), path).toBe('404 {"error":"no rule"}');
  });

  it('header: equals (name in any case) and present', () => {
    expect(outcome(decide('GET', '/x', [['x-tier', 'gold']]))).toBe('forward http://gold:2');
    expect(outcome(decide('GET', '/x', [['x-tier', 'silver']]))).toBe('404 {"error":"no rule"}');
    expect(outcome(decide('GET', '/x', [['x-debug', '']]))).toBe('200 debug');
  });

  it('query: a parameter with a value', () => {
    expect(outcome(decide('GET', '/x?a=2&beta=1'))).toBe('forward http://beta:3');
    expect(outcome(decide('GET', '/x?beta=10'))).toBe('404 {"error":"no rule"}');
  });

  it('query: names and values are compared decoded, as a client encoded them', () => {
    expect(outcome(decide('GET', '/x?be%74a=%31'))).toBe('forward http://beta:3');
    for (const order of ['caf%C3%A9+au+lait', 'caf%c3%a9%20au%20lait', 'café au+lait']) expect(outcome(decide('GET', `/x?order=${order}`)), order).toBe('200 coffee');
    expect(outcome(decide('GET', '/x?order=cafe+au+lait'))).toBe('404 {"error":"no rule"}');
    // A broken escape is taken as written.
    expect(outcome(decide('GET', '/x?beta=%3'))).toBe('404 {"error":"no rule"}');
  });

  it('jsonField: a nested field of the body; deny defaults to 403', () => {
    expect(outcome(decide('POST', '/chat', [], '{"model":"m","metadata":{"tier":"free"}}'))).toBe('403 {"error":{"code":"denied","message":"denied"}}');
    expect(outcome(decide('POST', '/chat', [], '{"metadata":{"tier":"pro"}}'))).toBe('404 {"error":"no rule"}');
    expect(outcome(decide('POST', '/chat', [], 'not json'))).toBe('404 {"error":"no rule"}');
    // The path is followed through the objects: a "tier" beside "metadata" is not metadata.tier.
    expect(outcome(decide('POST', '/chat', [], '{"metadata":{"x":[1,{"tier":"free"}]},"tier":"free"}'))).toBe('404 {"error":"no rule"}');
    expect(outcome(decide('POST', '/chat', [], '{"note":"\\"tier\\":\\"free\\"","metadata":{ "tier" : "free" }}'))).toMatch(/^403 /);
  });

  it('jsonField: read as JSON.parse reads it, escapes decoded and the last of a key written twice', () => {
    for (const body of ['{"metadata":{"tier":"\\u0066ree"}}', '{"metadata":{"ti\\u0065r":"free"}}', '{"metadata":{"tier":"pro","tier":"free"}}', '{"metadata":{"tier":"fr\\u0065e"}}']) {
      expect(JSON.parse(body).metadata.tier, body).toBe('free');
      expect(outcome(decide('POST', '/chat', [], body)), body).toMatch(/^403 /);
    }
    expect(outcome(decide('POST', '/chat', [], '{"metadata":{"tier":"free","tier":"pro"}}'))).toBe('404 {"error":"no rule"}');
    // A number as written, whatever space follows it.
    for (const body of ['{"n":1}', '{"n": 1\r\n}', '{"n":1\t}']) expect(outcome(decide('POST', '/numbers', [], body)), body).toBe('200 one');
  });

  it('keyword: in the body or the path, ASCII letters in any case, others as written', () => {
    expect(outcome(decide('POST', '/chat', [], '{"text":"this is Urgent"}'))).toBe('forward http://gold:2');
    expect(outcome(decide('GET', '/alerts/urgent'))).toBe('forward http://gold:2');
    expect(outcome(decide('POST', '/schools', [], 'une École, une ÉCOLE'))).toBe('200 school');
    expect(outcome(decide('POST', '/schools', [], 'une ÉCOLE'))).toBe('200 school');
    expect(outcome(decide('POST', '/schools', [], 'une école'))).toBe('404 {"error":"no rule"}');
  });

  it('header: a field sent twice reads as its values joined, as the embedded host reads it', () => {
    expect(outcome(decide('GET', '/x', [['x-tier', 'gold'], ['x-tier', 'gold']]))).toBe('404 {"error":"no rule"}');
  });

  it('every condition of a match must hold; nothing matching takes the fallback', () => {
    expect(outcome(decide('POST', '/v1/runs', [], '{}'))).toBe('forward http://agents:1');
    expect(outcome(decide('GET', '/v1/runs'))).toBe('404 {"error":"no rule"}');
  });
});

describe('a router that reads a flag, with the store down', () => {
  async function flagRouter(onStoreFailure?: 'fail-open' | 'fail-closed') {
    const spec = ReflexSpec.parse({ kind: 'router', name: 'flagged', description: 'reads a flag', route: '/...', upstreams: { app: { variable: 'app_url', default: 'http://app:1' } }, whenFlag: { flag: 'degraded' }, rules: [], fallback: { route: 'app' }, ...(onStoreFailure ? { onStoreFailure } : {}) });
    const core = await compileAssemblyScript(generateAssemblyScript(spec, 'flagged.reflex.ts', 'test'), { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: spec.limits.fuel, maxMemoryPages: memoryPagesOf(spec) });
    const reflex = await instantiateThroughGlue(await componentize(core), { kv: new Map(), nowMs: () => 0, storeDown: () => true });
    return decodeDecision(reflex.decide(encodeRequest({ method: 'GET', path: '/x', query: '', client: '10.0.0.1', headers: [] })));
  }

  it('routes as if the flag were down by default (fail-open), and answers 503 when told to fail closed', async () => {
    expect(outcome(await flagRouter())).toBe('forward http://app:1');
    const closed = await flagRouter('fail-closed');
    expect(closed).toMatchObject({ action: 'respond', status: 503 });
    expect(closed.action === 'respond' && JSON.parse(closed.body).error.code).toBe('store_unavailable');
  });
});

describe('a body-matching router in the embedded host', () => {
  const root = scratchProject('matchers');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('decides on the first MiB of a body, and the upstream still receives all of it', async () => {
    mkdirSync(join(root, 'reflexes'));
    writeFileSync(join(root, 'reflexes', 'matchers.reflex.ts'), `export default ${JSON.stringify(SPEC)};\n`);
    await buildApp({ root });
    const gold = await startEchoUpstream();
    const host = await startHost({ distDir: join(root, 'dist'), port: 0, sensors: false, env: { SPIN_VARIABLE_GOLD_URL: gold.url }, logger: createLogger('test', 'silent') });
    try {
      // 1.5 MiB, more than a reflex sees (REFLEX_BODY_BYTES).
      const padding = 'x'.repeat(1_500_000);
      const body = JSON.stringify({ text: 'URGENT: disk full', padding });
      const response = await fetch(`${host.url}/v1/alerts?x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(200);
      expect(gold.seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/alerts?x=1', body });
      // The keyword only after the first MiB: the router does not see it, and falls back.
      const late = await fetch(`${host.url}/alerts`, { method: 'PATCH', body: JSON.stringify({ padding, text: 'URGENT' }) });
      expect(late.status).toBe(404);
      const denied = await fetch(`${host.url}/chat`, { method: 'POST', body: JSON.stringify({ metadata: { tier: 'free', note: padding } }) });
      expect(denied.status).toBe(403);
    } finally {
      await host.close();
      await gold.close();
    }
  });
});
