// Rate limiting over wasi:keyvalue. GCRA keeps one number per key (the theoretical arrival
// time, in microseconds) and updates it with compare-and-swap, so replicas sharing a store
// share the limit. Fixed windows use the store's atomic increment.
import { Bytes, ceilDiv, parseI64, parseI64At } from './abi';
import { Decision, Request, respond } from './codec';
import { bucket, CasUpdate, kvCas, kvIncrement, nowMicros, storeFailed } from './wasi';

export const KEY_HEADER: i32 = 0;
export const KEY_CLIENT: i32 = 1;
export const KEY_PATH_SEGMENT: i32 = 2;
export const KEY_CONSTANT: i32 = 3;

export class RateLimitConfig {
  name: string = '';
  store: string = 'default';
  gcra: bool = true;
  rate: i64 = 1;
  periodMicros: i64 = 1_000_000;
  burst: i64 = 1;
  keyKind: i32 = KEY_CONSTANT;
  /** Header name, path segment index (as text), or the constant. */
  keyArg: string = '';
  /** Header that carries the cost; empty = every request costs 1. */
  costHeader: string = '';
  maxCost: i64 = 1_000_000;
  failOpen: bool = false;
  /** The RateLimit-Policy field value, fixed at build time. */
  policy: string = '';
}

export class Verdict {
  allowed: bool = true;
  remaining: i64 = 0;
  resetSeconds: i64 = 0;
  retryAfterSeconds: i64 = 0;
  storeDown: bool = false;
}

function clientKey(req: Request, cfg: RateLimitConfig): string {
  if (cfg.keyKind == KEY_HEADER) {
    const v = req.header(cfg.keyArg);
    return v === null ? '-' : v;
  }
  if (cfg.keyKind == KEY_CLIENT) return req.client;
  if (cfg.keyKind == KEY_PATH_SEGMENT) {
    const segments = req.path.split('/');
    const index = <i32>parseI64(cfg.keyArg) + 1; // path starts with '/'
    return index < segments.length ? segments[index] : '-';
  }
  return cfg.keyArg;
}

function requestCost(req: Request, cfg: RateLimitConfig): i64 {
  if (cfg.costHeader.length == 0) return 1;
  const v = req.header(cfg.costHeader);
  if (v === null) return 1;
  const n = parseI64(v);
  return n < 1 ? 1 : n > cfg.maxCost ? cfg.maxCost : n;
}

class GcraUpdate extends CasUpdate {
  verdict: Verdict = new Verdict();
  constructor(public now: i64, public interval: i64, public burst: i64, public cost: i64) {
    super();
  }
  next(current: Bytes | null): string | null {
    const stored = current === null ? 0 : parseI64At(current.ptr, current.len);
    const tat = stored > this.now ? stored : this.now;
    const newTat = tat + this.interval * this.cost;
    const allowAt = newTat - this.interval * this.burst;
    const v = this.verdict;
    if (this.now < allowAt) {
      v.allowed = false;
      v.remaining = 0;
      v.retryAfterSeconds = ceilDiv(allowAt - this.now, 1_000_000);
      v.resetSeconds = ceilDiv(tat - this.now, 1_000_000);
      return null;
    }
    v.allowed = true;
    v.remaining = (this.now - allowAt) / this.interval;
    v.resetSeconds = ceilDiv(newTat - this.now, 1_000_000);
    return newTat.toString();
  }
}

export function checkRateLimit(req: Request, cfg: RateLimitConfig): Verdict {
  const b = bucket(cfg.store);
  const key = 'rl/' + cfg.name + '/' + clientKey(req, cfg);
  const cost = requestCost(req, cfg);
  const now = nowMicros();
  if (cfg.gcra) {
    // At least 1 us between requests: rates above a million per second are treated as one per microsecond.
    const interval = cfg.periodMicros / cfg.rate;
    const update = new GcraUpdate(now, interval > 0 ? interval : 1, cfg.burst, cost);
    const ok = kvCas(b, key, update);
    if (!ok || storeFailed) {
      const down = new Verdict();
      down.storeDown = true;
      down.allowed = cfg.failOpen;
      return down;
    }
    return update.verdict;
  }
  const window = now / cfg.periodMicros;
  const count = kvIncrement(b, key + '/' + window.toString(), cost);
  const v = new Verdict();
  if (count == i64.MIN_VALUE) {
    v.storeDown = true;
    v.allowed = cfg.failOpen;
    return v;
  }
  const windowEnd = (window + 1) * cfg.periodMicros;
  v.allowed = count <= cfg.rate;
  v.remaining = v.allowed ? cfg.rate - count : 0;
  v.resetSeconds = ceilDiv(windowEnd - now, 1_000_000);
  v.retryAfterSeconds = v.resetSeconds;
  return v;
}

/** IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): policy and current state. */
export function addRateLimitHeaders(d: Decision, cfg: RateLimitConfig, v: Verdict): void {
  d.header('ratelimit-policy', cfg.policy);
  d.header('ratelimit', '"' + cfg.name + '";r=' + v.remaining.toString() + ';t=' + v.resetSeconds.toString());
}

export function tooManyRequests(cfg: RateLimitConfig, v: Verdict): Decision {
  const d = respond(429, 'application/json', '{"error":{"code":"rate_limited","message":"rate limit exceeded","retry_after":' + v.retryAfterSeconds.toString() + '}}');
  d.header('retry-after', v.retryAfterSeconds.toString());
  addRateLimitHeaders(d, cfg, v);
  return d;
}

export function storeUnavailable(): Decision {
  const d = respond(503, 'application/json', '{"error":{"code":"store_unavailable","message":"rate-limit state is unreachable; failing closed"}}');
  d.header('retry-after', '1');
  return d;
}
