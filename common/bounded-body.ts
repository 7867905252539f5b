import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { DISCARD_LIMIT_BYTES, discardBody } from './discard.ts';

/**
 * A request body of at most `maxBytes`, or `too-large`. A larger one is never held whole: the
 * rest is read and dropped first (up to DISCARD_LIMIT_BYTES), so a client still sending sees
 * the answer instead of a reset connection, whether the length was declared or the body came
 * chunked. On @hono/node-server the bytes are read from Node's request itself: a web body
 * stream would cost more, and a reader that stops half-way (Hono's bodyLimit) leaves the rest
 * unread, which the adapter then answers by destroying the socket.
 */
export async function readBoundedBody(c: Context, maxBytes: number): Promise<Buffer | 'too-large'> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const declared = Number(incoming ? incoming.headers['content-length'] : c.req.header('content-length'));
  if (declared > maxBytes + DISCARD_LIMIT_BYTES) return 'too-large';
  if (!incoming) {
    if (declared > maxBytes) {
      await discardBody(c.req.raw.body);
      return 'too-large';
    }
    const body = Buffer.from(await c.req.arrayBuffer());
    return body.length > maxBytes ? 'too-large' : body;
  }
  // Events, not `for await`: the async iterator destroys the request when it finishes, which
  // builds an AbortError (with a source-mapped stack) on every call.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > maxBytes + DISCARD_LIMIT_BYTES) resolve('too-large');
    });
    incoming.once('end', () => resolve(size > maxBytes ? 'too-large' : Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}
