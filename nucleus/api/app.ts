import { z } from 'zod';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { UpgradeWebSocket } from 'hono/ws';
import { readBoundedBody } from '../../common/bounded-body.ts';
import { KgentsError } from '../../common/errors.ts';
import { requestOrigin } from '../../common/url.ts';
import type { KvStore } from '../../common/kv/index.ts';
import type { AgentManifest } from '../agents/manifest.ts';
import { agentCard, nucleusCard } from '../agents/card.ts';
import type { AgentRunner } from '../agents/runner.ts';
import type { Gateway } from '../gateway.ts';
import { PURGATORY_STATUSES, type Purgatory } from '../conscience/purgatory.ts';
import { Backlog, type EventHub } from '../observe/hub.ts';
import type { PheromoneField } from '../pheromones/field.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../morpheus/config.ts';
import { anthropicErrorBody } from '../morpheus/protocol/anthropic.ts';
import { openAiErrorBody } from '../morpheus/protocol/openai.ts';
import { relayChat, relayEmbeddings, relayMessages, relayModels } from './relay.ts';
import { errorResponse, jsonBody } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { InvokeRequest, ResolveRequest } from './schemas.ts';
import { DepositInput } from '../pheromones/schema.ts';

/** How much a WebSocket observer may have waiting to be sent before its events are dropped. */
const WS_BUFFER_BYTES = 1024 * 1024;

/** How long an observe stream may stay quiet before a comment line goes out (proxies drop idle ones at 60 s). */
const HEARTBEAT_MS = 15_000;

/** `?status=` names one of the states, or is left out for all of them. */
const PurgatoryQuery = z.object({ status: z.enum(PURGATORY_STATUSES).optional() });

export interface NucleusDeps {
  agents: AgentManifest[];
  runner: AgentRunner;
  gateway: Gateway;
  purgatory: Purgatory;
  field: PheromoneField;
  hub: EventHub;
  /**
   * Where clients reach the nucleus, for the URLs in agent cards: set for a nucleus behind an
   * ingress that does not say where it was asked; otherwise each card names the origin its request
   * was sent to (X-Forwarded-Host and -Proto, which the reflexes set, or its Host), never the
   * address the nucleus listens on (0.0.0.0 in a pod).
   */
  publicUrl?: string;
  version: string;
  /** The pheromone field's store, which /readyz reports on. */
  store: Pick<KvStore, 'kind' | 'ping'>;
  upgradeWebSocket?: UpgradeWebSocket;
}

/**
 * The `Idempotency-Key` field (draft-ietf-httpapi-idempotency-key-header): a string, quoted as
 * the draft writes it or bare, of 1-128 letters, digits and `.` `_` `:` `-` (a UUID fits).
 */
function idempotencyKey(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const key = /^"(.*)"$/.exec(field.trim())?.[1] ?? field.trim();
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(key)) throw new KgentsError('INVALID_REQUEST', 'Idempotency-Key must be 1 to 128 letters, digits or . _ : - (a UUID, for example), bare or in double quotes');
  return key;
}

/** Agent inputs, deposits and decisions are small; LLM bodies are relayed to Morpheus and share its limit. */
const API_BODY_BYTES = 1024 * 1024;
/** Bounds a route's body (common/bounded-body.ts), answering in the route's own error shape. */
const limitBody =
  (maxSize: number, answer: (c: Context, message: string) => Response): MiddlewareHandler =>
  async (c, next) => {
    const body = await readBoundedBody(c, maxSize);
    if (body === 'too-large') return answer(c, `the body is larger than ${maxSize} bytes`);
    // Buffer.concat makes an ArrayBuffer-backed Buffer; the DOM BodyInit type wants it said.
    c.req.raw = new Request(c.req.raw, { body: body as Uint8Array<ArrayBuffer> });
    await next();
  };
const apiBodyLimit = limitBody(API_BODY_BYTES, (c, message) => errorResponse(c, new KgentsError('PAYLOAD_TOO_LARGE', message)));
const llmBodyLimit = (errorBody: (status: number, message: string) => Record<string, unknown>) => limitBody(DEFAULT_MAX_BODY_BYTES, (c, message) => c.json(errorBody(413, message), 413));

/** For the root app: a mounted app's not-found handler is never consulted. */
export const notFound = (c: Context) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404);

