import { RATE_LIMIT_STATE_PREFIX } from '../../common/rate-limit-state.ts';
import type { RateLimitSpec } from '../spec/schema.ts';
import type { KindBody } from './entry.ts';
import { bool, chainUrl, i64, str, upstreamUrl } from './literals.ts';

export function rateLimitBody(spec: RateLimitSpec): KindBody {
  const failOpen = bool((spec.onStoreFailure ?? 'fail-closed') === 'fail-open');
  const target = spec.next ? chainUrl(spec.next) : upstreamUrl(spec.upstream!);
  const burst = spec.burst ?? spec.rate;
  // RateLimit-Policy's quota per window. A fixed window is one already. GCRA lets `burst` in at
  // once and refills at rate/period, so its window is the time a burst takes to refill: 60 a
  // minute with burst 10 is 10 per 10 s (10 per 60 s would tell clients a sixth of the rate).
  const quota = spec.algorithm === 'gcra' ? burst : spec.rate;
  const windowSeconds = Math.max(1, Math.ceil(spec.algorithm === 'gcra' ? (burst * spec.period) / spec.rate / 1000 : spec.period / 1000));
  const periodMicros = spec.period * 1000;
  const key = `stateKey(${str(`${RATE_LIMIT_STATE_PREFIX}${spec.name}/`)}, ${keyExpression(spec.key)})`;
  const cost = spec.cost === 1 ? '1' : `headerCost(req, ${str(spec.cost.header)}, ${i64(spec.cost.max)})`;
  // At least 1 us between requests: rates above a million per second count as one per microsecond.
  const interval = Math.max(1, Math.floor(periodMicros / spec.rate));
  const check =
    spec.algorithm === 'gcra'
      ? `gcra(STORE, ${key}, ${cost}, ${i64(interval)}, ${i64(burst)}, ${failOpen})`
      : `fixedWindow(STORE, ${key}, ${cost}, ${i64(spec.rate)}, ${i64(periodMicros)}, ${failOpen})`;
  return {
    imports: ["import { gcra, fixedWindow, clientBehind, headerKey, pathSegmentKey, headerCost, tooManyRequests, addRateLimitHeaders, storeUnavailable, stateKey } from './ratelimit';"],
    // Everything that never changes (policy, key prefix, algorithm, key source) is a literal
    // here, so the optimizer keeps only the code, and the imports, this spec uses.
    body: `const POLICY = ${str(`"${spec.name}";q=${quota};w=${windowSeconds}`)};
const STATE_PREFIX = ${str(`"${spec.name}";r=`)};

function decideRequest(req: Request): Decision {
  const verdict = ${check};
  if (verdict.storeDown && !verdict.allowed) return storeUnavailable();
  if (!verdict.allowed) return tooManyRequests(POLICY, STATE_PREFIX, verdict);
  const d = forward(${target});
  if (!verdict.storeDown) addRateLimitHeaders(d, POLICY, STATE_PREFIX, verdict);
  return d;
}`,
  };
}

function keyExpression(key: RateLimitSpec['key']): string {
  switch (key.from) {
    case 'header':
      return `headerKey(req, ${str(key.name)})`;
    case 'client':
      return key.trustedProxies > 0 ? `clientBehind(req, ${key.trustedProxies})` : 'req.client';
    case 'path-segment':
      return `pathSegmentKey(req.path, ${key.index})`;
    case 'constant':
      return str(key.value);
  }
}

/** Headers the host must pass to decide. */
export function rateLimitReads(spec: RateLimitSpec): string[] {
  const reads: string[] = [];
  if (spec.key.from === 'header') reads.push(spec.key.name);
  if (spec.key.from === 'client' && spec.key.trustedProxies > 0) reads.push('x-forwarded-for');
  if (spec.cost !== 1) reads.push(spec.cost.header);
  return reads;
}
