import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import { startFakeLlm } from '../support/fake-llm-upstream.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';
import { REPO_ROOT } from '../support/tmp.ts';

const KGENTS = resolve(REPO_ROOT, 'bin/kgents.js');
const { SPIN_VARIABLE_NUCLEUS_URL: _ignored, KGENTS_REDIS_URL: _alsoIgnored, MORPHEUS_API_KEY: _key, MORPHEUS_API_KEYS: _keys, ...inherited } = process.env;

beforeAll(async () => {
  await shippedApp();
});

describe('kgents up', () => {
  it('points the reflexes at the nucleus it started, on whatever port it got', async () => {
    const [port, nucleusPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [KGENTS, 'up', '--no-build', '--out', SHIPPED_DIST, '--port', String(port), '--nucleus-port', String(nucleusPort), '--morpheus-port', '0'], {
      cwd: REPO_ROOT,
      env: { ...inherited, KGENTS_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    try {
      await new Promise<void>((started, failed) => {
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk) && stdout.includes('nucleus on') && started());
        child.once('exit', (code) => failed(new Error(`kgents up exited with ${code}`)));
      });
      // It says which reflex serves which route, and where a chain goes.
      expect(stdout).toMatch(/^\/v1\/agents\/\.\.\.\s+agent-limit -> api-router\s+rate-limit$/m);
      expect(stdout).toMatch(/^\/\.\.\.\s+api-router\s+router$/m);
      // The shipped router sends /v1/agents to the variable nucleus_url, whose default is port 8081.
      const agents = await fetch(`http://127.0.0.1:${port}/v1/agents`, { headers: { 'x-agent-id': 'a1' } });
      expect(agents.status).toBe(200);
      expect(await agents.json()).toHaveProperty('agents');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('with inbound keys on its Morpheus, lets the nucleus beside it in with the first key', async () => {
    const llm = await startFakeLlm((input) => `keyed: ${input}`);
    const [port, morpheusPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [KGENTS, 'up', '--no-build', '--out', SHIPPED_DIST, '--port', String(port), '--nucleus-port', '0', '--morpheus-port', String(morpheusPort)], {
      cwd: REPO_ROOT,
      env: { ...inherited, KGENTS_LOG_LEVEL: 'error', MORPHEUS_API_KEYS: 'k-one,k-two', MORPHEUS_UPSTREAM_URL: `${llm.url}/v1` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((started, failed) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('reflex host on') && started());
        child.once('exit', (code) => failed(new Error(`kgents up exited with ${code}`)));
      });
      const chat = (base: string, headers: Record<string, string> = {}) =>
        fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
      expect((await chat(`http://127.0.0.1:${morpheusPort}`)).status).toBe(401);
      const relayed = await chat(`http://127.0.0.1:${port}`);
      expect(relayed.status).toBe(200);
      expect((await relayed.json()).choices[0].message.content).toBe('keyed: hi');
    } finally {
      child.kill('SIGTERM');
      await llm.close();
    }
  });

  it('whose port is taken exits at once (75), naming the address, though its companions had started', async () => {
    const holder = createServer();
    const port = await new Promise<number>((listening) => holder.listen(0, '127.0.0.1', () => listening((holder.address() as { port: number }).port)));
    try {
      const run = spawnSync(process.execPath, [KGENTS, 'up', '--no-build', '--out', SHIPPED_DIST, '--port', String(port), '--nucleus-port', '0', '--morpheus-port', '0'], {
        cwd: REPO_ROOT,
        env: { ...inherited, KGENTS_LOG_LEVEL: 'error' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.stderr).toContain(`error: 127.0.0.1:${port} is already in use: stop what holds it, or choose another port`);
      expect(run.status).toBe(75);
    } finally {
      holder.close();
    }
  });

  it('refuses at once what it would fail on after starting its companions: two servers on one port, no built app', () => {
    const up = (args: string[]) => spawnSync(process.execPath, [KGENTS, 'up', ...args], { cwd: REPO_ROOT, env: { ...inherited, KGENTS_LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 30_000 });
    const samePort = up(['--no-build', '--out', SHIPPED_DIST, '--port', '8081']);
    expect(samePort.status).toBe(64);
    expect(samePort.stderr).toBe("error: --port: 8081 is also --nucleus-port's: give one of them another port\n");
    // Without the nucleus, the port is free for the host; --no-build then needs a built app.
    const noApp = up(['--no-build', '--out', resolve(REPO_ROOT, '.kgents', 'tmp', 'no-such-dist'), '--port', '8081', '--no-nucleus', '--morpheus-port', '0']);
    expect(noApp.status).toBe(66);
    expect(noApp.stderr).toContain('no built app here (app.json, spin.toml): run `kgents build` first');
    expect(noApp.stderr).not.toContain('listening');
  });
});
