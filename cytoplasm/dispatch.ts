import { PROBE_FIELD, REFLEX_BODY_BYTES, type Decision, type ReflexRequest } from '../compiler/abi.ts';
import { httpStatusOf, isKgentsError, KgentsError } from '../common/errors.ts';
import { readHead, type BodyHead } from './body-head.ts';
import { parseTarget, upstreamUrl, type RequestTarget } from './request-target.ts';
import type { Logger } from '../common/log.ts';
import type { LoadedApp, LoadedReflex } from './app.ts';
import type { HostMetrics } from './metrics.ts';
import { relay, withFields, type Relayed } from './relay.ts';
import { postWebhook } from './webhook.ts';

const CHAIN_SUFFIX = '.spin.internal';
const MAX_CHAIN = 8;
const PROBE_TIMEOUT_MS = 2000;

export interface DispatchContext {
  app: () => LoadedApp;
  metrics: HostMetrics;
  logger: Logger;
  upstreamTimeoutMs: number;
}

/**
 * What dispatch needs of a request, without building a full Fetch `Request`: that costs more
 * than two reflex decisions, and is only needed when the request is forwarded.
 */
export interface IncomingCall {
  method: string;
  /** Path and query, as on the request line. */
  target: string;
  client: string;
  header(name: string): string | null;
  /** The full request (body, signal, all headers), built on first use. */
  request(): Request;
}

export function incomingFromRequest(request: Request, client: string): IncomingCall {
  const url = new URL(request.url);
  return { method: request.method, target: url.pathname + url.search, client, header: (n) => request.headers.get(n), request: () => request };
}

function json(status: number, code: string, message: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'content-type': 'application/json', ...extra } });
}

function reflexRequest(reflex: LoadedReflex, call: IncomingCall, path: string, query: string, body: BodyHead | undefined, extra: [string, string][] = []): ReflexRequest {
  const wanted = reflex.reflex.reads.headers;
  const picked: [string, string][] = [];
  for (const name of wanted) {
    // Probe results are the host's own (`extra`): a client's copy would fake a healthy upstream.
    if (name.startsWith(PROBE_FIELD)) continue;
    const value = call.header(name);
    if (value !== null && value !== undefined) picked.push([name, value]);
  }
  return { method: call.method, path, query, client: call.client, headers: extra.length ? picked.concat(extra) : picked, body: reflex.reflex.reads.body ? body?.seen.subarray(0, REFLEX_BODY_BYTES) : undefined };
}

/**
 * Response headers as a plain record: the Node adapter hands a record straight to writeHead,
 * while a list goes through a Fetch `Headers` (a fifth of a small response's cost).
 */
function headerRecord(own: [string, string][], carried: [string, string][]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const list of [own, carried]) {
    for (const [name, value] of list) {
      const key = name.toLowerCase();
      record[key] = record[key] === undefined ? value : `${record[key]}, ${value}`;
    }
  }
  return record;
}

/** Counted as any answer is, under reflex "-": no reflex ran. */
function refusedBeforeAnyReflex(ctx: DispatchContext, response: Response): Response {
  ctx.metrics.requests.inc({ reflex: '-', status: String(response.status) });
  return response;
}

/** A GET or HEAD rarely has a body, but one that says it does is read and passed on, as under Spin. */
function carriesBody(call: IncomingCall): boolean {
  if (call.method !== 'GET' && call.method !== 'HEAD') return true;
  return Number(call.header('content-length') ?? 0) > 0 || call.header('transfer-encoding') !== null;
}

