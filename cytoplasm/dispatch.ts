import type { Decision, ReflexRequest } from '../compiler/abi.ts';
import { httpStatusOf, isKgentsError, KgentsError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { LoadedApp, LoadedReflex } from './app.ts';
import type { HostMetrics } from './metrics.ts';

const CHAIN_SUFFIX = '.spin.internal';
const MAX_CHAIN = 8;
const PROBE_TIMEOUT_MS = 2000;
/** Hop-by-hop headers are not forwarded (RFC 9110 7.6.1), nor is host (fetch sets it). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

export interface DispatchContext {
  app: () => LoadedApp;
  metrics: HostMetrics;
  logger: Logger;
  upstreamTimeoutMs: number;
}

function json(status: number, code: string, message: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'content-type': 'application/json', ...extra } });
}

function reflexRequest(reflex: LoadedReflex, method: string, url: URL, headers: Headers, client: string, body: Uint8Array | undefined, extra: [string, string][] = []): ReflexRequest {
  const wanted = reflex.reflex.reads.headers;
  const picked: [string, string][] = [];
  for (const name of wanted) {
    const value = headers.get(name);
    if (value !== null) picked.push([name, value]);
  }
  return { method, path: url.pathname, query: url.search.slice(1), client, headers: picked.concat(extra), body: reflex.reflex.reads.body ? body : undefined };
}

function withHeaders(response: Response, extra: [string, string][]): Response {
  if (extra.length === 0) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of extra) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Serves one request through the reflex on its route and whatever it chains to. */
export async function dispatch(ctx: DispatchContext, request: Request, client: string): Promise<Response> {
  const app = ctx.app();
  const url = new URL(request.url);
  const matched = app.routes.match(url.pathname);
  if (!matched) return json(404, 'not_found', `no reflex serves ${url.pathname}`);

  const needsBody = request.body !== null && [...app.reflexes.values()].some((r) => r.reflex.reads.body);
  const body = needsBody ? new Uint8Array(await request.arrayBuffer()) : undefined;
  const carried: [string, string][] = [];
  let name = matched.target;
  const started = performance.now();
  let status = 500;
  try {
    for (let hop = 0; hop < MAX_CHAIN; hop++) {
      const reflex = app.reflexes.get(name);
      if (!reflex) return json(502, 'unknown_reflex', `route points at reflex "${name}", which is not loaded`);
      const decision = await decideWithProbes(ctx, reflex, request, url, client, body);
      if (decision.action === 'respond') {
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'respond' });
        status = decision.status;
        return new Response(decision.status === 204 || decision.status === 304 ? null : decision.body, { status: decision.status, headers: [...decision.headers, ...carried] });
      }
      if (decision.action !== 'forward') throw new KgentsError('INTERNAL', `reflex ${name} asked to probe twice`);
      const target = new URL(decision.target);
      if (target.hostname.endsWith(CHAIN_SUFFIX)) {
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'chain' });
        reflex.outbound.check(decision.target);
        carried.push(...decision.headers);
        name = target.hostname.slice(0, -CHAIN_SUFFIX.length);
        continue;
      }
      ctx.metrics.decisions.inc({ reflex: name, outcome: 'forward' });
      const response = await forward(ctx, reflex, decision.target, request, url, body);
      status = response.status;
      return withHeaders(response, [...carried, ...decision.headers]);
    }
    return json(508, 'loop_detected', `reflex chain longer than ${MAX_CHAIN}`);
  } catch (error) {
    if (isKgentsError(error)) {
      if (error.code === 'OUTBOUND_DENIED') {
        ctx.metrics.outboundDenied.inc({ reflex: name });
        ctx.logger.warn({ reflex: name, target: error.details.target }, 'outbound request refused: host not in allowed_outbound_hosts');
      } else if (error.code === 'REFLEX_TRAPPED') {
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'trap' });
        ctx.logger.error({ reflex: name, err: (error.cause as Error)?.message }, 'reflex stopped');
      } else {
        ctx.logger.warn({ reflex: name, code: error.code, err: error.message }, 'request failed');
      }
      status = httpStatusOf(error);
      return json(status, error.code.toLowerCase(), error.message);
    }
    ctx.logger.error({ reflex: name, err: (error as Error).message }, 'request failed');
    return json(500, 'internal', 'internal error');
  } finally {
    ctx.metrics.requests.inc({ reflex: name, status: String(status) });
    ctx.metrics.latency.observe({ reflex: name }, (performance.now() - started) / 1000);
  }
}

async function decideWithProbes(ctx: DispatchContext, reflex: LoadedReflex, request: Request, url: URL, client: string, body: Uint8Array | undefined): Promise<Decision> {
  const t0 = performance.now();
  let decision = await reflex.runtime.decide(reflexRequest(reflex, request.method, url, request.headers, client, body));
  ctx.metrics.decideLatency.observe({ reflex: reflex.reflex.name }, (performance.now() - t0) / 1000);
  if (decision.action !== 'probe') return decision;
  ctx.metrics.decisions.inc({ reflex: reflex.reflex.name, outcome: 'probe' });
  const statuses = await Promise.all(decision.urls.map((u) => probe(reflex, u)));
  const extra = statuses.map((s, i): [string, string] => [`kgents-probe-${i}`, String(s)]);
  decision = await reflex.runtime.decide(reflexRequest(reflex, request.method, url, request.headers, client, body, extra));
  return decision;
}

async function probe(reflex: LoadedReflex, target: string): Promise<number> {
  try {
    reflex.outbound.check(target);
    const response = await fetch(target, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

async function forward(ctx: DispatchContext, reflex: LoadedReflex, base: string, request: Request, url: URL, body: Uint8Array | undefined): Promise<Response> {
  const target = reflex.outbound.check(base);
  const destination = new URL(url.pathname + url.search, target);
  // Keep any base path the upstream URL carries (e.g. http://svc/api).
  if (target.pathname !== '/') destination.pathname = target.pathname.replace(/\/$/, '') + url.pathname;
  const headers = new Headers();
  request.headers.forEach((value, key) => {
    if (!HOP_BY_HOP.has(key)) headers.set(key, value);
  });
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  try {
    // undici needs `duplex: 'half'` to stream a request body; the DOM RequestInit type lacks it.
    const init = {
      method: request.method,
      headers,
      body: hasBody ? ((body as BodyInit | undefined) ?? request.body) : undefined,
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(ctx.upstreamTimeoutMs)]),
      duplex: 'half',
    } as RequestInit;
    const response = await fetch(destination, init);
    const out = new Headers(response.headers);
    for (const h of ['content-encoding', 'content-length', 'transfer-encoding', 'connection']) out.delete(h);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: out });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new KgentsError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `upstream ${destination.origin} ${timedOut ? 'timed out' : 'is unreachable'}`, { reflex: reflex.reflex.name });
  }
}
