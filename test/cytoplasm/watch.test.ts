import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';
import { streamTicks } from '../support/upstream.ts';

let root: string;
let port: number;
let child: ChildProcess;
let slow: Server;
let slowUrl: string;
let stdout = '';
let stderr = '';

const waitFor = async (pattern: RegExp, stream: () => string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(stream())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout: ${stdout}\nstderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  // An upstream that takes 800 ms, so requests are in flight while the host reloads or stops.
  slow = createServer((req, res) => {
    if (!req.url?.includes('stream')) return void setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('slow ok'), 800);
    // An answer whose headers come at once and whose body takes a second: an LLM's stream.
    streamTicks(res, 5, 200);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
  root = scratchProject('watch');
  cpSync(join(REPO_ROOT, 'reflexes'), join(root, 'reflexes'), { recursive: true });
  port = await freePort();
  child = spawn(process.execPath, [join(REPO_ROOT, 'bin/kgents.js'), 'up', '-C', root, '--watch', '--port', String(port), '--no-nucleus', '--no-morpheus'], {
    env: { ...process.env, SPIN_VARIABLE_NUCLEUS_URL: slowUrl, KGENTS_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitFor(/watching reflexes/, () => stdout, 120_000);
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  slow.closeAllConnections();
  slow.close();
});

const url = (path: string) => `http://127.0.0.1:${port}${path}`;

describe('kgents up --watch', () => {
  it('swaps in a rebuilt reflex without dropping an in-flight request', async () => {
    expect((await fetch(url('/nowhere'))).status).toBe(404);
    const inFlight = fetch(url('/v1/chat/x')).then(async (r) => [r.status, await r.text()]);
    const spec = join(root, 'reflexes', 'api-router.reflex.ts');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace("respond: { status: 404, body: { error: { code: 'not_found'", "respond: { status: 410, body: { error: { code: 'gone'"));
    await waitFor(/reloaded api-router/, () => stdout);
    expect(await inFlight).toEqual([200, 'slow ok']);
    expect((await fetch(url('/nowhere'))).status).toBe(410);
  });

  it('serves a spec added while watching, and stops serving it once its file is deleted', async () => {
    const spec = join(root, 'reflexes', 'ping.reflex.ts');
    writeFileSync(spec, `export default { kind: 'router', name: 'ping', description: 'pong', route: '/ping', rules: [], fallback: { respond: { status: 200, body: { pong: true } } } };\n`);
    await waitFor(/reloaded ping/, () => stdout);
    expect(await (await fetch(url('/ping'))).json()).toEqual({ pong: true });
    unlinkSync(spec);
    await waitFor(/removed ping/, () => stdout);
    // The catch-all router answers it again, with the fallback the first test put in.
    expect((await fetch(url('/ping'))).status).toBe(410);
  });

  it('keeps the old component serving when a spec fails to build, and prints the error', async () => {
    const spec = join(root, 'reflexes', 'api-router.reflex.ts');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace("route: '/...',", "route: '/...', requiresLlm: true,"));
    await waitFor(/build failed; still serving the previous components/, () => stderr);
    expect(stderr).toContain('reflexes/api-router.reflex.ts: requiresLlm');
    expect((await fetch(url('/nowhere'))).status).toBe(410);
  });

  it('watches reflexes/ anew when the folder is deleted and made again', async () => {
    const reloads = () => stdout.split('reloaded api-router').length;
    const before = reloads();
    const failures = stderr.split('build failed').length;
    rmSync(join(root, 'reflexes'), { recursive: true });
    await waitFor(/no such folder/, () => stderr.split('build failed').slice(failures).join(''));
    cpSync(join(REPO_ROOT, 'reflexes'), join(root, 'reflexes'), { recursive: true });
    const spec = join(root, 'reflexes', 'api-router.reflex.ts');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace("respond: { status: 404, body: { error: { code: 'not_found'", "respond: { status: 418, body: { error: { code: 'teapot'"));
    await waitFor(/./, () => (reloads() > before ? 'reloaded' : ''));
    expect((await fetch(url('/nowhere'))).status).toBe(418);
  });

  it('on SIGTERM stops accepting, finishes in-flight requests, streamed bodies included, and exits 0', async () => {
    const inFlight = fetch(url('/v1/chat/y')).then(async (r) => [r.status, await r.text()]);
    const streaming = await fetch(url('/v1/chat/stream'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await inFlight).toEqual([200, 'slow ok']);
    expect(await streaming.text()).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
    expect(await exited).toBe(0);
    await expect(fetch(url('/nowhere'))).rejects.toThrow();
  });
});
