import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram } from '../common/hot-metrics.ts';

/** The host's Prometheus metrics, on a registry of its own so several hosts can share a process. */
export function createHostMetrics(instances: () => Record<string, number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kgents_host_' });
  const requests = new HotCounter(registry, 'kgents_requests_total', 'HTTP requests served, by reflex and status', ['reflex', 'status']);
  const decisions = new HotCounter(registry, 'kgents_decisions_total', 'Reflex decisions, by outcome (respond, forward, chain, probe, trap)', ['reflex', 'outcome']);
  const latency = new HotHistogram(registry, 'kgents_request_duration_seconds', 'End-to-end request latency in the host, by reflex', ['reflex'], [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]);
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
