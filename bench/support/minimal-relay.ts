import { Hono } from 'hono';
import { Agent, request } from 'undici';
import { listen } from '../../common/listen.ts';
import { readText, sendStream } from '../../nucleus/morpheus/node-request.ts';

/**
 * The floor for a gateway built like Morpheus (Hono on Node, undici to the upstream) with none
 * of its features: no validation, translation, auth, limits, retries or metrics. It parses the
 * request, relays it, and relays the answer (parsed and re-encoded, or the stream's chunks as
 * they come). Prints its URL, runs until killed.
 */
const upstream = `${process.argv[2]}/v1/chat/completions`;
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const app = new Hono().post('/v1/chat/completions', async (c) => {
  const body = JSON.parse(await readText(c, Infinity)) as { stream?: boolean };
  const answer = await request(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher });
  if (!body.stream) return c.json(JSON.parse(await answer.body.text()));
  return sendStream(c, { 'content-type': 'text/event-stream' }, (async function* () {
    for await (const chunk of answer.body) yield (chunk as Buffer).toString();
  })());
});
process.stdout.write(`${(await listen(app.fetch, { port: 0, host: '127.0.0.1' })).url}\n`);
