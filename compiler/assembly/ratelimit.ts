// Rate limiting over wasi:keyvalue. GCRA keeps one number per key (the theoretical arrival
// time, in microseconds), a fixed window its end and count; both update with compare-and-swap,
// so replicas sharing a store share the limit.
import { Bytes, ceilDiv, decimal, digits, parseI64, parseI64At } from './abi';
import { Decision, Request, jsonError } from './codec';
import { bucket, CasUpdate, kvCas, nowMicros, storeFailed } from './wasi';

export class Verdict {
  allowed: bool = true;
  remaining: i64 = 0;
  resetSeconds: i64 = 0;
  retryAfterSeconds: i64 = 0;
  storeDown: bool = false;
  /** The request costs more than the limit lets in at once: no wait would make it pass. */
  tooCostly: bool = false;
}

// The generated reflex calls only the key, cost and algorithm functions its spec names, so
// the optimizer drops the others (and the store imports only they use).

/**
 * The client `proxies` hops out: X-Forwarded-For's entries (all its fields, in order), then the
 * peer, counted from the right. Entries further left are whatever the client wrote, so they count
 * only when the list is shorter than the chain of trusted proxies.
 */
export function clientBehind(req: Request, proxies: i32): string {
  let list = '';
  for (let i = 0; i < req.names.length; i++) if (req.names[i] == 'x-forwarded-for') list = list.length > 0 ? list + ',' + req.values[i] : req.values[i];
  if (list.length == 0) return req.client;
  const hops = list.split(',');
  return hops[max(hops.length - proxies, 0)].trim();
}

/** Keys longer than this are stored by their hash: a client's 9 KB header per key filled the store and the host's memory. */
const MAX_KEY_CHARS = 128;

/** The store key for a client's key: as it is when short, else `#` and its 64-bit FNV-1a hash. */
export function stateKey(prefix: string, key: string): string {
  if (key.length <= MAX_KEY_CHARS) return prefix + key;
  let hash: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < key.length; i++) {
    hash ^= <u64>key.charCodeAt(i);
    hash *= 0x100000001b3;
  }
  return prefix + '#' + digits(hash, 16);
}

export function headerKey(req: Request, name: string): string {
  const v = req.header(name);
  return v === null ? '-' : v;
}

/** Segment `index` of the path (0 is the first after the leading '/'), or '-' past the end. */
export function pathSegmentKey(path: string, index: i32): string {
  let start = 1;
  for (let i = 0; i < index; i++) {
    const slash = path.indexOf('/', start);
    if (slash < 0) return '-';
    start = slash + 1;
  }
  const end = path.indexOf('/', start);
  return path.substring(start, end < 0 ? path.length : end);
}

export function headerCost(req: Request, name: string, max: i64): i64 {
  const v = req.header(name);
  if (v === null) return 1;
  const n = parseI64(v);
  return n < 1 ? 1 : n > max ? max : n;
}

function storeDown(failOpen: bool): Verdict {
  const v = new Verdict();
  v.storeDown = true;
  v.allowed = failOpen;
  return v;
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
    if (this.cost > this.burst) {
      v.allowed = false;
      v.tooCostly = true;
      return null;
    }
    if (this.now < allowAt) {
      v.allowed = false;
      v.remaining = 0;
      v.retryAfterSeconds = ceilDiv(allowAt - this.now, 1_000_000);
      // On a refusal the RateLimit field's `t` says when more quota comes, as Retry-After does.
      v.resetSeconds = v.retryAfterSeconds;
      return null;
    }
    v.allowed = true;
    v.remaining = (this.now - allowAt) / this.interval;
    v.resetSeconds = ceilDiv(newTat - this.now, 1_000_000);
    return decimal(newTat);
  }
}

/** `interval` = period / rate in microseconds, at least 1: the build works it out. */
export function gcra(store: string, key: string, cost: i64, interval: i64, burst: i64, failOpen: bool): Verdict {
  const update = new GcraUpdate(nowMicros(), interval, burst, cost);
  const ok = kvCas(bucket(store), key, update);
  return !ok || storeFailed ? storeDown(failOpen) : update.verdict;
}

/**
 * A fixed window keeps `<window end in µs>:<count>` under one key per client: like GCRA's
 * theoretical arrival time, the value starts with the time after which it means nothing, so the
 * host can sweep stale state away (a key per window piled up one per client per period).
 */
class FixedWindowUpdate extends CasUpdate {
  verdict: Verdict = new Verdict();
  constructor(public now: i64, public periodMicros: i64, public rate: i64, public cost: i64) {
    super();
  }
  next(current: Bytes | null): string | null {
    let end: i64 = 0;
    let count: i64 = 0;
    if (current !== null) {
      end = parseI64At(current.ptr, current.len);
      let colon = 0;
      while (colon < current.len && load<u8>(current.ptr + <usize>colon) != 58) colon++;
      if (colon < current.len) count = parseI64At(current.ptr + <usize>colon + 1, current.len - colon - 1);
    }
    if (end <= this.now) {
      end = (this.now / this.periodMicros + 1) * this.periodMicros;
      count = 0;
    }
    count += this.cost;
    const v = this.verdict;
    if (this.cost > this.rate) {
      v.allowed = false;
      v.tooCostly = true;
      return null;
    }
    v.allowed = count <= this.rate;
    v.remaining = v.allowed ? this.rate - count : 0;
    v.resetSeconds = ceilDiv(end - this.now, 1_000_000);
    v.retryAfterSeconds = v.resetSeconds;
    return v.allowed ? decimal(end) + ':' + decimal(count) : null;
  }
}

export function fixedWindow(store: string, key: string, cost: i64, rate: i64, periodMicros: i64, failOpen: bool): Verdict {
  const update = new FixedWindowUpdate(nowMicros(), periodMicros, rate, cost);
  const ok = kvCas(bucket(store), key, update);
  return !ok || storeFailed ? storeDown(failOpen) : update.verdict;
}

/** IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): policy and current state. */
export function addRateLimitHeaders(d: Decision, policy: string, statePrefix: string, v: Verdict): void {
  d.header('ratelimit-policy', policy);
  d.header('ratelimit', statePrefix + decimal(v.remaining) + ';t=' + decimal(v.resetSeconds));
}

export function tooManyRequests(policy: string, statePrefix: string, v: Verdict): Decision {
  // No Retry-After: a client told to wait would wait and be refused again, for ever.
  if (v.tooCostly) {
    const d = jsonError(429, 'cost_exceeds_limit', 'this request costs more than the limit lets in at once');
    d.header('ratelimit-policy', policy);
    return d;
  }
  const d = jsonError(429, 'rate_limited', 'rate limit exceeded', ',"retry_after":' + decimal(v.retryAfterSeconds));
  d.header('retry-after', decimal(v.retryAfterSeconds));
  addRateLimitHeaders(d, policy, statePrefix, v);
  return d;
}

export function storeUnavailable(): Decision {
  const d = jsonError(503, 'store_unavailable', 'the key-value store is unreachable; failing closed');
  d.header('retry-after', '1');
  return d;
}
