import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A counter on the request path. prom-client hashes and validates the labels on every inc()
 * and copies its list of values; with three of those per request, the reflex chain served about
 * 2 % fewer requests (A/B with bench/host.bench.ts's chain). Counts are kept in a map by label
 * values and handed to prom-client when it collects, so scrapes see an ordinary counter.
 */
export class HotCounter {
  private readonly counts = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: [string, string]) {
    const counts = this.counts;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of counts.values()) this.inc(labels, value);
      },
    });
  }

  inc(first: string, second: string): void {
    const key = `${first}\0${second}`;
    const entry = this.counts.get(key);
    if (entry) entry.value++;
    else this.counts.set(key, { labels: { [this.labelNames[0]]: first, [this.labelNames[1]]: second }, value: 1 });
  }
}

/** The host's Prometheus metrics, on a registry of its own so several hosts can share a process. */
export function createHostMetrics(instances: () => Record<string, number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kgents_host_' });
  const requests = new HotCounter(registry, 'kgents_requests_total', 'HTTP requests served, by reflex and status', ['reflex', 'status']);
  const decisions = new HotCounter(registry, 'kgents_decisions_total', 'Reflex decisions, by outcome (respond, forward, chain, probe, trap)', ['reflex', 'outcome']);
  const latency = new Histogram({
    name: 'kgents_request_duration_seconds',
    help: 'End-to-end request latency in the host, by reflex',
    labelNames: ['reflex'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'kgents_reflex_instances',
    help: 'Live Wasm instances, by reflex',
    labelNames: ['reflex'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reflex, n] of Object.entries(instances())) this.set({ reflex }, n);
    },
  });
  const tickJitter = new Histogram({
    name: 'kgents_sensor_tick_jitter_seconds',
    help: 'How late a sensor tick started against its schedule',
    labelNames: ['reflex'],
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const ticksSkipped = new Counter({ name: 'kgents_sensor_ticks_skipped_total', help: 'Ticks skipped because the previous one was still running', labelNames: ['reflex'], registers: [registry] });
  const traps = new Counter({ name: 'kgents_reflex_traps_total', help: 'Reflex calls stopped (fuel or memory exhausted, trap)', labelNames: ['reflex'], registers: [registry] });
  const outboundDenied = new Counter({ name: 'kgents_outbound_denied_total', help: 'Outbound requests refused by allowed_outbound_hosts', labelNames: ['reflex'], registers: [registry] });
  const webhookFailures = new Counter({ name: 'kgents_sensor_webhook_failures_total', help: 'Sensor webhook calls that failed (unreachable, timeout, non-2xx)', labelNames: ['reflex'], registers: [registry] });
  const stateSwept = new Counter({ name: 'kgents_rate_limit_state_swept_total', help: 'Rate-limit state entries deleted once they meant nothing any more', registers: [registry] });
  return { registry, requests, decisions, latency, tickJitter, ticksSkipped, traps, outboundDenied, webhookFailures, stateSwept };
}

export type HostMetrics = ReturnType<typeof createHostMetrics>;
