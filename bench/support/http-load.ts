import { Agent, request } from 'node:http';

/**
 * A bounded load generator, run in its own process: `requests` POSTs of `body` to `url` over
 * `concurrency` keep-alive connections. Prints JSON: throughput, per-request latency in µs
 * (to the last byte, so a stream counts whole), and the gateway's own overhead header if any.
 */
interface LoadPlan {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  concurrency: number;
  requests: number;
}

const plan = JSON.parse(process.argv[2]) as LoadPlan;
const target = new URL(plan.url);
const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
const payload = Buffer.from(JSON.stringify(plan.body));

function once(): Promise<{ us: number; overheadMs: number | null; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...plan.headers, 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      res.resume();
      res.on('end', () => {
        const header = res.headers['x-morpheus-overhead-ms'];
        resolve({ us: Number(process.hrtime.bigint() - start) / 1000, overheadMs: header ? Number(header) : null, ok: res.statusCode === 200 });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const latencies: number[] = [];
const overheads: number[] = [];
let errors = 0;
let next = 0;
async function worker() {
  while (next++ < plan.requests) {
    const r = await once();
    latencies.push(r.us);
    if (r.overheadMs !== null) overheads.push(r.overheadMs);
    if (!r.ok) errors++;
  }
}
// Warm-up (JIT, connections), not measured.
const warmup = Math.min(500, plan.requests);
for (let i = 0; i < warmup; i++) await once();
const started = process.hrtime.bigint();
await Promise.all(Array.from({ length: plan.concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
agent.destroy();
// `sent` counts the warm-up too: what the server handled in all.
process.stdout.write(JSON.stringify({ rps: latencies.length / seconds, latencies, overheads, errors, sent: warmup + latencies.length }));
