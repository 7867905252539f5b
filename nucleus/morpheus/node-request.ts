import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { readBoundedBody } from '../../common/bounded-body.ts';
import { Cancel } from './cancel.ts';
import { GatewayError } from './errors.ts';

/**
 * On @hono/node-server, the body and the client's disconnect are read straight from Node's
 * request and response. Touching `c.req.raw.signal` or the web body stream makes the adapter
 * build a full web Request with a ReadableStream, which cost about a third of Morpheus's own
 * time per call (CPU profile of bench/morpheus.bench.ts). Other runtimes get the web-standard path.
 */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

const bindings = (c: Context): NodeBindings => (c.env ?? {}) as NodeBindings;

/** Cancelled when the client goes away before the answer is complete. */
export function clientSignal(c: Context): Cancel {
  const { outgoing } = bindings(c);
  if (!outgoing) return Cancel.following(c.req.raw.signal);
  const cancel = new Cancel();
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) cancel.abort(new Error('client disconnected'));
  });
  return cancel;
}

/** One request header; on Node read from the request itself, so no web Headers is built. */
export function requestHeader(c: Context, name: string): string | undefined {
  const { incoming } = bindings(c);
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}


/** The request body as text; one larger than `maxBytes` is refused once read (common/bounded-body.ts). */
export async function readText(c: Context, maxBytes: number): Promise<string> {
  const body = await readBoundedBody(c, maxBytes);
  if (body === 'too-large') throw new GatewayError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes (maxBodyBytes)`);
  return body.toString('utf8');
}

/**
 * Sends an event stream. On Node it writes to the socket itself, corking until the current
 * batch of events is encoded, so the events one upstream packet carried leave in one write
 * (a web stream costs a write and a wake-up per event). Stops reading when the client leaves.
 */
export function sendStream(c: Context, headers: Record<string, string>, texts: AsyncGenerator<string | Uint8Array>): Response {
  const { outgoing } = bindings(c);
  if (!outgoing) {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await texts.next();
        if (next.done) controller.close();
        else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : next.value);
      },
      cancel: () => void texts.return(undefined),
    });
    return new Response(body, { headers });
  }
  outgoing.writeHead(200, headers);
  void (async () => {
    try {
      for await (const text of texts) {
        if (outgoing.destroyed) break;
        if (!outgoing.writableCorked) {
          outgoing.cork();
          process.nextTick(() => outgoing.uncork());
        }
        outgoing.write(text);
      }
    } finally {
      outgoing.end();
    }
  })();
  return RESPONSE_ALREADY_SENT;
}
