import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The host's Prometheus metrics, on a registry of its own so several hosts can share a process. */
export function createHostMetrics(instances: () => Record<string, number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kgents_host_' });
  const requests = new Counter({ name: 'kgents_requests_total', help: 'HTTP requests served, by reflex and status', labelNames: ['reflex', 'status'], registers: [registry] });
  const decisions = new Counter({ name: 'kgents_decisions_total', help: 'Reflex decisions, by outcome (respond, forward, chain, probe, trap, denied)', labelNames: ['reflex', 'outcome'], registers: [registry] });
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
  return { registry, requests, decisions, latency, tickJitter, ticksSkipped, traps, outboundDenied, webhookFailures };
}

export type HostMetrics = ReturnType<typeof createHostMetrics>;
