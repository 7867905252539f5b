import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter } from '../../cytoplasm/metrics.ts';

describe('HotCounter', () => {
  it('scrapes as a Prometheus counter with exact counts, and a second scrape does not count twice', async () => {
    const registry = new Registry();
    const counter = new HotCounter(registry, 'test_total', 'a test counter', ['reflex', 'outcome']);
    for (let i = 0; i < 3; i++) counter.inc('limit', 'chain');
    counter.inc('router', 'respond');
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await registry.metrics();
      expect(text).toContain('# TYPE test_total counter');
      expect(text).toContain('test_total{reflex="limit",outcome="chain"} 3');
      expect(text).toContain('test_total{reflex="router",outcome="respond"} 1');
    }
    counter.inc('limit', 'chain');
    expect(await registry.metrics()).toContain('test_total{reflex="limit",outcome="chain"} 4');
  });
});
