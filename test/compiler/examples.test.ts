import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeDecision, decodeTick, encodeRequest, HEAP_MODULE, type ReflexRequest } from '../../compiler/abi.ts';
import type { BuildResult } from '../../compiler/build.ts';
import { witOf } from '../../compiler/toolchain/component.ts';
import { compileReflex, coreModulesOf } from '../../cytoplasm/wasm/extract.ts';
import { importsFor } from '../../cytoplasm/wasm/imports.ts';
import { fullImportName } from '../../common/reflex-imports.ts';
import { encodeDeposit } from '../../common/pheromone.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { instantiateThroughGlue } from '../support/transpiled-reflex.ts';

let build: BuildResult;
const component = (name: string) => new Uint8Array(readFileSync(join(SHIPPED_DIST, 'reflexes', `${name}.wasm`)));
const request = (path: string, headers: [string, string][] = [], method = 'GET'): Uint8Array => encodeRequest({ method, path, query: '', client: '127.0.0.1', headers } satisfies ReflexRequest);

/** Everything a reflex may import: Spin's spin:up/platform@3.2.0 world, at the versions we target. */
const ALLOWED_IMPORTS = /^(wasi:keyvalue\/(store|atomics)@0\.2\.0-draft2|wasi:config\/store@0\.2\.0-draft-2024-09-27|wasi:clocks\/(wall-clock|monotonic-clock)@0\.2\.0|wasi:http\/(types|outgoing-handler)@0\.2\.0|wasi:io\/(error|poll|streams)@0\.2\.0)$/;

beforeAll(async () => {
  build = await shippedApp();
});

describe('shipped example components', () => {
  it('ships one of each kind, each a few KB', () => {
    expect(build.manifest.reflexes.map((r) => r.kind).sort()).toEqual(['health', 'pheromone-sensor', 'rate-limit', 'router']);
    // "A few KB": issue 2's goal, 16 KB each.
    for (const r of build.manifest.reflexes) expect(r.size).toBeLessThanOrEqual(16 * 1024);
  });

  it.each(['agent-limit', 'api-router', 'nucleus-degraded', 'edge-health'])('%s validates and its WIT has exactly the allowed exports and imports', async (name) => {
    const bytes = component(name);
    for (const core of coreModulesOf(bytes)) expect(WebAssembly.validate(core as Uint8Array<ArrayBuffer>)).toBe(true);
    // Debug names and toolchain versions are stripped, from the component and its core modules.
    for (const name of ['component-name', 'producers']) expect(Buffer.from(bytes).includes(name)).toBe(false);
    const wit = await witOf(bytes);
    const exports = [...wit.matchAll(/^\s*export ([^;]+);/gm)].map((m) => m[1]).sort();
    const imports = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => m[1]);
    // Only sensors tick: they alone export `sense`.
    expect(exports).toEqual([...(name === 'nucleus-degraded' ? ['kgents:reflex/sense@0.1.0'] : []), 'kgents:reflex/decide@0.1.0', 'wasi:http/incoming-handler@0.2.0'].sort());
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i).toMatch(ALLOWED_IMPORTS);
    // Only reflexes that can send a request carry the outgoing half of wasi:http.
    expect(imports.includes('wasi:http/outgoing-handler@0.2.0')).toBe(name !== 'nucleus-degraded');
  });

  it.each(['agent-limit', 'api-router', 'nucleus-degraded', 'edge-health'])('%s: its reflex module imports by short names, each a function of an interface the component imports', async (name) => {
    const bytes = component(name);
    const wit = await witOf(bytes);
    const all = WebAssembly.Module.imports((await compileReflex(bytes)).reflex);
    // Its memory comes from the heap module; everything else is a function of a WASI interface.
    expect(all.filter((i) => i.kind !== 'function')).toEqual([{ module: HEAP_MODULE.module, name: HEAP_MODULE.memory, kind: 'memory' }]);
    const imports = all.filter((i) => i.kind === 'function');
    expect(imports.length).toBeGreaterThan(3);
    for (const short of imports) {
      expect(short.module).toMatch(/^\d$/);
      const full = fullImportName(short);
      expect(full.module).not.toBe(short.module);
      expect(wit).toContain(`import ${full.module.replace(/^(wasi:[a-z]+\/[a-z-]+).*$/, '$1')}`);
    }
  });

  it.each(['agent-limit', 'api-router', 'nucleus-degraded', 'edge-health'])('%s: a new instance writes only its first 4 KB memory page (density: one touched page each)', async (name) => {
    const { reflex, heap } = await compileReflex(component(name));
    const heapExports = new WebAssembly.Instance(heap).exports;
    new WebAssembly.Instance(reflex, { ...importsFor(reflex).imports, [HEAP_MODULE.module]: heapExports });
    const memory = (heapExports[HEAP_MODULE.memory] as WebAssembly.Memory).buffer;
    const written = new Uint8Array(memory);
    expect(written.subarray(0, 4096).some((b) => b !== 0)).toBe(true);
    expect(written.subarray(4096).some((b) => b !== 0)).toBe(false);
  });
});

