import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { httpStatusOf, isKgentsError } from '../../common/errors.ts';
import { parseOrThrow } from '../../common/zod-issues.ts';
import type { Logger } from '../../common/log.ts';
import type { ApiKeys } from './auth.ts';
import type { Api, ChatRequest, Usage } from './canonical.ts';
import type { Cancel } from './cancel.ts';
import { streamCut } from './backends/http.ts';
import { GatewayError, type UpstreamErrorFields } from './errors.ts';
import type { Gateway, NativeAnswer, NativeBody } from './gateway.ts';
import type { MorpheusMetrics } from './metrics.ts';
import { anthropicCallerFields, ANTHROPIC_TRANSLATABLE, anthropicErrorBody, anthropicNativeNeeds, anthropicResponse, anthropicStreamEncoder, anthropicStreamError, fromAnthropic, MessagesRequest } from './protocol/anthropic.ts';
import { ChatCompletionRequest, EmbeddingsRequest, fromOpenAi, OPENAI_TRANSLATABLE, openAiErrorBody, openAiNativeNeeds, openAiResponse, openAiStreamEncoder, openAiStreamError } from './protocol/openai.ts';
import { StreamUsage, usageIn, withoutAddedUsage } from './protocol/stream-usage.ts';
import { clientSignal, readText, requestHeader, sendStream } from './node-request.ts';
import type { Secrets } from './secrets.ts';

const OVERHEAD_HEADER = 'x-morpheus-overhead-ms';

/** The caller's fields a backend of its own API gets too (OpenAI's API has none). */
const passedFields = (c: Context, api: Api): Record<string, string> => (api === 'anthropic' ? anthropicCallerFields((name) => requestHeader(c, name)) : {});

/** An error body in the caller's API shape; an upstream of that same API keeps its type, code and param. */
function errorBody(api: Api, status: number, message: string, upstream: UpstreamErrorFields | undefined): Record<string, unknown> {
  const same = upstream?.api === api ? upstream : undefined;
  if (api === 'anthropic') {
    const body = anthropicErrorBody(status, message) as { error: { type: string } };
    if (same?.type) body.error.type = same.type;
    return body;
  }
  const body = openAiErrorBody(status, message) as { error: Record<string, unknown> };
  if (same?.type) body.error.type = same.type;
  if (same?.code !== undefined) body.error.code = same.code;
  if (same?.param !== undefined) body.error.param = same.param;
  return body;
}

/** The API's stream error event, with the same body `errorBody` gives (an upstream of the caller's API keeps its type). */
function streamErrorEvent(api: Api, status: number, message: string, upstream: UpstreamErrorFields | undefined): string {
  const body = errorBody(api, status, message, upstream);
  return api === 'openai' ? openAiStreamError(body) : anthropicStreamError(body);
}

const secondsSince = (started: number) => (performance.now() - started) / 1000;
const errorCode = (error: unknown) => (isKgentsError(error) ? error.code : 'INTERNAL');

export interface MorpheusDeps {
  gateway: Gateway;
  metrics: MorpheusMetrics;
  keys: ApiKeys;
  secrets: Secrets;
  logger: Logger;
  maxBodyBytes: number;
}

