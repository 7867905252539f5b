/**
 * Issue 3: the embedded host.
 *   1. cold start and memory: instantiate time and memory per instance, raw host vs a container's seed figures
 *   2. density: 50,000 live instances in one process (child with --disable-wasm-trap-handler), RSS
 *   3. HTTP: rate-limit + router chain through the host vs a bare Hono route with the same answer
 *      (autocannon), and the bare route burning a fixed few µs per request, to show what CPU costs here;
 *      each server's CPU per request too (Linux), the cost the ratio comes from
 *   4. stores: the same chain on the memory store and on a real Redis
 *   5. sensor jitter: 1,000 sensors at every 100ms
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApp } from '../compiler/build.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { createLogger } from '../common/log.ts';
import { compileReflex } from '../cytoplasm/wasm/extract.ts';
import { ReflexInstance } from '../cytoplasm/wasm/instance.ts';
import { createHostMetrics } from '../cytoplasm/metrics.ts';
import { SensorScheduler } from '../cytoplasm/sensors.ts';
import { loadReflex, readDist } from '../cytoplasm/app.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { REPO_ROOT, scratchProject } from '../test/support/tmp.ts';
import { runJson, startServerProcess } from './support/child.ts';
import { printTable, summarize } from './support/stats.ts';

const DIST = join(REPO_ROOT, '.kgents', 'bench-dist');
const LOAD = join(REPO_ROOT, 'bench', 'support', 'http-load.ts');
const TARGET = join(REPO_ROOT, 'bench', 'support', 'http-target.ts');
const quiet = createLogger('bench', 'silent');

async function coldStart() {
  const rows: (string | number)[][] = [];
  for (const reflex of (await readDist(DIST)).manifest.reflexes) {
    const compiled = await compileReflex(await readFile(join(DIST, reflex.component)));
    const samples: number[] = [];
    const keep: ReflexInstance[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = process.hrtime.bigint();
      keep.push(new ReflexInstance(compiled));
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = summarize(samples.slice(200));
    const memoryKb = keep[0].memoryBytes / 1024;
    rows.push([reflex.name, s.median, s.p99, `${(1 / s.median).toFixed(0)}x`, memoryKb, `${((2 * 1024) / memoryKb).toFixed(0)}x`]);
  }
  printTable('Cold start and memory per instance (seed: 1 ms and 2 MB per reflex; goal <= 0.05 ms, <= 128 KB)', ['reflex', 'instantiate median ms', 'p99 ms', 'vs 1 ms seed', 'linear memory KB', 'vs 2 MB seed'], rows);
}

/** Runs in a child: Node must start with --disable-wasm-trap-handler for dense memories. */
async function densityChild() {
  const reflex = (await readDist(DIST)).manifest.reflexes.find((r) => r.kind === 'router')!;
  const compiled = await compileReflex(await readFile(join(DIST, reflex.component)));
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const keep: ReflexInstance[] = [];
  const t0 = performance.now();
  for (let i = 0; i < 50_000; i++) keep.push(new ReflexInstance(compiled));
  const ms = performance.now() - t0;
  globalThis.gc?.();
  const rss = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ instances: keep.length, ms, rssMb: rss / 2 ** 20, perInstanceKb: (rss - before) / 1024 / keep.length }));
}

