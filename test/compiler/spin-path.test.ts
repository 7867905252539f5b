import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as shimHttp from '@bytecodealliance/preview2-shim/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { freePort } from '../../common/net.ts';
import { encodeDeposit } from '../../common/pheromone.ts';
import { AMBIGUOUS_PATH } from '../../compiler/abi.ts';
import { rawGet } from '../support/raw-http.ts';
import { instantiateThroughGlue } from '../support/transpiled-reflex.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';
import { startUpstreamProcess } from '../support/upstream-process.ts';

// HTTPServer exists at run time but is missing from the shim's type declarations.
type HTTPServer = { listen(port: number, host?: string): void; stop(): void };
const { HTTPServer } = shimHttp as unknown as { HTTPServer: new (handler: unknown) => HTTPServer };

/**
 * The Spin path: each component's `wasi:http/incoming-handler` export, served over real HTTP by
 * preview2-shim (the runtime jco uses), with outgoing requests through wasi:http too.
 */
let upstream: Awaited<ReturnType<typeof startUpstreamProcess>>;
let dist: string;
const servers: HTTPServer[] = [];

beforeAll(async () => {
  upstream = await startUpstreamProcess();
  const root = scratchProject('spin-path');
  mkdirSync(join(root, 'reflexes'));
  for (const f of ['api-router', 'edge-health']) writeFileSync(join(root, 'reflexes', `${f}.reflex.ts`), readFileSync(join(REPO_ROOT, 'reflexes', `${f}.reflex.ts`)));
  writeFileSync(
    join(root, 'reflexes', 'tiny-limit.reflex.ts'),
    `export default { kind: 'rate-limit', name: 'tiny-limit', description: 'two per minute', route: '/limited/...', key: { from: 'constant', value: 'all' }, rate: 2, period: '1m', burst: 2, upstream: { variable: 'nucleus_url', default: 'http://127.0.0.1:1' } };`,
  );
  writeFileSync(
    join(root, 'reflexes', 'peer-limit.reflex.ts'),
    `export default { kind: 'rate-limit', name: 'peer-limit', description: 'one per client', route: '/peer/...', key: { from: 'client' }, rate: 1, period: '1m', upstream: { variable: 'nucleus_url', default: 'http://127.0.0.1:1' } };`,
  );
  writeFileSync(
    join(root, 'reflexes', 'chain-limit.reflex.ts'),
    `export default { kind: 'rate-limit', name: 'chain-limit', description: 'hands on to the next', route: '/chained/...', key: { from: 'constant', value: 'all' }, rate: 100, period: '1m', burst: 100, next: 'peer-limit' };`,
  );
  writeFileSync(
    join(root, 'reflexes', 'alarm.reflex.ts'),
    `export default { kind: 'pheromone-sensor', name: 'alarm', description: 'pages on warnings', route: '/_reflexes/alarm', every: '1s', senses: { type: 'WARNING' }, threshold: { rise: 0.5, fall: 0.2 }, upstreams: { pager: { variable: 'pager_url', default: 'http://127.0.0.1:1' } }, onRise: [{ webhook: { upstream: 'pager', path: '/alert' } }] };`,
  );
  writeFileSync(
    join(root, 'reflexes', 'body-router.reflex.ts'),
    `export default { kind: 'router', name: 'body-router', description: 'routes on a keyword', route: '/body/...', upstreams: { nucleus: { variable: 'nucleus_url', default: 'http://127.0.0.1:1' } }, rules: [{ match: { keyword: 'urgent' }, action: { route: 'nucleus' } }], fallback: { respond: { status: 404 } } };`,
  );
  dist = (await buildApp({ root })).outDir;
});
afterAll(() => {
  for (const s of servers) s.stop();
  upstream?.close();
});