/** Serves one request through the reflex on its route and whatever it chains to. */
export async function dispatch(ctx: DispatchContext, call: IncomingCall): Promise<Response | Relayed> {
  const app = ctx.app();
  const target = parseTarget(call.target);
  if ('refused' in target) return refusedBeforeAnyReflex(ctx, json(400, 'bad_request', target.refused));
  const { path, query } = target;
  const matched = app.routes.match(path);
  if (!matched) return refusedBeforeAnyReflex(ctx, json(404, 'not_found', `no reflex serves ${path}`));

  const needsBody = app.readsBody && carriesBody(call);
  const body = needsBody ? await readHead(call.request().body, REFLEX_BODY_BYTES) : undefined;
  const carried: [string, string][] = [];
  let name = matched.target;
  const started = performance.now();
  let status = 500;
  try {
    for (let hop = 0; hop < MAX_CHAIN; hop++) {
      const reflex = app.reflexes.get(name);
      if (!reflex) return json(502, 'unknown_reflex', `route points at reflex "${name}", which is not loaded`);
      const decision = await decideWithProbes(ctx, reflex, call, path, query, body);
      // A sensor ticked through its route: its webhooks go out as they would under Spin.
      if (decision.action !== 'probe') for (const n of decision.notify ?? []) void postWebhook(reflex, n, ctx.metrics, ctx.logger);
      if (decision.action === 'respond') {
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'respond' });
        status = decision.status;
        const headers = headerRecord(decision.headers, carried);
        // No body, and no Content-Type the reflex did not give (the adapter labels a bodiless web Response text/plain).
        if (decision.status === 204 || decision.status === 304) return { status: decision.status, headers, body: null };
        return new Response(decision.body, { status: decision.status, headers });
      }
      if (decision.action !== 'forward') throw new KgentsError('INTERNAL', `reflex ${name} asked to probe twice`);
      const next = chainedReflex(decision.target);
      if (next !== null) {
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'chain' });
        if (!reflex.outbound.allowsChain(decision.target)) reflex.outbound.check(decision.target);
        carried.push(...decision.headers);
        name = next;
        continue;
      }
      ctx.metrics.decisions.inc({ reflex: name, outcome: 'forward' });
      const relayed = await forward(ctx, reflex, decision.target, call, target, body);
      status = relayed.status;
      return withFields(relayed, [...carried, ...decision.headers]);
    }
    return json(508, 'loop_detected', `reflex chain longer than ${MAX_CHAIN}`);
  } catch (error) {
    if (isKgentsError(error)) {
      if (error.code === 'OUTBOUND_DENIED') {
        ctx.metrics.outboundDenied.inc({ reflex: name });
        ctx.logger.warn({ reflex: name, target: error.details.target }, 'outbound request refused: host not in allowed_outbound_hosts');
      } else if (error.code === 'REFLEX_TRAPPED') {
        // Logged and counted once, where the instance is discarded (the runtime's onTrap).
        ctx.metrics.decisions.inc({ reflex: name, outcome: 'trap' });
      } else {
        ctx.logger.warn({ reflex: name, code: error.code, err: error.message }, 'request failed');
      }
      status = httpStatusOf(error);
      return json(status, error.code.toLowerCase(), error.message);
    }
    ctx.logger.error({ reflex: name, err: (error as Error).message }, 'request failed');
    return json(500, 'internal', 'internal error');
  } finally {
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics.requests.inc({ reflex: name, status: String(status) });
    ctx.metrics.latency.observe({ reflex: name }, seconds);
    // An access log at debug level (KGENTS_LOG_LEVEL=debug); at the default level it costs one check.
    if (ctx.logger.isLevelEnabled('debug')) ctx.logger.debug({ method: call.method, path, reflex: name, status, ms: Math.round(seconds * 1e6) / 1e3 }, 'request');
  }
}

/** `http://<reflex>.spin.internal[/...]` (Spin's local service chaining) names the next reflex. */
function chainedReflex(target: string): string | null {
  if (!target.startsWith('http://')) return null;
  const end = target.indexOf(CHAIN_SUFFIX, 7);
  if (end < 0) return null;
  const after = target.charCodeAt(end + CHAIN_SUFFIX.length);
  return Number.isNaN(after) || after === 47 /* / */ ? target.slice(7, end) : null;
}

async function decideWithProbes(ctx: DispatchContext, reflex: LoadedReflex, call: IncomingCall, path: string, query: string, body: BodyHead | undefined): Promise<Decision> {
  const pending = reflex.runtime.decide(reflexRequest(reflex, call, path, query, body));
  // The in-memory store answers synchronously: skip the extra await on the hot path.
  let decision = pending instanceof Promise ? await pending : pending;
  if (decision.action !== 'probe') return decision;
  ctx.metrics.decisions.inc({ reflex: reflex.reflex.name, outcome: 'probe' });
  const statuses = await Promise.all(decision.urls.map((u) => probe(reflex, u)));
  const extra = statuses.map((s, i): [string, string] => [`${PROBE_FIELD}${i}`, String(s)]);
  decision = await reflex.runtime.decide(reflexRequest(reflex, call, path, query, body, extra));
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

function forward(ctx: DispatchContext, reflex: LoadedReflex, base: string, call: IncomingCall, target: RequestTarget, body: BodyHead | undefined): Promise<Relayed> {
  const destination = upstreamUrl(reflex.outbound.check(base), target);
  const request = call.request();
  return relay(destination, {
    method: request.method,
    headers: request.headers,
    client: call.client,
    body: carriesBody(call) ? ((body?.whole as Uint8Array | ReadableStream<Uint8Array> | undefined) ?? request.body) : null,
    signal: request.signal,
    headersTimeoutMs: ctx.upstreamTimeoutMs,
  }).catch((error: unknown) => {
    if (isKgentsError(error)) error.details.reflex = reflex.reflex.name;
    throw error;
  });
}