async function density() {
  const child = spawnSync(process.execPath, ['--disable-wasm-trap-handler', '--expose-gc', '--import', 'tsx', import.meta.filename, 'density-child'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  const r = JSON.parse(child.stdout);
  printTable('Density: one host process (seed: about 5,000 Spin apps per node, 50 containers)', ['instances', 'load time s', 'us per instance', 'RSS MB', 'RSS per instance KB', 'vs 50 containers'], [[r.instances, r.ms / 1000, (r.ms * 1000) / r.instances, r.rssMb, r.perInstanceKb, `${(r.instances / 50).toFixed(0)}x`]]);
}

/**
 * Throughput from autocannon in its own process, so the load generator does not share the
 * server's event loop; latency also from one connection at a time, to the microsecond
 * (autocannon's percentiles are whole milliseconds).
 */
async function load(server: { url: string; cpuSeconds(): number | null }, path: string, headers: Record<string, string>) {
  const url = server.url;
  await autocannon(url, path, headers, 1); // warm-up: JIT and connection pools, not measured
  const before = server.cpuSeconds();
  const throughput = await autocannon(url, path, headers, 5);
  const after = server.cpuSeconds();
  const cpuPerRequest = before === null || after === null ? '-' : ((after - before) * 1e6) / throughput.total;
  const single = await runJson<{ latencies: number[] }>(LOAD, [JSON.stringify({ url: url + path, body: {}, headers, concurrency: 1, requests: 5000 })]);
  return { ...throughput, cpuPerRequest, oneConnection: summarize(single.latencies) };
}

async function autocannon(url: string, path: string, headers: Record<string, string>, seconds: number) {
  const args = [join(REPO_ROOT, 'node_modules/autocannon/autocannon.js'), '--json', '-c', '50', '-d', String(seconds), ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url + path];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const result = JSON.parse(out);
  return { rps: result.requests.average as number, total: result.requests.total as number, p50: result.latency.p50 as number, p99: result.latency.p99 as number, non2xx: result.non2xx as number };
}

/** A rate limit that admits everything, chained to a router that answers itself: both reflexes run on every request. */
const CHAIN_SPECS = {
  'limit.reflex.ts': `export default { kind: 'rate-limit', name: 'bench-limit', description: 'admits all', route: '/api/...', key: { from: 'header', name: 'x-agent-id' }, rate: 1000000000, period: '1s', burst: 1000000000, next: 'bench-router' };`,
  'router.reflex.ts': `export default { kind: 'router', name: 'bench-router', description: 'answers', rules: [{ match: { path: { prefix: '/api' } }, action: { respond: { status: 200, body: { ok: true } } } }], fallback: { respond: { status: 404 } } };`,
};

/** Busy work per request for the calibration rows: what the machine charges for a few µs of CPU. */
const CALIBRATION_US = [2, 8];

async function http() {
  const root = scratchProject('bench-chain');
  await mkdir(join(root, 'reflexes'));
  for (const [file, text] of Object.entries(CHAIN_SPECS)) await writeFile(join(root, 'reflexes', file), text);
  const chainDist = join(root, 'dist');
  await buildApp({ root, outDir: chainDist });
  const redis = await RedisServer.start();
  // The same answer as the chain's, headers included: the rate limit's fields and the JSON body.
  const headers = { ratelimit: '"bench-limit";r=999999999;t=1', 'ratelimit-policy': '"bench-limit";q=1000000000;w=1' };
  const targets: { label: string; store: string; target: object; loadHeaders: Record<string, string> }[] = [
    { label: 'bare Hono route (baseline)', store: 'none', target: { kind: 'bare', headers, busyUs: 0 }, loadHeaders: {} },
    { label: 'bare Hono route, on kgents\' listener', store: 'none', target: { kind: 'bare', headers, busyUs: 0, kgentsListener: true }, loadHeaders: {} },
    ...CALIBRATION_US.map((busyUs) => ({ label: `bare route + ${busyUs} us CPU (calibration)`, store: 'none', target: { kind: 'bare', headers, busyUs }, loadHeaders: {} })),
    { label: 'rate-limit + router chain (memory)', store: 'memory', target: { kind: 'chain', distDir: chainDist }, loadHeaders: { 'x-agent-id': 'bench' } },
    { label: 'rate-limit + router chain (redis)', store: 'redis', target: { kind: 'chain', distDir: chainDist, redisUrl: redis.url }, loadHeaders: { 'x-agent-id': 'bench' } },
  ];
  const rows: (string | number)[][] = [];
  let baselineRps = 0;
  for (const t of targets) {
    const server = await startServerProcess(TARGET, [JSON.stringify(t.target)]);
    const r = await load(server, '/api/x', t.loadHeaders);
    await server.close();
    baselineRps ||= r.rps;
    rows.push([t.label, t.store, r.rps, r.p50, r.p99, r.oneConnection.median, r.oneConnection.p99, typeof r.cpuPerRequest === 'number' ? r.cpuPerRequest.toFixed(1) : r.cpuPerRequest, (r.rps / baselineRps).toFixed(2)]);
  }
  printTable('HTTP throughput, 50 connections x 5 s, and latency on one connection; each server in its own process (goal: chain >= 0.80 of the bare route)', ['target', 'store', 'req/s', 'p50 ms', 'p99 ms', '1 conn p50 us', '1 conn p99 us', 'server CPU us/req', 'ratio vs bare'], rows);
  await redis.stop();
}

async function jitter() {
  const { manifest, spin } = await readDist(DIST);
  const sensorReflex = manifest.reflexes.find((r) => r.kind === 'pheromone-sensor')!;
  const kv = new MemoryKv();
  const metrics = createHostMetrics(() => ({}));
  const loaded = [];
  for (let i = 0; i < 1000; i++) {
    const reflex = { ...sensorReflex, name: `sensor-${i}`, spec: { ...sensorReflex.spec, every: 100 } };
    loaded.push(await loadReflex(DIST, reflex, spin, new Map(), { kv, nowMs: Date.now }));
  }
  const scheduler = new SensorScheduler(metrics, quiet, () => {});
  scheduler.set(loaded);
  scheduler.start();
  await new Promise((r) => setTimeout(r, 5000));
  scheduler.stop();
  const data = await metrics.tickJitter.get();
  const labels = (v: { labels: object }) => v.labels as Record<string, string | number>;
  const buckets = data.values.filter((v) => v.metricName?.endsWith('_bucket') && labels(v).le !== undefined);
  const count = data.values.filter((v) => v.metricName?.endsWith('_count')).reduce((sum, v) => sum + v.value, 0);
  // prom-client labels the last bucket "+Inf", which Number() reads as NaN (and NaN breaks the sort).
  const upperBound = (b: { labels: object }) => (labels(b).le === '+Inf' ? Infinity : Number(labels(b).le));
  const perLe = new Map<number, number>();
  for (const b of buckets) perLe.set(upperBound(b), (perLe.get(upperBound(b)) ?? 0) + b.value);
  const les = [...perLe.keys()].sort((a, b) => a - b);
  const at = (q: number) => les.find((le) => perLe.get(le)! >= q * count) ?? Infinity;
  const skipped = (await metrics.ticksSkipped.get()).values.reduce((s, v) => s + v.value, 0);
  printTable('Sensor tick jitter, 1,000 sensors at every 100ms for 5 s (goal: p99 <= 2 ms)', ['ticks', 'p50 <= ms', 'p99 <= ms', 'skipped'], [[count, at(0.5) * 1000, at(0.99) * 1000, skipped]]);
}

if (process.argv[2] === 'density-child') {
  await densityChild();
} else {
  process.stderr.write('building the shipped reflexes...\n');
  await buildApp({ root: REPO_ROOT, outDir: DIST, force: false });
  const only = process.argv[2];
  if (!only || only === 'cold') await coldStart();
  if (!only || only === 'density') await density();
  if (!only || only === 'http') await http();
  if (!only || only === 'jitter') await jitter();
}