async function serve(name: string, kv = new Map<string, Uint8Array>(), chainTo?: string): Promise<string> {
  const reflex = await instantiateThroughGlue(new Uint8Array(readFileSync(join(dist, 'reflexes', `${name}.wasm`))), { kv, variables: new Map([['nucleus_url', upstream.url], ['pager_url', upstream.url]]), chainTo });
  const server = new HTTPServer(reflex.incomingHandler);
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

describe('wasi:http export (the Spin path)', () => {
  it('router: fixed responses and the fallback come back through the outparam', async () => {
    const base = await serve('api-router');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({ status: 'ok' });
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no route' } });
  });

  it('router: streams a body far larger than its memory to the upstream, and the answer back, whole', async () => {
    // api-router has one 64 KiB page; 2 MB each way used to be read into it, and trapped.
    const base = await serve('api-router');
    const body = 'abcdefghij'.repeat(200_000);
    const response = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body });
    expect(response.status).toBe(201);
    const echoed = await response.json();
    expect(echoed.body.length).toBe(body.length);
    expect(echoed.body === body).toBe(true);
  });

  it('body-reading router: decides on the first MiB, and the upstream gets the whole body', async () => {
    const base = await serve('body-router');
    const padding = 'x'.repeat(1_500_000);
    const early = `URGENT ${padding}`;
    const response = await fetch(`${base}/body/alerts`, { method: 'POST', body: early });
    expect(response.status).toBe(201);
    expect((await response.json()).body === early).toBe(true);
    const late = await fetch(`${base}/body/alerts`, { method: 'POST', body: `${padding} URGENT` });
    expect(late.status).toBe(404);
  });

  it('router: forwards method, path, query, headers and body through wasi:http/outgoing-handler', async () => {
    const base = await serve('api-router');
    const response = await fetch(`${base}/v1/chat/completions?x=1`, { method: 'POST', headers: { 'x-trace': 'abc', 'content-type': 'application/json' }, body: '{"model":"m"}' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-upstream')).toBe('echo');
    expect(response.headers.get('via')).toBe('1.1 kgents');
    expect(await response.json()).toEqual({ method: 'POST', url: '/v1/chat/completions?x=1', body: '{"model":"m"}', trace: 'abc', hop: { via: '1.1 kgents' } });
  });

  it('forwarding: Via and X-Forwarded-For get this hop appended, X-Forwarded-Host names the host Spin was asked at; Spin\'s own fields and a client name sent from outside are not passed on', async () => {
    const base = await serve('api-router');
    const headers = { 'spin-client-addr': '10.1.2.3:5555', 'spin-full-url': 'https://edge.example:8443/v1/chat/completions', 'x-forwarded-for': '192.0.2.1', 'kgents-client': '6.6.6.6' };
    const echoed = await (await fetch(`${base}/v1/chat/completions`, { headers })).json();
    expect(echoed.hop).toEqual({ via: '1.1 kgents', 'x-forwarded-for': '192.0.2.1, 10.1.2.3', 'x-forwarded-host': 'edge.example:8443' });
    const first = await (await fetch(`${base}/v1/chat/completions`, { headers: { 'spin-client-addr': '10.1.2.3:5555', 'spin-full-url': 'http://edge' } })).json();
    expect(first.hop).toEqual({ via: '1.1 kgents', 'x-forwarded-for': '10.1.2.3', 'x-forwarded-host': 'edge' });
    // A proxy before Spin (an ingress that ends TLS) named the origin already: kept, and its scheme passed on.
    const behindIngress = await (await fetch(`${base}/v1/chat/completions`, { headers: { 'spin-full-url': 'http://10.0.0.5/v1/chat/completions', via: '1.1 ingress', 'x-forwarded-host': 'api.example', 'x-forwarded-proto': 'https' } })).json();
    expect(behindIngress.hop).toEqual({ via: '1.1 ingress, 1.1 kgents', 'x-forwarded-host': 'api.example', 'x-forwarded-proto': 'https' });
  });

  it('chaining: a reflex hands the next one its client\'s address, and X-Forwarded-For as received (through a fake of Spin\'s chaining)', async () => {
    const base = await serve('chain-limit', new Map(), new URL(upstream.url).host);
    const echoed = await (await fetch(`${base}/chained/x`, { headers: { 'spin-client-addr': '10.4.4.4:1234', 'spin-full-url': 'http://edge/chained/x', 'x-forwarded-for': '192.0.2.9' } })).json();
    expect(echoed.url).toBe('/chained/x');
    // The next reflex is asked at <name>.spin.internal: the client's host goes with the request.
    // Only the reflex that leaves the app is a hop (Via), as on the embedded host.
    expect(echoed.hop).toEqual({ 'kgents-client': '10.4.4.4', 'x-forwarded-for': '192.0.2.9', 'x-forwarded-host': 'edge' });
  });

  it('chaining: a chained reflex limits by the client named by the reflex before it, trusted only from Spin\'s chaining address', async () => {
    const base = await serve('peer-limit');
    const call = (peer: string, named: string) => fetch(`${base}/peer/x`, { headers: { 'spin-client-addr': peer, 'kgents-client': named } });
    const first = await call('0.0.0.0:0', '10.9.9.9');
    expect(first.status).toBe(201);
    expect((await first.json()).hop).toEqual({ via: '1.1 kgents', 'x-forwarded-for': '10.9.9.9' });
    expect((await call('0.0.0.0:0', '10.9.9.9')).status).toBe(429);
    expect((await call('0.0.0.0:0', '10.9.9.8')).status).toBe(201);
    // From any other peer the name is the client's own claim: the peer is the key.
    expect((await call('10.9.9.7:1', '10.9.9.9')).status).toBe(201);
    expect((await call('10.9.9.7:2', '10.9.9.8')).status).toBe(429);
  });

  it('router: a path with a dot segment or an escaped unreserved character gets 400 before any rule runs, as on the embedded host', async () => {
    const base = await serve('api-router');
    for (const target of ['/v1/chat/../../admin', '/v1/chat/%2E%2e/x', '/v1/chat/.', '/v1/chat\\..\\x', '/v1/chat\\x', '/v1/%63hat/completions']) {
      const answer = await rawGet(base, target);
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body).error).toEqual({ code: 'bad_request', message: AMBIGUOUS_PATH });
    }
    const ordinary = await rawGet(base, '/v1/chat/.x/..y?z=/../');
    expect(ordinary.status).toBe(201);
    expect(JSON.parse(ordinary.body).url).toBe('/v1/chat/.x/..y?z=/../');
  });

  it('rate limit by client: the peer Spin names, without its port; X-Forwarded-For is not trusted by default', async () => {
    const base = await serve('peer-limit');
    const from = (peer: string, forwardedFor?: string) => fetch(`${base}/peer/x`, { headers: { 'spin-client-addr': peer, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } }).then((r) => r.status);
    expect(await from('10.1.1.1:40001')).toBe(201);
    expect(await from('10.1.1.1:40002', 'forged')).toBe(429);
    expect(await from('[2001:db8::1]:40003')).toBe(201);
    expect(await from('[2001:db8::1]:40004')).toBe(429);
    expect(await from('10.1.1.2:40001')).toBe(201);
  });

  it('rate limit: forwards within the budget, then answers 429 with Retry-After', async () => {
    const base = await serve('tiny-limit');
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 3; i++) {
      last = await fetch(`${base}/limited/a`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect(last!.headers.get('retry-after')).toBe('30');
    expect(last!.headers.get('ratelimit-policy')).toBe('"tiny-limit";q=2;w=60');
  });

  it('health: probes the upstream through wasi:http and reports 200', async () => {
    const base = await serve('edge-health');
    // A client's own `kgents-probe-0` is no probe result: the reflex probes all the same.
    const response = await fetch(`${base}/_reflexes/health`, { headers: { 'kgents-probe-0': '503' } });
    expect(response.status).toBe(200);
    expect((await response.json()).checks).toEqual([{ name: 'kv', ok: true }, { name: 'upstream:nucleus', ok: true, status: 200 }]);
  });

  it('sensor: a tick through its route sends its webhooks through wasi:http, once per rise', async () => {
    const warning = encodeDeposit({ id: 'w1', type: 'WARNING', source: 'test', target: null, intensity: 0.9, halfLifeMs: 60_000, emittedAtMs: Date.now(), expiresAtMs: 0, payload: null });
    const base = await serve('alarm', new Map([['pheromone/WARNING', new TextEncoder().encode(warning)]]));
    const alerts = async () => ((await (await fetch(`${upstream.url}/_seen`)).json()) as { method: string; url: string }[]).filter((r) => r.url === '/alert');
    const before = (await alerts()).length;
    const tick = await fetch(`${base}/_reflexes/alarm`);
    expect(tick.status).toBe(200);
    expect(await tick.json()).toEqual({ sensor: 'alarm', up: true });
    const sent = await alerts();
    expect(sent).toHaveLength(before + 1);
    expect(sent.at(-1)).toMatchObject({ method: 'POST', url: '/alert', contentType: 'application/json' });
    expect(JSON.parse((sent.at(-1) as unknown as { body: string }).body)).toMatchObject({ reflex: 'alarm', edge: 'rise' });
    // Still up on the next tick: no second page.
    expect(await (await fetch(`${base}/_reflexes/alarm`)).json()).toEqual({ sensor: 'alarm', up: true });
    expect(await alerts()).toHaveLength(before + 1);
  });

  it('answers 502 in JSON when the upstream is unreachable', async () => {
    const reflex = await instantiateThroughGlue(new Uint8Array(readFileSync(join(dist, 'reflexes', 'api-router.wasm'))), { kv: new Map(), variables: new Map([['nucleus_url', 'http://127.0.0.1:1']]) });
    const server = new HTTPServer(reflex.incomingHandler);
    const port = await freePort();
    server.listen(port, '127.0.0.1');
    servers.push(server);
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/x`);
    expect(response.status).toBe(502);
    expect((await response.json()).error.code).toBe('upstream_unavailable');
  });
});
