/**
 * Morpheus's added latency and its throughput, against calling the same FAKE upstream directly,
 * in the same run, non-streaming and streaming, at 1 and 100 concurrent connections.
 * The fake upstream, the load generator, Morpheus and the proxy each run in their own process.
 * A bare pass-through proxy shows what one more loopback hop costs on this machine by itself,
 * and a minimal Hono + undici relay what the same stack costs with none of Morpheus's features.
 * Each server in the middle also reports the CPU it used per request (Linux), which moves less
 * with the VM's noise than latency does.
 * Goal (issue 4): added p50 <= 0.3 ms, p99 <= 1 ms.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/tmp.ts';
import { runJson, startServerProcess } from './support/child.ts';
import { printTable, summarize } from './support/stats.ts';

const LOAD = join(REPO_ROOT, 'bench', 'support', 'http-load.ts');
const FAKE = join(REPO_ROOT, 'bench', 'support', 'fake-llm-process.ts');
const PROXY = join(REPO_ROOT, 'bench', 'support', 'passthrough-proxy.ts');
const MORPHEUS = join(REPO_ROOT, 'bench', 'support', 'morpheus-process.ts');
const RELAY = join(REPO_ROOT, 'bench', 'support', 'minimal-relay.ts');

interface LoadResult {
  rps: number;
  latencies: number[];
  overheads: number[];
  errors: number;
  sent: number;
}

const upstream = await startServerProcess(FAKE);
// The cost of one more network hop on this machine, with no work done: the floor for any gateway.
const proxy = await startServerProcess(PROXY, [upstream.url]);
const relay = await startServerProcess(RELAY, [upstream.url]);
const morpheus = await startServerProcess(MORPHEUS, [upstream.url]);

const body = (stream: boolean) => ({ model: 'bench-model', messages: [{ role: 'user', content: 'hello' }], ...(stream ? { stream: true } : {}) });
const ms = (us: number) => us / 1000;

const rows: (string | number)[][] = [];
for (const concurrency of [1, 100]) {
  for (const stream of [false, true]) {
    const requests = concurrency === 1 ? 3_000 : 20_000;
    const plan = (url: string) => JSON.stringify({ url: `${url}/v1/chat/completions`, body: body(stream), concurrency, requests });
    /** The load, and the CPU the server in the middle used per request it handled (µs). */
    const measured = async (server: { url: string; cpuSeconds(): number | null }) => {
      const before = server.cpuSeconds();
      const result = await runJson<LoadResult>(LOAD, [plan(server.url)]);
      const after = server.cpuSeconds();
      const cpu = before === null || after === null ? '-' : Math.round(((after - before) * 1e6) / result.sent);
      return { ...result, cpu };
    };
    const direct = await measured(upstream);
    const hop = await measured(proxy);
    const bare = await measured(relay);
    const via = await measured(morpheus);
    const d = summarize(direct.latencies);
    const h = summarize(hop.latencies);
    const r = summarize(bare.latencies);
    const m = summarize(via.latencies);
    const own = summarize(via.overheads);
    const mode = stream ? 'stream' : 'non-stream';
    rows.push([mode, String(concurrency), 'direct (baseline)', direct.rps, ms(d.median), ms(d.p99), '-', '-', '-', '-', '1.00', direct.errors]);
    rows.push([mode, String(concurrency), 'bare node:http proxy (hop floor)', hop.rps, ms(h.median), ms(h.p99), ms(h.median - d.median), ms(h.p99 - d.p99), '-', hop.cpu, (hop.rps / direct.rps).toFixed(2), hop.errors]);
    rows.push([mode, String(concurrency), 'minimal Hono + undici relay (stack floor)', bare.rps, ms(r.median), ms(r.p99), ms(r.median - d.median), ms(r.p99 - d.p99), '-', bare.cpu, (bare.rps / direct.rps).toFixed(2), bare.errors]);
    rows.push([mode, String(concurrency), 'through Morpheus', via.rps, ms(m.median), ms(m.p99), ms(m.median - d.median), ms(m.p99 - d.p99), `${own.median.toFixed(3)} / ${own.p99.toFixed(3)}`, via.cpu, (via.rps / direct.rps).toFixed(2), via.errors]);
  }
}
printTable(
  'Morpheus vs the same fake upstream called directly (goal: added p50 <= 0.3 ms, p99 <= 1 ms)',
  ['mode', 'conns', 'target', 'req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'own overhead p50 / p99 ms (header)', 'its CPU us/req', 'throughput ratio', 'errors'],
  rows,
);
await morpheus.close();
await relay.close();
await proxy.close();
await upstream.close();
