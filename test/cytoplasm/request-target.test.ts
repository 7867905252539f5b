import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { AMBIGUOUS_PATH } from '../../compiler/abi.ts';
import { parseTarget } from '../../cytoplasm/request-target.ts';
import { scratchProject } from '../support/tmp.ts';
import { rawGet as rawGetFrom } from '../support/raw-http.ts';
import { startEchoUpstream } from '../support/upstream.ts';

// A gate that denies /admin and forwards everything else. A reflex must decide on the path the
// upstream will receive, and the request must go to the upstream it named, whatever the target.
// The same targets through the Spin path: test/compiler/spin-path.test.ts.
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let elsewhere: Awaited<ReturnType<typeof startEchoUpstream>>;
let host: ReflexHost;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  elsewhere = await startEchoUpstream();
  const root = scratchProject('request-target');
  mkdirSync(join(root, 'reflexes'));
  writeFileSync(
    join(root, 'reflexes', 'gate.reflex.ts'),
    `export default { kind: 'router', name: 'gate', description: 'denies /admin', route: '/...',
      upstreams: { app: { variable: 'app_url', default: ${JSON.stringify(upstream.url)} } },
      rules: [
        { match: { path: { prefix: '/admin' } }, action: { deny: { status: 403, message: 'admin is closed' } } },
        { match: { path: { prefix: '/' } }, action: { route: 'app' } },
      ],
      fallback: { respond: { status: 404 } } };`,
  );
  await buildApp({ root, outDir: join(root, 'dist') });
  host = await startHost({ distDir: join(root, 'dist'), port: 0, sensors: false });
});
afterAll(async () => {
  await host?.close();
  await upstream?.close();
  await elsewhere?.close();
});

const rawGet = (target: string) => rawGetFrom(host.url, target);

describe('request targets', () => {
  it.each(['/public/../admin', '/public/%2e%2e/admin/users', '/public/./x?y=1', '/public/.%2E', '/public\\..\\admin', `http://127.0.0.1:1/public/../admin`])(
    '%s has a dot segment: 400, and the upstream sees nothing',
    async (target) => {
      const before = upstream.seen.length;
      const answer = await rawGet(target);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toEqual({ code: 'bad_request', message: AMBIGUOUS_PATH });
      expect(upstream.seen.length).toBe(before);
    },
  );

  it.each(['/%61dmin', '/public/%7Euser', '/public/x%2dy'])('%s escapes an unreserved character, which an upstream would decode: 400', async (target) => {
    const before = upstream.seen.length;
    const answer = await rawGet(target);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.message).toBe(AMBIGUOUS_PATH);
    expect(upstream.seen.length).toBe(before);
  });

  it.each(['/admin\\x', '/public\\admin'])('%s has a backslash, which an upstream may read as /: 400', async (target) => {
    const before = upstream.seen.length;
    const answer = await rawGet(target);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.message).toBe(AMBIGUOUS_PATH);
    expect(upstream.seen.length).toBe(before);
  });

  it('gives the reflex an origin-form path as sent, as Spin does, characters a URL parser would escape included', async () => {
    expect(parseTarget('/curly{x}|y?a={b}')).toEqual({ path: '/curly{x}|y', query: 'a={b}' });
    expect((await rawGet('/public/curly{x}')).status).toBe(200);
  });

  it('counts a refused path in the request metrics, under no reflex', async () => {
    await rawGet('/public/../admin');
    const metrics = await (await fetch(`${host.url}/metrics`)).text();
    expect(metrics).toMatch(/^kgents_requests_total\{reflex="-",status="400"\} [1-9]/m);
  });

  it('other escapes pass as they are', async () => {
    const before = upstream.seen.length;
    expect((await rawGet('/public%2Fadmin/x%20y?q=%61')).status).toBe(200);
    expect(upstream.seen[before].url).toBe('/public%2Fadmin/x%20y?q=%61');
  });

  it('segments that only start with a dot are ordinary', async () => {
    const before = upstream.seen.length;
    expect((await rawGet('/.well-known/x/..y/...')).status).toBe(200);
    expect(upstream.seen[before].url).toBe('/.well-known/x/..y/...');
  });

  it('a target starting with // stays a path on the named upstream', async () => {
    const authority = new URL(elsewhere.url).host;
    const answer = await rawGet(`//${authority}/steal`);
    expect(answer.status).toBe(200);
    expect(upstream.seen.at(-1)!.url).toBe(`//${authority}/steal`);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('an absolute-form target is served by its path on the named upstream', async () => {
    const answer = await rawGet(`${elsewhere.url}/steal?x=1`);
    expect(answer.status).toBe(200);
    expect(upstream.seen.at(-1)!.url).toBe('/steal?x=1');
    expect(elsewhere.seen).toHaveLength(0);
    expect((await rawGet(`${elsewhere.url}/admin`)).status).toBe(403);
  });
});

describe('parseTarget', () => {
  // Targets the fast path takes must come out as URL would serialize them.
  it.each(['/', '/v1/chat/completions', '/a/b?x=1&y=%20z', '/a:b@c/~d_e-f.g', '/x?', '/a//b', "/q?a=(1)*2;b=!$"])('%s reads as URL reads it', (target) => {
    const url = new URL(`http://origin${target}`);
    expect(parseTarget(target)).toEqual({ path: url.pathname, query: url.search.slice(1) });
  });

  it.each(['*', 'ftp://host/x', 'http://[bad/x'])('%s is not a target the host serves', (target) => {
    expect(parseTarget(target)).toEqual({ refused: expect.stringContaining('neither a path nor an http(s) URL') });
  });

  it('the host answers such a target with a JSON 400', async () => {
    const answer = await rawGet('*');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe('bad_request');
  });
});
