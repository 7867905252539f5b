import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram } from '../../common/hot-metrics.ts';

/** Distinct model names kept as label values; any further name counts as `other`. */
export const MAX_MODEL_LABELS = 100;
const MAX_MODEL_LABEL_LENGTH = 128;

export function createMorpheusMetrics() {
  const registry = new Registry();
  const models = new Set<string>();
  /**
   * Model names come from clients, and each distinct label value is a series kept for the life
   * of the process: random names would grow memory and /metrics without bound.
   */
  const modelLabel = (model: string): string => {
    const name = model.slice(0, MAX_MODEL_LABEL_LENGTH);
    if (models.has(name)) return name;
    if (models.size >= MAX_MODEL_LABELS) return 'other';
    models.add(name);
    return name;
  };
  collectDefaultMetrics({ register: registry, prefix: 'morpheus_process_' });
  const labelNames = ['model', 'backend'] as const;
  return {
    registry,
    modelLabel,
    requests: new HotCounter(registry, 'morpheus_requests_total', 'LLM requests, by model, backend and API', [...labelNames, 'api']),
    errors: new HotCounter(registry, 'morpheus_errors_total', 'Failed requests, by model, backend and error code', [...labelNames, 'code']),
    tokensIn: new HotCounter(registry, 'morpheus_tokens_in_total', 'Prompt tokens', labelNames),
    tokensOut: new HotCounter(registry, 'morpheus_tokens_out_total', 'Completion tokens', labelNames),
    duration: new HotHistogram(registry, 'morpheus_request_duration_seconds', 'Request duration', labelNames, [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]),
    ttft: new HotHistogram(registry, 'morpheus_time_to_first_token_seconds', 'Time to the first streamed token', labelNames, [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    queueDepth: new Gauge({ name: 'morpheus_queue_depth', help: 'Requests waiting for a slot, by semaphore', labelNames: ['semaphore'], registers: [registry] }),
    inFlight: new Gauge({ name: 'morpheus_in_flight', help: 'Requests running, by semaphore', labelNames: ['semaphore'], registers: [registry] }),
  };
}
export type MorpheusMetrics = ReturnType<typeof createMorpheusMetrics>;
