import { writeFileSync, mkdirSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { scratchProject } from '../support/tmp.ts';

// The host relays as a reverse proxy does: what the client sent, and what the upstream answered,
// with only the hop-by-hop fields taken out.
const GZIPPED = gzipSync('{"packed":true}');
let upstream: Server;
let host: ReflexHost;
let seen: { method: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/silent') return; // never answers
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/not-modified') return void res.writeHead(304, { etag: '"v1"' }).end();
      if (req.url === '/hops') return void res.writeHead(200, { connection: 'x-internal', 'x-internal': 'secret', 'keep-alive': 'timeout=1', 'content-type': 'text/plain', via: '1.1 app-proxy' }).end('ok');
      if (req.url === '/packed') return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(GZIPPED.length) }).end(req.method === 'HEAD' ? undefined : GZIPPED);
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }).end(JSON.stringify({ got: req.url }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as { port: number };
  const root = scratchProject('relay');
  mkdirSync(join(root, 'reflexes'));
  writeFileSync(
    join(root, 'reflexes', 'front.reflex.ts'),
    `export default { kind: 'router', name: 'front', description: 'relays', route: '/...', upstreams: { app: { variable: 'app_url', default: 'http://127.0.0.1:${port}' } },
      rules: [{ match: { path: { exact: '/empty' } }, action: { respond: { status: 204 } } }], fallback: { route: 'app' } };\n`,
  );
  await buildApp({ root, outDir: join(root, 'dist') });
  host = await startHost({ distDir: join(root, 'dist'), port: 0, sensors: false });
});
afterAll(async () => {
  await host?.close();
  upstream?.closeAllConnections();
  upstream?.close();
});

/** One exchange with the exact request headers given (fetch adds its own), and the raw answer. */
function exchange(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${host.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('relaying to the upstream', () => {
  it('sends the client\'s headers as sent, less the hop-by-hop ones, adding only Via, X-Forwarded-For and -Host', async () => {
    seen = [];
    await exchange('GET', '/plain', { 'x-trace': 't1', connection: 'keep-alive, x-hop', 'x-hop': 'secret', host: 'edge.example:3000' });
    const headers = seen[0].headers;
    expect(headers['x-trace']).toBe('t1');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers.via).toBe('1.1 kgents');
    expect([headers.host, headers['x-forwarded-host'], headers['x-forwarded-proto']]).toEqual([`127.0.0.1:${(upstream.address() as { port: number }).port}`, 'edge.example:3000', undefined]);
    for (const added of ['accept-language', 'sec-fetch-mode', 'user-agent', 'accept-encoding', 'x-hop']) expect(headers[added]).toBeUndefined();
  });

  it('appends the client to X-Forwarded-For, and passes on none of the fields that describe a hop, as the Spin path does', async () => {
    seen = [];
    await exchange('GET', '/plain', { 'x-forwarded-for': '192.0.2.1, 198.51.100.2', 'kgents-client': '6.6.6.6', 'spin-client-addr': '6.6.6.6:1', 'spin-full-url': 'http://elsewhere/' });
    const headers = seen[0].headers;
    expect(headers['x-forwarded-for']).toBe('192.0.2.1, 198.51.100.2, 127.0.0.1');
    expect(Object.keys(headers).filter((n) => n === 'kgents-client' || n.startsWith('spin-'))).toEqual([]);
  });

  it('keeps the host a proxy before it named, and passes on its X-Forwarded-Proto, as the Spin path does', async () => {
    seen = [];
    await exchange('GET', '/plain', { host: '10.0.0.5:3000', via: '1.1 ingress', 'x-forwarded-host': 'api.example', 'x-forwarded-proto': 'https' });
    expect([seen[0].headers['x-forwarded-host'], seen[0].headers['x-forwarded-proto']]).toEqual(['api.example', 'https']);
    expect(seen[0].headers.via).toBe('1.1 ingress, 1.1 kgents');
  });

  it('passes a body with its declared length, and one behind Expect: 100-continue', async () => {
    seen = [];
    const sized = await exchange('POST', '/sized', { 'content-type': 'application/json', 'content-length': '7' }, '{"a":1}');
    expect(sized.status).toBe(200);
    expect(seen[0]).toMatchObject({ body: '{"a":1}', headers: { 'content-length': '7' } });
    expect(seen[0].headers['transfer-encoding']).toBeUndefined();
    const expecting = await exchange('POST', '/continue', { expect: '100-continue', 'content-length': '5' }, 'hello');
    expect(expecting.status).toBe(200);
    expect(seen[1].body).toBe('hello');
  });

  it('answers as the upstream answered: encoding and length kept, cookies apart, hop-by-hop fields out, itself added to Via', async () => {
    const packed = await exchange('GET', '/packed');
    expect(packed.headers).toMatchObject({ 'content-encoding': 'gzip', 'content-length': String(GZIPPED.length), via: '1.1 kgents' });
    expect(packed.body.equals(GZIPPED)).toBe(true);
    const head = await exchange('HEAD', '/packed');
    expect(head.headers['content-length']).toBe(String(GZIPPED.length));
    expect(head.body.length).toBe(0);
    expect((await exchange('GET', '/cookies')).headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const hops = await exchange('GET', '/hops');
    expect(hops.headers['x-internal']).toBeUndefined();
    expect(hops.headers['keep-alive']).not.toBe('timeout=1');
    expect(hops.headers.via).toBe('1.1 app-proxy, 1.1 kgents');
  });

  it('adds no Content-Type to an answer without one: the upstream\'s 304, the reflex\'s own 204', async () => {
    const notModified = await exchange('GET', '/not-modified');
    expect(notModified.status).toBe(304);
    expect(notModified.headers).toMatchObject({ etag: '"v1"' });
    expect(notModified.headers['content-type']).toBeUndefined();
    const empty = await exchange('GET', '/empty');
    expect(empty.status).toBe(204);
    expect(empty.headers['content-type']).toBeUndefined();
    // The web-standard entry point gives the same answers.
    expect((await host.fetch(new Request('http://edge/empty'))).status).toBe(204);
    const viaFetch = await host.fetch(new Request('http://edge/cookies'));
    expect(viaFetch.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await viaFetch.json()).toEqual({ got: '/cookies' });
  });

  it('counts a client that left before the answer as 499, not as an upstream failure', async () => {
    const gone = fetch(`${host.url}/silent`, { signal: AbortSignal.timeout(200) }).catch((e) => e);
    expect(await gone).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 100));
    const metrics = await (await fetch(`${host.url}/metrics`)).text();
    expect(metrics).toContain('kgents_requests_total{reflex="front",status="499"} 1');
    expect(metrics).not.toContain('status="502"');
  });
});
