import { Agent, request, type Dispatcher } from 'undici';
import { GatewayError, fromUpstreamStatus, upstreamErrorOf } from '../errors.ts';
import type { CallOptions } from './types.ts';

export type UpstreamResponse = Dispatcher.ResponseData;

// undici's request() rather than fetch(): it costs about half as much per call (measured in
// bench/morpheus.bench.ts), and its own timeouts spare two AbortSignal timers per request.
const pools = new Map<number, Agent>();
function pool(connectTimeoutMs: number): Agent {
  let agent = pools.get(connectTimeoutMs);
  if (!agent) pools.set(connectTimeoutMs, (agent = new Agent({ connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 30_000 })));
  return agent;
}

/** An upstream's error message is passed on up to this long (an HTML error page is not). */
const MAX_DETAIL = 2000;

const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const isTimeout = (error: unknown) => TIMEOUTS.has((error as { code?: string })?.code ?? '');

/**
 * One upstream HTTP call: a connect timeout, then a response timeout that covers the wait for
 * the headers and every pause in the body (a non-streaming LLM answer sends its headers only
 * when it is done). The client's cancellation aborts it. Non-2xx answers become GatewayErrors.
 */
export async function upstreamFetch(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }, options: CallOptions): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  try {
    response = await request(url, { ...init, signal: options.signal, dispatcher: pool(options.connectTimeoutMs), headersTimeout: options.responseTimeoutMs, bodyTimeout: options.responseTimeoutMs });
  } catch (error) {
    if (options.signal.aborted) throw error;
    if (isTimeout(error)) throw new GatewayError('UPSTREAM_TIMEOUT', `upstream did not answer within ${(error as { code: string }).code === 'UND_ERR_CONNECT_TIMEOUT' ? options.connectTimeoutMs : options.responseTimeoutMs} ms`);
    const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
    throw new GatewayError('UPSTREAM_UNAVAILABLE', `cannot reach the upstream: ${cause}`);
  }
  if (response.statusCode < 200 || response.statusCode >= 300) {
    const { message, fields } = upstreamErrorOf(await response.body.text().catch(() => ''));
    const retryAfter = Number(response.headers['retry-after']) || undefined;
    throw fromUpstreamStatus(response.statusCode, message.slice(0, MAX_DETAIL) || `status ${response.statusCode}`, retryAfter, fields);
  }
  return response;
}

/** Reads a whole body; a stall or a cut is an upstream failure, not a crash. */
export async function upstreamText(response: UpstreamResponse, options: CallOptions): Promise<string> {
  try {
    return await response.body.text();
  } catch (error) {
    if (options.signal.aborted) throw error;
    if (isTimeout(error)) throw new GatewayError('UPSTREAM_TIMEOUT', 'the upstream response did not complete in time');
    throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the upstream response was cut off');
  }
}

/** Reads a JSON body; garbage is an upstream failure (502), not a crash. */
export async function upstreamJson<T>(response: UpstreamResponse, options: CallOptions): Promise<T> {
  return parseUpstreamJson<T>(await upstreamText(response, options));
}

/** A whole answer's JSON; garbage is an upstream failure (502). */
export function parseUpstreamJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GatewayError('UPSTREAM_UNAVAILABLE', `the upstream sent a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

export interface SseEvent {
  event: string | null;
  data: string;
}

/** Parses a text/event-stream body into events, as they arrive. A broken connection is a cut stream. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunksOrCut(body)) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length || event) yield { event, data: data.join('\n') };
    }
  }
}

async function* chunksOrCut(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    if (isTimeout(error)) throw new GatewayError('UPSTREAM_TIMEOUT', 'the upstream stream stalled');
    throw streamCut();
  }
}

export function parseStreamJson<T>(data: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new GatewayError('UPSTREAM_UNAVAILABLE', `the upstream stream sent an event that is not JSON: ${JSON.stringify(data.slice(0, 80))}`);
  }
}

export const streamCut = () => new GatewayError('UPSTREAM_UNAVAILABLE', 'the upstream stream ended before it was complete');
