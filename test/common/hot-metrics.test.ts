import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from '../../common/hot-metrics.ts';

describe('HotCounter', () => {
  it('scrapes as a Prometheus counter with exact counts, and a second scrape does not count twice', async () => {
    const registry = new Registry();
    const counter = new HotCounter(registry, 'test_total', 'a test counter', ['reflex', 'outcome']);
    for (let i = 0; i < 3; i++) counter.inc({ reflex: 'limit', outcome: 'chain' });
    counter.inc({ reflex: 'router', outcome: 'respond' }, 5);
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await registry.metrics();
      expect(text).toContain('# TYPE test_total counter');
      expect(text).toContain('test_total{reflex="limit",outcome="chain"} 3');
      expect(text).toContain('test_total{reflex="router",outcome="respond"} 5');
    }
    counter.inc({ reflex: 'limit', outcome: 'chain' });
    expect(await registry.metrics()).toContain('test_total{reflex="limit",outcome="chain"} 4');
  });

  it('keeps its own copy of the labels: a caller that reuses its object changes no series', async () => {
    const registry = new Registry();
    const counter = new HotCounter(registry, 'reuse_total', 'reused labels', ['model', 'backend']);
    const labels = { model: 'm', backend: 'none' };
    counter.inc(labels);
    labels.backend = 'upstream';
    counter.inc(labels);
    const text = await registry.metrics();
    expect(text).toContain('reuse_total{model="m",backend="none"} 1');
    expect(text).toContain('reuse_total{model="m",backend="upstream"} 1');
  });
});

describe('HotHistogram', () => {
  it('scrapes exactly as a prom-client histogram fed the same values', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const values = [0, 0.0005, 0.001, 0.004, 0.01, 0.05, 0.5, 1, 3, 250];
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'lat_seconds', help: 'latency', labelNames: ['model', 'backend'], buckets, registers: [theirs] });
    const hot = new HotHistogram(ours, 'lat_seconds', 'latency', ['model', 'backend'], buckets);
    values.forEach((v, i) => {
      const labels = { model: i % 2 ? 'a' : 'b "quoted"', backend: 'x' };
      reference.observe(labels, v);
      hot.observe(labels, v);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client's own values also carry an exemplar field, empty without exemplars on.
    const withoutExemplars = async (registry: Registry) => (await registry.getMetricsAsJSON()).map((m) => ({ ...m, values: m.values.map((value) => ({ ...value, exemplar: undefined })) }));
    expect(await withoutExemplars(ours)).toEqual(await withoutExemplars(theirs));
  });

  it('starts over when the registry resets its metrics', async () => {
    const registry = new Registry();
    const hot = new HotHistogram(registry, 'r_seconds', 'r', ['reflex'], [1]);
    hot.observe({ reflex: 'a' }, 0.5);
    registry.resetMetrics();
    hot.observe({ reflex: 'a' }, 2);
    const text = await registry.metrics();
    expect(text).toContain('r_seconds_bucket{le="1",reflex="a"} 0');
    expect(text).toContain('r_seconds_count{reflex="a"} 1');
  });
});
