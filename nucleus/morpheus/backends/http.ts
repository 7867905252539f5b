import { GatewayError, fromUpstreamStatus } from '../errors.ts';
import type { CallOptions } from './types.ts';

/**
 * One upstream HTTP call with a connect-and-headers timeout, a whole-response timeout and the
 * client's cancellation folded into one signal. Non-2xx answers become GatewayErrors.
 */
export async function upstreamFetch(url: string, init: RequestInit, options: CallOptions): Promise<Response> {
  const headersDeadline = AbortSignal.timeout(options.connectTimeoutMs);
  const responseDeadline = AbortSignal.timeout(options.responseTimeoutMs);
  const signal = AbortSignal.any([options.signal, headersDeadline, responseDeadline]);
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal });
  } catch (error) {
    if (options.signal.aborted) throw error;
    if (headersDeadline.aborted || responseDeadline.aborted) throw new GatewayError('UPSTREAM_TIMEOUT', `upstream did not answer within ${options.connectTimeoutMs} ms`);
    throw new GatewayError('UPSTREAM_UNAVAILABLE', `cannot reach the upstream: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 300);
    const retryAfter = Number(response.headers.get('retry-after')) || undefined;
    throw fromUpstreamStatus(response.status, detail || response.statusText, retryAfter);
  }
  return response;
}

/** Reads a JSON body; garbage is an upstream failure (502), not a crash. */
export async function upstreamJson<T>(response: Response, options: CallOptions): Promise<T> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new GatewayError('UPSTREAM_TIMEOUT', 'the upstream response did not complete in time');
  }
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
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
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

async function* chunksOrCut(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch {
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
