import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { errors, request } from 'undici';
import { CLIENT_FIELD } from '../compiler/abi.ts';
import { KgentsError } from '../common/errors.ts';

/**
 * A request relayed to an upstream, as a reverse proxy relays it: the client's headers and body
 * as sent (less the hop-by-hop ones), and the upstream's answer as sent, its length and
 * encoding included. undici's request() rather than fetch(): fetch adds headers the client
 * never sent (accept-language, sec-fetch-mode, its own accept-encoding), decodes bodies it can
 * and leaves the rest encoded, refuses `Expect` and TRACE, and drops lengths.
 */
export interface Relayed {
  status: number;
  headers: Record<string, string | string[]>;
  /** Null for HEAD, 204 and 304, and when the client went away. */
  body: Readable | null;
  /** The client left before the upstream answered: there is no one to answer. */
  clientGone?: true;
}

/** RFC 9110 7.6.1, and `expect`, which Node answered already (100 Continue); `host` names the upstream. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'expect']);

/**
 * Fields that describe the hop they came on, not the message: Spin's `spin-*`, the client's
 * address a reflex hands the next one under Spin's chaining, and X-Forwarded-For, which a
 * forward sets anew. The Spin path passes none of them on either (compiler/assembly/http.ts).
 */
const OWN_HOP = new Set([CLIENT_FIELD, 'x-forwarded-for']);
const describesHop = (name: string) => OWN_HOP.has(name) || name.startsWith('spin-');

/** X-Forwarded-For as received, with the client appended: each proxy adds the address it heard from. */
function forwardedFor(received: string | null, client: string): string | null {
  if (!client) return received;
  return received ? `${received}, ${client}` : client;
}

/**
 * The host the client asked for (the upstream gets its own Host), as the Spin path sends it:
 * kept as received from a proxy before this one, or set from Host. X-Forwarded-Proto only
 * passes on: the host serves plain HTTP, and a proxy that ends TLS in front of it sets it.
 */
function forwardedHost(received: Headers): Record<string, string> {
  const host = received.get('host');
  return host === null || received.has('x-forwarded-host') ? {} : { 'x-forwarded-host': host };
}

/**
 * RFC 9110 7.6.3: a proxy adds itself to Via on each message it forwards, request and answer,
 * so loops and the path a message took can be told. Both sides speak HTTP/1.1 to it.
 */
const OWN_VIA = '1.1 kgents';
const withOwnVia = (received: string | string[] | null | undefined) => (received ? `${[received].flat().join(', ')}, ${OWN_VIA}` : OWN_VIA);

/** nginx's status for a request whose client closed the connection before the answer. */
export const CLIENT_CLOSED = 499;

/** The hop-by-hop headers of one message: the fixed ones and those its Connection header names. */
function hopByHop(connection: string | string[] | null | undefined): Set<string> {
  if (!connection) return HOP_BY_HOP;
  const named = (Array.isArray(connection) ? connection.join(',') : connection).split(',').map((n) => n.trim().toLowerCase());
  return new Set([...HOP_BY_HOP, ...named]);
}

export interface RelayOptions {
  method: string;
  headers: Headers;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** The client's address, appended to X-Forwarded-For ('' when unknown). */
  client: string;
  /** The client's disconnect: the upstream request is cancelled with it. */
  signal: AbortSignal;
  /** How long the upstream may take to send its headers; a streamed body then takes as long as it needs. */
  headersTimeoutMs: number;
}

export async function relay(destination: URL, options: RelayOptions): Promise<Relayed> {
  const drop = hopByHop(options.headers.get('connection'));
  const headers: Record<string, string> = {};
  options.headers.forEach((value, name) => {
    if (!drop.has(name) && !describesHop(name)) headers[name] = value;
  });
  const forwarded = forwardedFor(options.headers.get('x-forwarded-for'), options.client);
  if (forwarded !== null) headers['x-forwarded-for'] = forwarded;
  Object.assign(headers, forwardedHost(options.headers));
  headers.via = withOwnVia(headers.via);
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(destination, {
      method: options.method as 'GET',
      headers,
      body: options.body instanceof ReadableStream ? Readable.fromWeb(options.body as import('node:stream/web').ReadableStream<Uint8Array>) : options.body,
      signal: options.signal,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: 0,
    });
  } catch (error) {
    if (options.signal.aborted) return { status: CLIENT_CLOSED, headers: {}, body: null, clientGone: true };
    const timedOut = error instanceof errors.HeadersTimeoutError;
    const problem = timedOut ? `did not answer within ${options.headersTimeoutMs} ms` : 'is unreachable';
    throw new KgentsError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `upstream ${destination.origin} ${problem}`, {}, { cause: error });
  }
  const answerDrop = hopByHop(response.headers.connection);
  const answer: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !answerDrop.has(name) && !describesHop(name)) answer[name] = value;
  answer.via = withOwnVia(answer.via);
  const bodiless = options.method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304;
  if (bodiless) response.body.resume();
  return { status: response.statusCode, headers: answer, body: bodiless ? null : response.body };
}

/** Adds fields to a relayed answer; a field the upstream also sent keeps both (RateLimit is a list). */
export function withFields(relayed: Relayed, fields: [string, string][]): Relayed {
  if (fields.length === 0) return relayed;
  const headers = { ...relayed.headers };
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    const had = headers[key];
    headers[key] = had === undefined ? value : key === 'set-cookie' ? [had, value].flat() : `${had}, ${value}`;
  }
  return { ...relayed, headers };
}

/**
 * Writes a relayed answer straight to Node's response: status, fields and body as the upstream
 * sent them (a web Response would go through the adapter, which labels any answer without a
 * Content-Type as text/plain, a 304 included). A body the upstream cuts short is cut short for
 * the client too, so it cannot pass for a whole one.
 */
export function sendRelayed(outgoing: ServerResponse, relayed: Relayed): Response {
  if (relayed.clientGone) {
    outgoing.destroy();
    return RESPONSE_ALREADY_SENT;
  }
  outgoing.writeHead(relayed.status, relayed.headers);
  if (!relayed.body) outgoing.end();
  else pipeline(relayed.body, outgoing).catch(() => outgoing.destroy());
  return RESPONSE_ALREADY_SENT;
}

/** The same answer as a web Response, for callers outside Node's server. */
export function relayedResponse(relayed: Relayed): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(relayed.headers)) for (const v of [value].flat()) headers.append(name, v);
  return new Response(relayed.body ? (Readable.toWeb(relayed.body) as ReadableStream<Uint8Array>) : null, { status: relayed.status, headers });
}
