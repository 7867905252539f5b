import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { httpStatusOf, isKgentsError } from '../../common/errors.ts';
import type { Gateway } from '../gateway.ts';
import { openAiErrorBody } from '../morpheus/protocol/openai.ts';

interface RelayError {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: string;
}

/**
 * Morpheus's answer to a failed call, as the caller's OpenAI client expects it: Morpheus's own
 * status and error body (its zod field paths included), or, when Morpheus cannot be reached,
 * a 502 or 504 in the same shape.
 */
function relayError(error: unknown): RelayError {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return { status: 504, body: openAiErrorBody(504, 'Morpheus did not answer in time') };
  if (error instanceof OpenAI.APIConnectionError) return { status: 502, body: openAiErrorBody(502, `Morpheus is unreachable: ${error.message}`) };
  if (error instanceof OpenAI.APIError) {
    // No status: Morpheus's error event in the middle of a stream.
    const status = error.status ?? 502;
    const body = error.error && typeof error.error === 'object' ? { error: error.error } : openAiErrorBody(status, error.message);
    return { status, body, retryAfter: error.headers?.get('retry-after') ?? undefined };
  }
  if (isKgentsError(error)) return { status: httpStatusOf(error), body: openAiErrorBody(httpStatusOf(error), error.message) };
  return { status: 500, body: openAiErrorBody(500, 'internal error') };
}

function openAiError(c: Context, { status, body, retryAfter }: RelayError): Response {
  return c.json(body, status as 400, retryAfter ? { 'retry-after': retryAfter } : {});
}

/**
 * `POST /v1/chat/completions`: the OpenAI chat API, relayed to Morpheus. The reflex router sends
 * `/v1/chat` traffic here, so a client at the edge keeps its OpenAI SDK (only the baseURL
 * changes) and passes the rate limit and the router on its way to the LLM. Morpheus validates
 * the body; the nucleus only needs it to be a JSON object.
 */
export async function relayChat(c: Context, gateway: Gateway): Promise<Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return openAiError(c, { status: 400, body: openAiErrorBody(400, 'the body must be JSON') });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return openAiError(c, { status: 400, body: openAiErrorBody(400, 'the body must be a JSON object with model and messages') });
  }
  const signal = c.req.raw.signal;
  try {
    const client = gateway();
    if ((body as { stream?: unknown }).stream !== true) {
      return c.json(await client.chat.completions.create(body as ChatCompletionCreateParamsNonStreaming, { signal }));
    }
    // Failures before the first chunk (an unknown model, a full queue) still get their status.
    const chunks = await client.chat.completions.create(body as ChatCompletionCreateParamsStreaming, { signal });
    c.header('content-type', 'text/event-stream');
    c.header('cache-control', 'no-cache');
    return stream(c, async (out) => {
      try {
        for await (const chunk of chunks) await out.write(`data: ${JSON.stringify(chunk)}\n\n`);
        await out.write('data: [DONE]\n\n');
      } catch (error) {
        // Mid-stream, OpenAI's way: an error event, then the stream ends.
        if (!signal.aborted) await out.write(`data: ${JSON.stringify(relayError(error).body)}\n\n`);
      }
    });
  } catch (error) {
    return openAiError(c, relayError(error));
  }
}
