import type { ReflexSpec } from '../spec/schema.ts';
import { entrySource, type KindBody } from './entry.ts';
import { healthBody, healthReads } from './health.ts';
import { rateLimitBody, rateLimitReads } from './rate-limit.ts';
import { routerBody, routerReads } from './router.ts';
import { sensorBody } from './sensor.ts';

export { EXPORT_RENAMES, METERED_EXPORTS } from './entry.ts';

/** What the host must hand to `decide`: only these headers, and the body only when read. */
export interface Reads {
  headers: string[];
  body: boolean;
}

function kindBody(spec: ReflexSpec): KindBody {
  switch (spec.kind) {
    case 'rate-limit':
      return rateLimitBody(spec);
    case 'router':
      return routerBody(spec);
    case 'pheromone-sensor':
      return sensorBody(spec);
    case 'health':
      return healthBody(spec);
  }
}

export function generateAssemblyScript(spec: ReflexSpec, file: string, compilerVersion: string): string {
  return entrySource(spec, file, compilerVersion, kindBody(spec), readsOf(spec).body);
}

export function readsOf(spec: ReflexSpec): Reads {
  switch (spec.kind) {
    case 'rate-limit':
      return { headers: rateLimitReads(spec), body: false };
    case 'router':
      return routerReads(spec);
    case 'pheromone-sensor':
      return { headers: [], body: false };
    case 'health':
      return { headers: healthReads(spec), body: false };
  }
}
