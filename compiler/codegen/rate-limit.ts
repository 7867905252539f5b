import type { RateLimitSpec } from '../spec/schema.ts';
import { NO_TICK, type KindBody } from './entry.ts';
import { bool, chainUrl, i64, str, upstreamUrl } from './literals.ts';

const KEY_KIND = { header: 'KEY_HEADER', client: 'KEY_CLIENT', 'path-segment': 'KEY_PATH_SEGMENT', constant: 'KEY_CONSTANT' } as const;

export function rateLimitBody(spec: RateLimitSpec): KindBody {
  const key = spec.key;
  const keyArg = key.from === 'header' ? key.name : key.from === 'path-segment' ? String(key.index) : key.from === 'constant' ? key.value : '';
  const cost = spec.cost === 1 ? { header: '', max: 1 } : spec.cost;
  const failOpen = (spec.onStoreFailure ?? 'fail-closed') === 'fail-open';
  const target = spec.next ? chainUrl(spec.next) : upstreamUrl(spec.upstream!);
  const burst = spec.burst ?? spec.rate;
  const quota = spec.algorithm === 'gcra' ? burst : spec.rate;
  // The policy never changes, so it is written once here instead of formatted on every call.
  const policy = `"${spec.name}";q=${quota};w=${Math.floor(spec.period / 1000)}`;
  return {
    imports: [`import { RateLimitConfig, checkRateLimit, tooManyRequests, addRateLimitHeaders, storeUnavailable, ${KEY_KIND[key.from]} } from './ratelimit';`],
    body: `function config(): RateLimitConfig {
  const c = new RateLimitConfig();
  c.name = REFLEX;
  c.store = STORE;
  c.gcra = ${bool(spec.algorithm === 'gcra')};
  c.rate = ${i64(spec.rate)};
  c.periodMicros = ${i64(spec.period * 1000)};
  c.burst = ${i64(burst)};
  c.keyKind = ${KEY_KIND[key.from]};
  c.keyArg = ${str(keyArg)};
  c.costHeader = ${str(cost.header)};
  c.maxCost = ${i64(cost.max)};
  c.failOpen = ${bool(failOpen)};
  c.policy = ${str(policy)};
  return c;
}

function decideRequest(req: Request): Decision {
  const cfg = config();
  const verdict = checkRateLimit(req, cfg);
  if (verdict.storeDown && !verdict.allowed) return storeUnavailable();
  if (!verdict.allowed) return tooManyRequests(cfg, verdict);
  const d = forward(${target});
  if (!verdict.storeDown) addRateLimitHeaders(d, cfg, verdict);
  return d;
}

${NO_TICK}`,
  };
}

/** Headers the host must pass to decide. */
export function rateLimitReads(spec: RateLimitSpec): string[] {
  const reads: string[] = [];
  if (spec.key.from === 'header') reads.push(spec.key.name);
  if (spec.cost !== 1) reads.push(spec.cost.header);
  return reads;
}