export function createNucleusApp(deps: NucleusDeps): Hono {
  const app = new Hono();
  const agent = (name: string) => {
    const found = deps.agents.find((a) => a.name === name);
    if (!found) throw new KgentsError('NOT_FOUND', `no agent named "${name}"; GET /v1/agents lists them`);
    return found;
  };
  app.onError((error, c) => errorResponse(c, error));

  app.get('/healthz', (c) => c.json({ status: 'ok', agents: deps.agents.length }));
  app.get('/readyz', async (c) => {
    const ok = await deps.store.ping();
    return c.json({ ready: ok, store: { kind: deps.store.kind, ok } }, ok ? 200 : 503);
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument(deps.version)));

  app.post('/v1/chat/completions', llmBodyLimit(openAiErrorBody), (c) => relayChat(c, deps.gateway));
  app.post('/v1/messages', llmBodyLimit(anthropicErrorBody), (c) => relayMessages(c, deps.gateway));
  app.get('/v1/models', (c) => relayModels(c, deps.gateway));
  app.post('/v1/embeddings', llmBodyLimit(openAiErrorBody), (c) => relayEmbeddings(c, deps.gateway));

  app.get('/v1/agents', (c) => c.json({ agents: deps.agents }));
  app.post('/v1/agents/:name/invoke', apiBodyLimit, async (c) => {
    const target = agent(c.req.param('name'));
    const body = await jsonBody(c, InvokeRequest);
    if (!body.stream) {
      const result = await deps.runner.invoke(target, body.input, c.req.raw.signal);
      return c.json(result, result.status === 'held' ? 202 : 200);
    }
    // The first item before the stream starts: a failure that comes before any answer (no
    // Morpheus, an upstream error) gets its own status and JSON body, as without streaming.
    const items = deps.runner.stream(target, body.input, c.req.raw.signal)[Symbol.asyncIterator]();
    const first = await items.next();
    return streamSSE(c, async (sse) => {
      try {
        for (let next = first; !next.done; next = await items.next()) {
          const item = next.value;
          if ('delta' in item) await sse.writeSSE({ event: 'delta', data: JSON.stringify({ text: item.delta }) });
          else await sse.writeSSE({ event: 'result', data: JSON.stringify(item.result) });
        }
      } catch (error) {
        const code = error instanceof KgentsError ? error.code.toLowerCase() : 'internal';
        await sse.writeSSE({ event: 'error', data: JSON.stringify({ error: { code, message: (error as Error).message } }) });
      }
    });
  });

  const cardBase = (c: Context) => {
    if (deps.publicUrl) return deps.publicUrl;
    // The card depends on these fields: a cache keyed on the URL alone would hand one client's
    // origin (a forged X-Forwarded-Host, say) to every other.
    c.header('vary', 'host, x-forwarded-host, x-forwarded-proto');
    return requestOrigin(c.req.url, (name) => c.req.header(name));
  };
  app.get('/agents/:name/.well-known/agent-card.json', (c) => c.json(agentCard(agent(c.req.param('name')), cardBase(c))));
  app.get('/.well-known/agent-card.json', (c) => c.json(nucleusCard(deps.agents, cardBase(c), deps.version)));

  app.post('/v1/pheromones', apiBodyLimit, async (c) => {
    const key = idempotencyKey(c.req.header('idempotency-key'));
    const { record, replayed } = await deps.field.deposit(await jsonBody(c, DepositInput), key);
    if (replayed) c.header('idempotent-replayed', 'true');
    return c.json({ id: record.id, type: record.type, halfLifeMs: record.halfLifeMs, emittedAt: new Date(record.emittedAtMs).toISOString() }, 201);
  });
  app.get('/v1/pheromones', async (c) => c.json(await deps.field.sense(c.req.query())));

  app.get('/v1/purgatory', (c) => c.json({ entries: deps.purgatory.list(PurgatoryQuery.parse(c.req.query()).status) }));
  app.post('/v1/purgatory/:token/resolve', apiBodyLimit, async (c) => c.json(deps.purgatory.resolve(c.req.param('token'), (await jsonBody(c, ResolveRequest)).input)));
  app.post('/v1/purgatory/:token/cancel', (c) => c.json(deps.purgatory.cancel(c.req.param('token'))));

  const ws = deps.upgradeWebSocket?.(() => {
    let unsubscribe: (() => void) | null = null;
    return {
      onOpen(_event, socket) {
        // A client that stops reading leaves its sends buffered in the process: past a bound,
        // events are dropped and counted instead, as the hub drops for a slow observer.
        let lost = 0;
        unsubscribe = deps.hub.subscribe({
          deliver: (events, dropped) => {
            lost += dropped;
            if (((socket.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0) > WS_BUFFER_BYTES) {
              lost += events.length;
              return;
            }
            if (lost) socket.send(JSON.stringify({ kind: 'dropped', count: lost }));
            lost = 0;
            for (const e of events) socket.send(JSON.stringify(e));
          },
          close: () => {},
        });
      },
      onClose() {
        unsubscribe?.();
      },
    };
  });
  app.get('/v1/observe', async (c, next) => {
    if (ws && c.req.header('upgrade')?.toLowerCase() === 'websocket') return ws(c, next);
    return streamSSE(c, async (sse) => {
      const backlog = new Backlog(deps.hub.queueSize);
      // An EventSource that reconnects says the last id it saw: it gets what came after, not all again.
      const lastSeen = Number(c.req.header('last-event-id'));
      const unsubscribe = deps.hub.subscribe({ deliver: backlog.deliver, close: () => {} }, Number.isSafeInteger(lastSeen) ? lastSeen : 0);
      sse.onAbort(() => {
        unsubscribe();
        backlog.interrupt();
      });
      while (!sse.aborted && !sse.closed) {
        const { events, dropped } = await backlog.take(HEARTBEAT_MS);
        // A comment line now and then keeps proxies from closing a quiet stream as idle.
        if (!dropped && events.length === 0) await sse.write(': keep-alive\n\n');
        if (dropped) await sse.writeSSE({ event: 'dropped', data: JSON.stringify({ count: dropped }) });
        for (const e of events) await sse.writeSSE({ event: e.kind, id: String(e.seq), data: JSON.stringify(e) });
      }
    });
  });
  return app;
}
