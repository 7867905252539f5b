import Anthropic from '@anthropic-ai/sdk';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import OpenAI from 'openai';
import { httpStatusOf, isKgentsError } from '../../common/errors.ts';
import type { Gateway } from '../gateway.ts';
import { anthropicCallerFields, anthropicErrorBody } from '../morpheus/protocol/anthropic.ts';
import { openAiErrorBody } from '../morpheus/protocol/openai.ts';

/**
 * The LLM APIs the nucleus passes on to Morpheus: the router sends `/v1/chat`, `/v1/messages`,
 * `/v1/models` and `/v1/embeddings` traffic here, so a client at the edge keeps its OpenAI or Anthropic SDK (only the base URL
 * changes) and passes the rate limit and the router on its way to the LLM. Morpheus validates
 * bodies; the nucleus only needs a JSON object.
 */
interface RelayedApi {
  /** The SDK's error classes (both SDKs are generated alike). */
  sdk: typeof OpenAI | typeof Anthropic;
  errorBody(status: number, message: string): Record<string, unknown>;
  /** The body Morpheus sent with an error, as the SDK keeps it. */
  sentBody(error: unknown): Record<string, unknown>;
  /** The caller's fields that go on to Morpheus with the body (the Anthropic version and betas it asked for). */
  callerFields(header: (name: string) => string | undefined): Record<string, string>;
  call(gateway: Gateway, body: Record<string, unknown>, signal: AbortSignal, headers: Record<string, string>): Promise<unknown>;
  /** One stream event, or an error body, as an SSE frame; `end` closes a stream that ended well. */
  frame(event: unknown): string;
  end: string;
}

const OPENAI: RelayedApi = {
  sdk: OpenAI,
  errorBody: openAiErrorBody,
  sentBody: (error) => ({ error }),
  callerFields: () => ({}),
  call: (gateway, body, signal, headers) => gateway.openai().chat.completions.create(body as never, { signal, headers }),
  frame: (chunk) => `data: ${JSON.stringify(chunk)}\n\n`,
  end: 'data: [DONE]\n\n',
};

const ANTHROPIC: RelayedApi = {
  sdk: Anthropic,
  errorBody: anthropicErrorBody,
  sentBody: (error) => error as Record<string, unknown>,
  callerFields: anthropicCallerFields,
  call: (gateway, body, signal, headers) => gateway.anthropic().messages.create(body as never, { signal, headers }),
  frame: (event) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`,
  end: '',
};

interface RelayError {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: string;
}

/**
 * Morpheus's answer to a failed call, as the caller's client expects it: Morpheus's own status
 * and error body (its zod field paths included), or, when Morpheus cannot be reached, a 502 or
 * 504 in the same shape.
 */
function relayError(api: RelayedApi, error: unknown): RelayError {
  if (error instanceof api.sdk.APIConnectionTimeoutError) return { status: 504, body: api.errorBody(504, 'Morpheus did not answer in time') };
  if (error instanceof api.sdk.APIConnectionError) return { status: 502, body: api.errorBody(502, `Morpheus is unreachable: ${error.message}`) };
  if (error instanceof api.sdk.APIError) {
    // No status: Morpheus's error event in the middle of a stream.
    const status = error.status ?? 502;
    const body = error.error && typeof error.error === 'object' ? api.sentBody(error.error) : api.errorBody(status, error.message);
    return { status, body, retryAfter: error.headers?.get('retry-after') ?? undefined };
  }
  if (isKgentsError(error)) return { status: httpStatusOf(error), body: api.errorBody(httpStatusOf(error), error.message) };
  return { status: 500, body: api.errorBody(500, 'internal error') };
}

function answerError(c: Context, { status, body, retryAfter }: RelayError): Response {
  return c.json(body, status as 400, retryAfter ? { 'retry-after': retryAfter } : {});
}

/** The request body as a JSON object, or the API's 400. */
async function jsonObject(c: Context, api: RelayedApi): Promise<Record<string, unknown> | Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return answerError(c, { status: 400, body: api.errorBody(400, 'the body must be JSON') });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return answerError(c, { status: 400, body: api.errorBody(400, 'the body must be a JSON object') });
  }
  return body as Record<string, unknown>;
}

async function relay(c: Context, gateway: Gateway, api: RelayedApi): Promise<Response> {
  const body = await jsonObject(c, api);
  if (body instanceof Response) return body;
  const signal = c.req.raw.signal;
  try {
    // Failures before the first event (an unknown model, a full queue) still get their status.
    const headers = api.callerFields((name) => c.req.header(name));
    const answer = await api.call(gateway, body, signal, headers);
    if (body.stream !== true) return c.json(answer as Record<string, unknown>);
    c.header('content-type', 'text/event-stream');
    c.header('cache-control', 'no-cache');
    return stream(c, async (out) => {
      try {
        for await (const event of answer as AsyncIterable<unknown>) await out.write(api.frame(event));
        if (api.end) await out.write(api.end);
      } catch (error) {
        // Mid-stream, each API's way: its error body as an event (Anthropic's is typed "error"), then the end.
        if (!signal.aborted) await out.write(api.frame(relayError(api, error).body));
      }
    });
  } catch (error) {
    return answerError(c, relayError(api, error));
  }
}

/**
 * An OpenAI call with no streaming and nothing to translate, passed through as Morpheus answered
 * it. The SDK's generic methods leave the body alone (its `embeddings.create` would ask for
 * base64 vectors on the caller's behalf).
 */
async function passThrough(c: Context, gateway: Gateway, call: (client: OpenAI, signal: AbortSignal) => { asResponse(): Promise<Response> }): Promise<Response> {
  try {
    const answer = await call(gateway.openai(), c.req.raw.signal).asResponse();
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' } });
  } catch (error) {
    return answerError(c, relayError(OPENAI, error));
  }
}

/** `GET /v1/models`: the models Morpheus serves. */
export const relayModels = (c: Context, gateway: Gateway) => passThrough(c, gateway, (client, signal) => client.get('/models', { signal }));

/** `POST /v1/embeddings`, to a backend that has embeddings. */
export async function relayEmbeddings(c: Context, gateway: Gateway): Promise<Response> {
  const body = await jsonObject(c, OPENAI);
  if (body instanceof Response) return body;
  return passThrough(c, gateway, (client, signal) => client.post('/embeddings', { body, signal }));
}

/** `POST /v1/chat/completions`: the OpenAI chat API. */
export const relayChat = (c: Context, gateway: Gateway) => relay(c, gateway, OPENAI);

/** `POST /v1/messages`: the Anthropic Messages API. */
export const relayMessages = (c: Context, gateway: Gateway) => relay(c, gateway, ANTHROPIC);
