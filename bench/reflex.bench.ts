/**
 * Issue 2: for each shipped example, its component size, build time, instantiate time, and
 * decide time through jco's glue and through the host's raw WebAssembly path, each next to a
 * plain-JS implementation of the same decision measured in the same run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRequest, type ReflexRequest } from '../compiler/abi.ts';
import { buildApp } from '../compiler/build.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { encodeDeposit } from '../common/pheromone.ts';
import { compileReflex } from '../cytoplasm/wasm/extract.ts';
import { ReflexInstance } from '../cytoplasm/wasm/instance.ts';
import { MemoryView } from '../cytoplasm/wasm/kv-view.ts';
import { instantiateThroughGlue } from '../test/support/transpiled-reflex.ts';
import { REPO_ROOT, scratchProject } from '../test/support/tmp.ts';
import { jsAgentLimit, jsApiRouter, jsHealth, jsSensor } from './support/js-baselines.ts';
import { printTable, summarize, timeSync } from './support/stats.ts';

const dist = join(scratchProject('bench-reflex'), 'dist');
const result = await buildApp({ root: REPO_ROOT, outDir: dist, force: true });

const now = Date.now;
const kv = new MemoryKv();
const glueKv = new Map<string, Uint8Array>();
const variables = new Map([['nucleus_url', 'http://127.0.0.1:8081']]);
const state = { kv: new MemoryView(kv), stores: ['default'], variables, nowMs: now };

// A field of 100 live WARNING deposits for the sensor to read on every tick.
let field = '';
for (let i = 0; i < 100; i++) field += encodeDeposit({ id: `d${i}`, type: 'WARNING', source: 'bench', target: i % 2 ? 'nucleus' : null, intensity: 0.001, halfLifeMs: 3_600_000, emittedAtMs: Date.now(), expiresAtMs: 0, payload: null });
await kv.set('pheromone/WARNING', new TextEncoder().encode(field));
glueKv.set('pheromone/WARNING', new TextEncoder().encode(field));

const requests: Record<string, ReflexRequest> = {
  'agent-limit': { method: 'POST', path: '/v1/agents/triage/invoke', query: '', client: '127.0.0.1', headers: [['x-agent-id', 'bench']] },
  'api-router': { method: 'POST', path: '/v1/agents/triage/invoke', query: '', client: '127.0.0.1', headers: [] },
  'edge-health': { method: 'GET', path: '/_reflexes/health', query: '', client: '127.0.0.1', headers: [['kgents-probe-0', '200']] },
};
const jsState = new Map<string, number>();
const jsFlags = new Map<string, string>();
const baselines: Record<string, () => unknown> = {
  'agent-limit': () => jsAgentLimit(jsState, now)(requests['agent-limit']),
  'api-router': () => jsApiRouter(jsFlags, 'http://127.0.0.1:8081')(requests['api-router']),
  'nucleus-degraded': () => jsSensor(() => field, new Map(), now)(),
  'edge-health': () => jsHealth(() => true)(requests['edge-health']),
};

const rows: (string | number)[][] = [];
for (const reflex of result.manifest.reflexes) {
  const bytes = new Uint8Array(await readFile(join(dist, reflex.component)));
  const compiled = await compileReflex(bytes);
  const instantiate = summarize(timeSync(() => new ReflexInstance(compiled), { iterations: 2000, batch: 10, warmup: 200 }));
  const raw = new ReflexInstance(compiled);
  const glue = await instantiateThroughGlue(bytes, { kv: glueKv, variables, nowMs: now });
  const isSensor = reflex.kind === 'pheromone-sensor';
  const encoded = isSensor ? null : encodeRequest(requests[reflex.name]);
  const rawCall = isSensor ? () => raw.tick(state) : () => raw.decide(requests[reflex.name], state);
  const glueCall = isSensor ? () => glue.tick!() : () => glue.decide(encoded!);
  const js = summarize(timeSync(baselines[reflex.name]));
  const rawT = summarize(timeSync(rawCall));
  const glueT = summarize(timeSync(glueCall, { iterations: 5000, batch: 50, warmup: 500 }));
  rows.push([
    reflex.name,
    `${(reflex.size / 1024).toFixed(1)} KB`,
    `${reflex.buildMs} ms`,
    instantiate.median,
    js.median,
    rawT.median,
    rawT.p99,
    `${(rawT.median / js.median).toFixed(1)}x`,
    glueT.median,
    `${(glueT.median / js.median).toFixed(1)}x`,
  ]);
}
printTable(
  'Reflex components (times in microseconds; goal: size <= 16 KB; ratios are Wasm / plain JS in this run)',
  ['reflex', 'size', 'build', 'instantiate us', 'plain JS us', 'raw decide us', 'raw p99 us', 'raw / JS', 'jco glue us', 'glue / JS'],
  rows,
);