describe('decide through jco glue', () => {
  it('rate limit: admits exactly burst, refuses with the right Retry-After, refills at the GCRA rate', async () => {
    let now = 1_700_000_000_000;
    const kv = new Map<string, Uint8Array>();
    const reflex = await instantiateThroughGlue(component('agent-limit'), { kv, nowMs: () => now });
    const call = () => decodeDecision(reflex.decide(request('/v1/agents/a', [['x-agent-id', 'a1']])));
    const first = Array.from({ length: 10 }, call);
    expect(first.every((d) => d.action === 'forward' && d.target === 'http://api-router.spin.internal')).toBe(true);
    const refused = call();
    expect(refused).toMatchObject({ action: 'respond', status: 429 });
    if (refused.action !== 'respond') throw new Error('unreachable');
    expect(Object.fromEntries(refused.headers)).toMatchObject({ 'retry-after': '1', 'ratelimit-policy': '"agent-limit";q=10;w=10', ratelimit: '"agent-limit";r=0;t=1' });
    // 60 per minute = one every second: half a second is not enough, a full second is.
    now += 500;
    expect(call().action).toBe('respond');
    now += 500;
    expect(call().action).toBe('forward');
    expect(call().action).toBe('respond');
    // After 10 s of silence the whole burst is back.
    now += 10_000;
    expect(Array.from({ length: 11 }, call).map((d) => d.action)).toEqual([...Array(10).fill('forward'), 'respond']);
  });

  it('rate limit: fails closed with 503 when the store is down', async () => {
    let down = false;
    const reflex = await instantiateThroughGlue(component('agent-limit'), { kv: new Map(), storeDown: () => down });
    down = true;
    expect(decodeDecision(reflex.decide(request('/v1/agents/a', [['x-agent-id', 'a1']])))).toMatchObject({ action: 'respond', status: 503 });
  });

  it('router: picks the first matching rule, answers fixed rules, and falls back', async () => {
    const kv = new Map<string, Uint8Array>();
    const reflex = await instantiateThroughGlue(component('api-router'), { kv, variables: new Map([['nucleus_url', 'http://nucleus:8081']]) });
    const decide = (path: string, method = 'GET') => decodeDecision(reflex.decide(request(path, [], method)));
    expect(decide('/v1/chat/completions', 'POST')).toEqual({ action: 'forward', target: 'http://nucleus:8081', headers: [] });
    expect(decide('/v1/agents/triage/invoke', 'POST')).toMatchObject({ action: 'forward', target: 'http://nucleus:8081' });
    expect(decide('/v1/chatter')).toMatchObject({ action: 'respond', status: 404 });
    expect(decide('/healthz')).toMatchObject({ action: 'respond', status: 200, body: '{"status":"ok"}' });
    expect(decide('/healthz', 'POST')).toMatchObject({ action: 'respond', status: 404 });
    // A reflex that does not sense has nothing to tick.
    expect(reflex.tick).toBeUndefined();
    kv.set('flag/degraded', new TextEncoder().encode('1'));
    const shed = decide('/v1/chat/completions');
    expect(shed).toMatchObject({ action: 'respond', status: 503 });
    if (shed.action === 'respond') expect(Object.fromEntries(shed.headers)['retry-after']).toBe('5');
  });

  it('sensor: rises above 0.7, holds between the levels, falls under 0.3 (hysteresis)', async () => {
    let now = 1_700_000_000_000;
    const kv = new Map<string, Uint8Array>();
    const reflex = await instantiateThroughGlue(component('nucleus-degraded'), { kv, nowMs: () => now });
    const deposit = (intensity: number, target: string | null = 'nucleus') => {
      const line = encodeDeposit({ id: `d${now}`, type: 'WARNING', source: 't', target, intensity, halfLifeMs: 10_000, emittedAtMs: now, expiresAtMs: 0, payload: { why: 'test' } });
      const old = kv.get('pheromone/WARNING') ?? new Uint8Array();
      kv.set('pheromone/WARNING', new Uint8Array([...old, ...new TextEncoder().encode(line)]));
    };
    const tick = () => decodeTick(reflex.tick!());
    deposit(0.5);
    deposit(0.4, 'someone-else');
    expect(tick()).toEqual({ level: 0.5, events: [] });
    deposit(0.3, null); // broadcast counts too
    const risen = tick();
    expect(risen.level).toBeCloseTo(0.8, 6);
    expect(risen.events).toEqual([{ kind: 'raised', a: 'degraded', b: '' }]);
    expect(new TextDecoder().decode(kv.get('flag/degraded'))).toBe('1');
    expect(new TextDecoder().decode(kv.get('pheromone/STATE'))).toContain(' 1 60000 0 nucleus {"id":"nucleus-degraded-');
    now += 10_000; // one half-life: 0.4, between the levels: the flag holds
    expect(tick()).toMatchObject({ level: expect.closeTo(0.4, 6), events: [] });
    now += 10_000; // 0.2: below fall
    expect(tick().events).toEqual([{ kind: 'lowered', a: 'degraded', b: '' }]);
    expect(kv.has('flag/degraded')).toBe(false);
  });

  it('health: asks for probes, then reports the store and the upstream', async () => {
    const reflex = await instantiateThroughGlue(component('edge-health'), { kv: new Map(), variables: new Map([['nucleus_url', 'http://nucleus:8081']]) });
    expect(decodeDecision(reflex.decide(request('/_reflexes/health')))).toEqual({ action: 'probe', urls: ['http://nucleus:8081/healthz'] });
    const down = decodeDecision(reflex.decide(request('/_reflexes/health', [['kgents-probe-0', '0']])));
    expect(down).toMatchObject({ action: 'respond', status: 503 });
    if (down.action === 'respond') expect(JSON.parse(down.body)).toEqual({ status: 'fail', reflex: 'edge-health', checks: [{ name: 'kv', ok: true }, { name: 'upstream:nucleus', ok: false, status: 0 }] });
  });
});