export function createMorpheusApp(deps: MorpheusDeps): Hono {
  const { gateway, metrics, keys, secrets, logger, maxBodyBytes } = deps;
  const app = new Hono();

  /** The API's own error shape and status; secrets scrubbed; the missing-backend hint in every body. */
  const fail = (c: Context, api: Api, error: unknown): Response => {
    const status = httpStatusOf(error);
    let message = secrets.redact(isKgentsError(error) ? error.message : 'internal error');
    if (gateway.missing.length && !message.includes('MORPHEUS_UPSTREAM_URL')) message += ` (${gateway.missing.join('; ')})`;
    if (!isKgentsError(error)) logger.error({ err: secrets.redact(String((error as Error)?.stack ?? error)) }, 'unexpected failure');
    const retryAfter = error instanceof GatewayError && error.retryAfter ? { 'retry-after': String(error.retryAfter) } : undefined;
    const body = errorBody(api, status, message, error instanceof GatewayError ? error.upstreamFields : undefined);
    // The upstream's own fields (type, code, param) are scrubbed with the rest of the body.
    return c.body(secrets.redact(JSON.stringify(body)), status as 400, { 'content-type': 'application/json', ...retryAfter });
  };

  const parse = async <T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> => {
    const text = await readText(c, maxBodyBytes);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new GatewayError('INVALID_REQUEST', 'the body must be JSON');
    }
    return parseOrThrow(schema, raw, 'INVALID_REQUEST');
  };

  /** One API endpoint: the key check, then the handler, with any failure in the API's own shape. */
  const endpoint =
    (api: Api, handler: (c: Context, started: number) => Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      // Morpheus's own time starts here, so the overhead header covers reading and validating the body too.
      const started = performance.now();
      if (!keys.allows((name) => requestHeader(c, name))) return fail(c, api, new GatewayError('UNAUTHORIZED', 'missing or unknown API key'));
      try {
        return await handler(c, started);
      } catch (error) {
        return fail(c, api, error);
      }
    };

  const countTokens = (labels: { model: string; backend: string }, usage: Usage) => {
    metrics.tokensIn.inc(labels, usage.input);
    metrics.tokensOut.inc(labels, usage.output);
  };

  /**
   * A stream's events as they come; a failure mid-way is sent as the API's stream error event,
   * and the stream ends (a client that went away gets nothing more).
   */
  async function* endingWithErrorEvent<T extends string | Uint8Array>(api: Api, labels: { model: string; backend: string }, signal: Cancel, started: number, events: AsyncIterable<T>): AsyncGenerator<T | string> {
    try {
      yield* events;
    } catch (error) {
      if (signal.aborted) return;
      metrics.errors.inc({ ...labels, code: errorCode(error) });
      yield streamErrorEvent(api, httpStatusOf(error), secrets.redact((error as Error).message), error instanceof GatewayError ? error.upstreamFields : undefined);
    } finally {
      metrics.duration.observe(labels, secondsSince(started));
    }
  }

  /**
   * An answer as the backend sent it, its tokens counted (read off a stream as it passes), its
   * time to first token taken at the first bytes.
   */
  const asSent = (c: Context, api: Api, answer: NativeAnswer, labels: { model: string; backend: string }, signal: Cancel, started: number, headers: Record<string, string>): Response => {
    if (typeof answer.body === 'string') {
      if (answer.usage) countTokens(labels, usageIn(api, answer.usage));
      metrics.duration.observe(labels, secondsSince(started));
      return new Response(answer.body, { headers: { ...headers, 'content-type': answer.contentType } });
    }
    const upstream = answer.body;
    const usage = new StreamUsage(api);
    const bytes = (async function* () {
      let first = true;
      try {
        for await (const chunk of upstream) {
          if (first) metrics.ttft.observe(labels, secondsSince(started));
          first = false;
          usage.read(chunk);
          yield answer.usageAdded ? withoutAddedUsage(chunk) : chunk;
        }
      } catch (error) {
        // The upstream's connection failed mid-way: said as on the translated path.
        throw isKgentsError(error) ? error : streamCut();
      }
      countTokens(labels, usage.total);
    })();
    return sendStream(c, { ...headers, 'content-type': answer.contentType, 'cache-control': 'no-cache' }, endingWithErrorEvent(api, labels, signal, started, bytes));
  };

  /**
   * Chat for either API. The gateway sends the request as it came to a backend of the caller's
   * API, translated to any other; the answer comes back as that backend sent it, or translated
   * back (streaming or not).
   */
  const chat = async (c: Context, api: Api, body: NativeBody, translate: (() => ChatRequest) | null, needs: string[], includeUsage: boolean, started: number) => {
    const signal = clientSignal(c);
    const labels = { model: metrics.modelLabel(body.model), backend: 'none' };
    metrics.requests.inc({ ...labels, api });
    try {
      const upstreamStart = performance.now();
      const { value, backend } = await gateway.chat(api, body, translate, needs, signal, passedFields(c, api));
      // Until the answer's headers, or a translated stream's first chunk: the upstream's time, not ours.
      const upstreamMs = performance.now() - upstreamStart;
      labels.backend = backend;
      const headers = { [OVERHEAD_HEADER]: (performance.now() - started - upstreamMs).toFixed(3) };
      if (value.kind === 'native') return asSent(c, api, value.answer, labels, signal, started, headers);
      if (value.kind === 'complete') {
        countTokens(labels, value.response.usage);
        metrics.duration.observe(labels, secondsSince(started));
        return c.json(api === 'openai' ? openAiResponse(value.response) : anthropicResponse(value.response), 200, headers);
      }
      metrics.ttft.observe(labels, secondsSince(started));
      const encoder = api === 'openai' ? openAiStreamEncoder(body.model, includeUsage) : anthropicStreamEncoder(body.model);
      const texts = (async function* () {
        for await (const chunk of value.chunks) {
          if (chunk.type === 'done' && chunk.usage) countTokens(labels, chunk.usage);
          yield encoder.chunk(chunk);
        }
      })();
      return sendStream(c, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, endingWithErrorEvent(api, labels, signal, started, texts));
    } catch (error) {
      metrics.errors.inc({ ...labels, code: errorCode(error) });
      return fail(c, api, error);
    }
  };

  // Liveness: the process serves. Readiness (/healthz) also needs a usable backend.
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/healthz', (c) => {
    const ok = gateway.missing.length === 0;
    return c.json({ status: ok ? 'ok' : 'unavailable', backends: gateway.backends.map((b) => ({ name: b.name, kind: b.kind })), missing: gateway.missing }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    for (const s of gateway.semaphores()) {
      metrics.queueDepth.set({ semaphore: s.name }, s.queued);
      metrics.inFlight.set({ semaphore: s.name }, s.inFlight);
    }
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });

  app.post(
    '/v1/chat/completions',
    endpoint('openai', async (c, started) => {
      const body = await parse(c, ChatCompletionRequest);
      const needs = openAiNativeNeeds(body);
      const translate = needs.every((need) => OPENAI_TRANSLATABLE.has(need)) ? () => fromOpenAi(body) : null;
      return chat(c, 'openai', body, translate, needs, body.stream_options?.include_usage === true, started);
    }),
  );
  app.post(
    '/v1/messages',
    endpoint('anthropic', async (c, started) => {
      const body = await parse(c, MessagesRequest);
      const needs = anthropicNativeNeeds(body);
      const translate = needs.every((need) => ANTHROPIC_TRANSLATABLE.has(need)) ? () => fromAnthropic(body) : null;
      return chat(c, 'anthropic', body, translate, needs, true, started);
    }),
  );
  app.get(
    '/v1/models',
    endpoint('openai', async (c) => c.json({ object: 'list', data: (await gateway.models(clientSignal(c))).map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by })) })),
  );
  app.post(
    '/v1/embeddings',
    endpoint('openai', async (c) => {
      const body = await parse(c, EmbeddingsRequest);
      return c.json((await gateway.embeddings(body.model, body, clientSignal(c))).value as Record<string, unknown>);
    }),
  );
  app.get(
    '/v1/models/:id',
    endpoint('openai', async (c) => {
      const id = c.req.param('id');
      const model = (await gateway.models(clientSignal(c))).find((m) => m.id === id);
      if (!model) throw new GatewayError('NOT_FOUND', `no backend lists model "${id}"`);
      return c.json({ id: model.id, object: 'model', created: 0, owned_by: model.owned_by });
    }),
  );
  // Anthropic's clients read errors in Anthropic's shape, on the paths of its API (count_tokens, batches).
  app.notFound((c) => {
    const message = `no route for ${c.req.method} ${c.req.path}`;
    return c.json(c.req.path.startsWith('/v1/messages') ? anthropicErrorBody(404, message) : openAiErrorBody(404, message, null), 404);
  });
  return app;
}
