/**
 * Issue 5: deposit and sense throughput, memory store against a real Redis, and sensing over
 * 10,000 live deposits (goal: p99 <= 1 ms in memory).
 */
import { MemoryKv } from '../common/kv/memory.ts';
import { RedisKv } from '../common/kv/redis.ts';
import type { KvStore } from '../common/kv/index.ts';
import { PheromoneField } from '../nucleus/pheromones/field.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { printTable, summarize, timeAsync } from './support/stats.ts';

const redis = await RedisServer.start();
const rows: (string | number)[][] = [];
const stores: [string, () => Promise<KvStore>][] = [
  ['memory', async () => new MemoryKv()],
  ['redis', async () => {
    const kv = new RedisKv(redis.url);
    await kv.ready();
    return kv;
  }],
];
let memoryDeposit = 0;
for (const [name, open] of stores) {
  const kv = await open();
  const field = new PheromoneField(kv);
  let i = 0;
  const deposit = summarize(await timeAsync(() => field.deposit({ type: 'WARNING', source: `s${i++ % 50}`, target: i % 3 ? 'nucleus' : null, intensity: 0.5, halfLife: '1h' }), { iterations: 9_800, warmup: 200 }));
  // The field now holds 10,000 live deposits: sense the strongest 100 for one target.
  const sense = summarize(await timeAsync(() => field.sense({ type: 'WARNING', target: 'nucleus', limit: 100 }), { iterations: 2_000, warmup: 100 }));
  const senseCold = summarize(await timeAsync(() => new PheromoneField(kv).sense({ type: 'WARNING', target: 'nucleus', limit: 100 }), { iterations: 50, warmup: 5 }));
  if (name === 'memory') memoryDeposit = deposit.median;
  rows.push([name, deposit.median, deposit.p99, Math.round(1e6 / deposit.median), sense.median, sense.p99, senseCold.median, (deposit.median / memoryDeposit).toFixed(1)]);
  await kv.close();
}
printTable(
  'Pheromone field: deposit and sense over 10,000 live deposits (us; goal: sense p99 <= 1000 us in memory)',
  ['store', 'deposit median', 'deposit p99', 'deposits/s (1 writer)', 'sense median', 'sense p99', 'sense, cold reader', 'deposit vs memory'],
  rows,
);
await redis.stop();
