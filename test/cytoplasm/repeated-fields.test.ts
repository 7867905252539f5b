import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { scratchProject } from '../support/tmp.ts';

// A field a request repeats reads as its copies joined with ", ", as a reflex under Spin reads it
// (wasi:http hands over every copy) — including the fields Node keeps only the first of.
let host: ReflexHost;

beforeAll(async () => {
  const root = scratchProject('repeated-fields');
  mkdirSync(join(root, 'reflexes'));
  writeFileSync(
    join(root, 'reflexes', 'fields.reflex.ts'),
    `export default { kind: 'router', name: 'fields', description: 'reads repeated fields', route: '/...',
      rules: [
        { match: { header: { name: 'authorization', equals: 'Bearer a, Bearer b' } }, action: { respond: { status: 200, body: 'both authorizations' } } },
        { match: { header: { name: 'authorization', present: true } }, action: { respond: { status: 200, body: 'one authorization' } } },
        { match: { header: { name: 'user-agent', equals: 'one/1, two/2' } }, action: { respond: { status: 200, body: 'both agents' } } },
        { match: { header: { name: 'x-tier', equals: 'gold, silver' } }, action: { respond: { status: 200, body: 'both tiers' } } },
      ],
      fallback: { respond: { status: 404 } } };`,
  );
  await buildApp({ root, outDir: join(root, 'dist') });
  host = await startHost({ distDir: join(root, 'dist'), port: 0, sensors: false });
});
afterAll(() => host?.close());

/** A GET with the given field lines, as sent (fetch would merge repeated fields before sending). */
function rawGet(lines: string[]): Promise<string> {
  const { port } = new URL(host.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(`GET / HTTP/1.1\r\nhost: x\r\n${lines.map((l) => `${l}\r\n`).join('')}connection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
    socket.on('error', reject);
  });
}

describe('repeated request fields on the host', () => {
  it('reads every copy, joined, for the fields Node keeps only the first of and for the rest', async () => {
    expect(await rawGet(['Authorization: Bearer a', 'authorization: Bearer b'])).toBe('both authorizations');
    expect(await rawGet(['authorization: Bearer a'])).toBe('one authorization');
    expect(await rawGet(['User-Agent: one/1', 'user-agent: two/2'])).toBe('both agents');
    expect(await rawGet(['x-tier: gold', 'x-tier: silver'])).toBe('both tiers');
  });
});
