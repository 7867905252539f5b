import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAssemblyScript, EXPORT_RENAMES, METERED_EXPORTS } from '../../compiler/codegen/index.ts';
import { AppManifest } from '../../compiler/app-manifest.ts';
import { sha256 } from '../../common/digest.ts';
import { compileAssemblyScript } from '../../compiler/toolchain/asc.ts';
import { componentize } from '../../compiler/toolchain/component.ts';
import { ReflexSpec } from '../../compiler/spec/schema.ts';
import { MemoryKv } from '../../common/kv/memory.ts';
import { encodeDeposit } from '../../common/pheromone.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { scratchProject } from '../support/tmp.ts';
import { startEchoUpstream } from '../support/upstream.ts';

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let host: ReflexHost;
let kv: MemoryKv;
let now = Date.parse('2026-11-23T00:00:00Z');

beforeAll(async () => {
  await shippedApp();
  upstream = await startEchoUpstream();
  kv = new MemoryKv();
  host = await startHost({ distDir: SHIPPED_DIST, port: 0, kv, sensors: false, nowMs: () => now, env: { SPIN_VARIABLE_NUCLEUS_URL: upstream.url } });
});
afterAll(async () => {
  await host?.close();
  await upstream?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${host.url}${path}`, { headers });

describe('embedded host over real HTTP', () => {
  it('the shipped rate limit admits exactly burst requests, then answers 429', async () => {
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 12; i++) {
      last = await get('/v1/agents/triage/invoke', { 'x-agent-id': 'agent-burst' });
      statuses.push(last.status);
      if (last.status === 200) await last.body?.cancel();
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
    expect(last!.headers.get('retry-after')).toBe('1');
    // 60 a minute, 10 at once: 10 per the 10 s a burst takes to refill. On a refusal `t` agrees with Retry-After.
    expect(last!.headers.get('ratelimit-policy')).toBe('"agent-limit";q=10;w=10');
    expect(last!.headers.get('ratelimit')).toBe('"agent-limit";r=0;t=1');
    expect((await last!.json()).error.code).toBe('rate_limited');
    // Another agent has its own budget.
    expect((await get('/v1/agents/triage/invoke', { 'x-agent-id': 'someone-else' })).status).toBe(200);
    // GCRA refills one request per second under the injected clock.
    now += 1000;
    expect((await get('/v1/agents/triage/invoke', { 'x-agent-id': 'agent-burst' })).status).toBe(200);
    expect((await get('/v1/agents/triage/invoke', { 'x-agent-id': 'agent-burst' })).status).toBe(429);
    // A key as long as Node lets a header be is a key like any other (a 10 KB one trapped).
    const long = await get('/v1/agents/triage/invoke', { 'x-agent-id': 'k'.repeat(15_000) });
    expect(long.status).toBe(200);
    await long.body?.cancel();
  });

  it('the router forwards to a real upstream with method, path, query, headers and body', async () => {
    const before = upstream.seen.length;
    const response = await fetch(`${host.url}/v1/chat/completions?stream=false`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 't1' }, body: '{"model":"m"}' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('echo');
    const seen = upstream.seen[before];
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/chat/completions?stream=false', body: '{"model":"m"}' });
    expect(seen.headers['x-trace']).toBe('t1');
  });

  it('the router answers from its fallback and its fixed rules', async () => {
    const missing = await get('/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no route' } });
  });

  it('the sensor raises the degraded flag on WARNING pheromones and the router then answers 503', async () => {
    expect((await get('/v1/chat/x')).status).toBe(200);
    await kv.append('pheromone/WARNING', new TextEncoder().encode(encodeDeposit({ id: 'w1', type: 'WARNING', source: 'test', target: 'nucleus', intensity: 0.9, halfLifeMs: 60_000, emittedAtMs: now, expiresAtMs: 0, payload: null })));
    const reports: unknown[] = [];
    host.on('sensor', (e) => reports.push(e));
    await host.tickSensors();
    expect(new TextDecoder().decode(kv.getSync('flag/degraded')!)).toBe('1');
    expect(reports).toHaveLength(1);
    const shed = await get('/v1/chat/x');
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('5');
    // Through the chain, the router's own answer also carries the rate limit's headers.
    const chained = await get('/v1/agents/triage/invoke', { 'x-agent-id': 'agent-shed' });
    expect(chained.status).toBe(503);
    expect(chained.headers.get('retry-after')).toBe('5');
    expect(chained.headers.get('content-type')).toBe('application/json');
    expect(chained.headers.get('ratelimit')).toMatch(/^"agent-limit";r=9;t=\d+$/);
    // Two half-lives later the field is at 0.225 < 0.3: the flag falls and traffic flows again.
    now += 120_000;
    await host.tickSensors();
    expect(kv.getSync('flag/degraded')).toBeNull();
    expect((await get('/v1/chat/x')).status).toBe(200);
  });

  it('serves ops endpoints: healthz, readyz and Prometheus metrics', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, store: { kind: 'memory', ok: true }, reflexes: 4 });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/kgents_requests_total\{reflex="agent-limit",status="429"\} [1-9]/);
    expect(metrics).toMatch(/kgents_decisions_total\{reflex="api-router",outcome="forward"\} [1-9]/);
    expect(metrics).toContain('kgents_request_duration_seconds_bucket');
    expect(metrics).toMatch(/kgents_reflex_instances\{reflex="api-router"\} 1/);
    expect(metrics).toContain('kgents_sensor_tick_jitter_seconds');
  });

  it('the health reflex probes the nucleus and the store, whatever probe result a client claims', async () => {
    const response = await get('/_reflexes/health', { 'kgents-probe-0': '503' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', reflex: 'edge-health', checks: [{ name: 'kv', ok: true }, { name: 'upstream:nucleus', ok: true, status: 200 }] });
  });
});

describe('limits and faults', () => {
  let faulty: ReflexHost;
  let dist: string;

  beforeAll(async () => {
    // A copy of the shipped app with one reflex that spins forever, and the router's
    // outbound allowlist narrowed to a host it does not use.
    dist = join(scratchProject('faults'), 'dist');
    cpSync(SHIPPED_DIST, dist, { recursive: true });
    const manifest = AppManifest.parse(JSON.parse(readFileSync(join(dist, 'app.json'), 'utf8')));
    const spec = ReflexSpec.parse({ kind: 'router', name: 'spinner', description: 'loops forever', route: '/spin', rules: [], fallback: { respond: { status: 200 } }, limits: { fuel: 100_000 } });
    const source = generateAssemblyScript(spec, 'spinner.reflex.ts', 'test').replace(
      'function decideRequest(req: Request): Decision {',
      'function decideRequest(req: Request): Decision {\n  let n: i32 = 1;\n  while (n != 0) n = (n % 7) + 1;',
    );
    const component = await componentize(await compileAssemblyScript(source, { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: spec.limits.fuel, maxMemoryPages: 1 }));
    writeFileSync(join(dist, 'reflexes/spinner.wasm'), component);
    manifest.reflexes.push({ name: 'spinner', kind: 'router', file: 'spinner.reflex.ts', route: '/spin', component: 'reflexes/spinner.wasm', sha256: sha256(component), size: component.length, buildMs: 0, cacheKey: 'test', reads: { headers: [], body: false }, spec });
    writeFileSync(join(dist, 'app.json'), JSON.stringify(manifest));
    const toml = readFileSync(join(dist, 'spin.toml'), 'utf8')
      .replace('[[trigger.http]]', '[[trigger.http]]\nroute = "/spin"\ncomponent = "spinner"\n\n[[trigger.http]]')
      .replace(/(\[component\.api-router\][^[]*?allowed_outbound_hosts = )\[[^\]]*\]/s, '$1[ "http://127.0.0.1:1" ]');
    writeFileSync(join(dist, 'spin.toml'), `${toml}\n[component.spinner]\nsource = "reflexes/spinner.wasm"\nkey_value_stores = [ "default" ]\n`);
    faulty = await startHost({ distDir: dist, port: 0, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: upstream.url } });
  });
  afterAll(() => faulty?.close());

  it('stops a reflex stuck in a loop with a 500, and keeps serving everything else', async () => {
    const stuck = await fetch(`${faulty.url}/spin`);
    expect(stuck.status).toBe(500);
    expect((await stuck.json()).error.code).toBe('reflex_trapped');
    expect((await fetch(`${faulty.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${faulty.url}/spin`)).status).toBe(500);
    const metrics = await (await fetch(`${faulty.url}/metrics`)).text();
    expect(metrics).toMatch(/kgents_reflex_traps_total\{reflex="spinner"\} 2/);
  });

  it('refuses an outbound request to a host outside allowed_outbound_hosts', async () => {
    const before = upstream.seen.length;
    const refused = await fetch(`${faulty.url}/v1/chat/x`);
    expect(refused.status).toBe(502);
    expect((await refused.json()).error).toMatchObject({ code: 'outbound_denied' });
    expect(upstream.seen.length).toBe(before);
    const metrics = await (await fetch(`${faulty.url}/metrics`)).text();
    expect(metrics).toMatch(/kgents_outbound_denied_total\{reflex="api-router"\} 1/);
  });
});
