import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import type { BuildResult } from '../../compiler/build.ts';
import { LockedApp } from '../../spinkube/oci/locked-app.ts';
import { MEDIA } from '../../spinkube/oci/media.ts';
import { pullApp } from '../../spinkube/oci/pull.ts';
import { pushApp } from '../../spinkube/oci/push.ts';
import { RegistryServer } from '../support/registry-server.ts';
import { shippedApp } from '../support/shipped-app.ts';
import { REPO_ROOT } from '../support/tmp.ts';

let registry: RegistryServer;
let built: BuildResult;
const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

beforeAll(async () => {
  [registry, built] = await Promise.all([RegistryServer.start(), shippedApp()]);
}, 300_000);
afterAll(() => registry?.stop());

describe('kgents push to a real registry (docker-registry on loopback)', () => {
  it('pushes, and what is pulled back is a Spin app whose components point at their layers', async () => {
    const ref = `${registry.host}/kgents/reflexes:v1`;
    const lines: string[] = [];
    const pushed = await pushApp({ distDir: built.outDir, ref, insecure: true, onProgress: (l) => lines.push(l) });
    expect(pushed.uploaded).toBe(built.manifest.reflexes.length + 2);
    expect(lines.every((l) => l.startsWith('uploaded '))).toBe(true);

    const pulled = await pullApp(ref, { insecure: true });
    expect(pulled.manifestDigest).toBe(pushed.manifestDigest);
    expect(pulled.manifest.mediaType).toBe(MEDIA.manifest);
    expect(pulled.manifest.config.mediaType).toBe(MEDIA.imageConfig);
    expect(pulled.config).toMatchObject({ architecture: 'wasm', os: 'wasip1' });
    const types = pulled.manifest.layers.map((l) => l.mediaType);
    expect(types.filter((t) => t === MEDIA.wasmLayer)).toHaveLength(built.manifest.reflexes.length);
    expect(types.filter((t) => t === MEDIA.lockedApp)).toHaveLength(1);
    for (const layer of pulled.manifest.layers) expect(sha(pulled.layers.get(layer.digest)!)).toBe(layer.digest);

    const lockedLayer = pulled.manifest.layers.find((l) => l.mediaType === MEDIA.lockedApp)!;
    const locked = LockedApp.parse(JSON.parse(pulled.layers.get(lockedLayer.digest)!.toString('utf8')));
    expect(locked.components.map((c) => c.id).sort()).toEqual(built.manifest.reflexes.map((r) => r.name).sort());
    for (const component of locked.components) {
      const local = readFileSync(join(built.outDir, 'reflexes', `${component.id}.wasm`));
      expect(component.source.digest).toBe(sha(local));
      expect(pulled.manifest.layers.some((l) => l.digest === component.source.digest && l.mediaType === MEDIA.wasmLayer)).toBe(true);
    }
    expect(locked.triggers.map((t) => t.trigger_config.component).sort()).toEqual(built.manifest.reflexes.map((r) => r.name).sort());
  });

  it('a second push sends nothing new and gives the same digest', async () => {
    const ref = `${registry.host}/kgents/again:v1`;
    const first = await pushApp({ distDir: built.outDir, ref, insecure: true });
    const second = await pushApp({ distDir: built.outDir, ref, insecure: true });
    expect(second).toMatchObject({ manifestDigest: first.manifestDigest, uploaded: 0, present: first.uploaded });
  });

  it('clear errors: bad reference, no build, unreachable registry', async () => {
    await expect(pushApp({ distDir: built.outDir, ref: 'reflexes', insecure: true })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('host[:port]/repository[:tag]') });
    await expect(pushApp({ distDir: join(REPO_ROOT, '.kgents', 'tmp', 'missing'), ref: `${registry.host}/a:b`, insecure: true })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('kgents build') });
    const closed = await freePort();
    await expect(pushApp({ distDir: built.outDir, ref: `127.0.0.1:${closed}/a:b`, insecure: true })).rejects.toMatchObject({ code: 'REGISTRY', message: expect.stringContaining(`cannot reach registry 127.0.0.1:${closed}`) });
  });

  it('CLI: prints progress on stderr and the pushed digest on stdout; --help works', async () => {
    const closedPort = await freePort();
    const run = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
    const ok = run(['push', `${registry.host}/kgents/cli:v1`, '--dist', built.outDir, '--insecure']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^pushed ${registry.host}/kgents/cli:v1@sha256:[a-f0-9]{64}\\n$`));
    expect(ok.stderr).toContain('uploaded ');
    const bad = run(['push', 'nohost', '--dist', built.outDir]);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('is not an image reference');
    const unreachable = run(['push', `127.0.0.1:${closedPort}/kgents/cli:v1`, '--dist', built.outDir, '--insecure']);
    expect(unreachable.status).toBe(69);
    expect(unreachable.stderr).toContain(`cannot reach registry 127.0.0.1:${closedPort}`);
    const plainHttp = run(['push', `${registry.host}/kgents/cli:v1`, '--dist', built.outDir]);
    expect(plainHttp.status).toBe(69);
    expect(plainHttp.stderr).toBe(`error: cannot reach registry ${registry.host}: it does not answer HTTPS (a plain-HTTP registry needs --insecure)\n`);
    const passwordForNobody = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'push', `${registry.host}/kgents/cli:v1`, '--dist', built.outDir, '--insecure', '--password-stdin'], { encoding: 'utf8', cwd: REPO_ROOT, input: 'secret\n', env: { ...process.env, KGENTS_REGISTRY_USERNAME: '' } });
    expect(passwordForNobody.status).toBe(64);
    expect(passwordForNobody.stderr).toContain('--password-stdin: a password needs a user: add --username');
    expect(run(['push', '--help']).status).toBe(0);
  });
});

describe('registry auth', () => {
  let server: Server;
  let base: string;
  let dockerConfig: string;
  const seen: { path: string; authorization?: string }[] = [];

  beforeAll(async () => {
    // FAKE registry with a token service, as Docker Hub or GHCR: 401 + Bearer challenge, token for basic credentials.
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.url?.startsWith('/token')) {
        const ok = req.headers.authorization === `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;
        return res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"token":"tok-123"}' : '{}');
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        return res.writeHead(401, { 'www-authenticate': `Bearer realm="${base}/token",service="fake-registry",scope="repository:team/app:pull,push"`, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      }
      req.resume();
      req.on('end', () => {
        if (req.method === 'HEAD') return res.writeHead(404).end();
        if (req.method === 'POST') return res.writeHead(202, { location: '/v2/team/app/blobs/uploads/u1' }).end();
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    dockerConfig = mkdtempSync(join(tmpdir(), 'kgents-docker-'));
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [base.slice(7)]: { auth: Buffer.from('robot:s3cret').toString('base64') } } }));
  });
  afterAll(() => {
    server?.close();
    rmSync(dockerConfig, { recursive: true, force: true });
  });

  it('answers the Bearer challenge with a token got using ~/.docker/config.json credentials', async () => {
    const previous = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dockerConfig;
    try {
      await pushApp({ distDir: built.outDir, ref: `${base.slice(7)}/team/app:v1`, insecure: true });
    } finally {
      if (previous === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = previous;
    }
    const token = seen.find((s) => s.path.startsWith('/token'))!;
    expect(token.path).toContain('service=fake-registry');
    expect(token.authorization).toBe(`Basic ${Buffer.from('robot:s3cret').toString('base64')}`);
    expect(token.path).toContain(encodeURIComponent('repository:team/app:pull,push'));
    expect(seen.filter((s) => s.path.startsWith('/v2/')).at(-1)!.authorization).toBe('Bearer tok-123');
  });

  it('wrong credentials from flags: UNAUTHORIZED, not a crash', async () => {
    await expect(pushApp({ distDir: built.outDir, ref: `${base.slice(7)}/team/app:v1`, insecure: true, credentials: { username: 'robot', password: 'wrong' } })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
