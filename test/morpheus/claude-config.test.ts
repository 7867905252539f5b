import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClaudeCliBackend } from '../../nucleus/morpheus/backends/claude-cli.ts';
import { cliConfigDir } from '../../nucleus/morpheus/backends/claude-config.ts';
import { Cancel } from '../../nucleus/morpheus/cancel.ts';
import { REPO_ROOT } from '../support/tmp.ts';

/** A folder laid out as Kubernetes mounts a Secret: files behind `..data` symlinks, mode 0400. */
function secretVolume(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kgents-secret-'));
  const version = join(dir, '..2026_11_23_10_00_00.1');
  mkdirSync(version);
  writeFileSync(join(version, '.credentials.json'), '{"claudeAiOauth":{"accessToken":"t"}}');
  writeFileSync(join(version, 'config.json'), '{"theme":"dark"}');
  for (const f of ['.credentials.json', 'config.json']) chmodSync(join(version, f), 0o400);
  symlinkSync('..2026_11_23_10_00_00.1', join(dir, '..data'));
  symlinkSync('..data/.credentials.json', join(dir, '.credentials.json'));
  symlinkSync('..data/config.json', join(dir, 'config.json'));
  return dir;
}

const readOnly = { canWrite: async () => false };

describe('the claude CLI config dir', () => {
  it('is used as it is when the CLI can write into it, or when it does not exist yet', async () => {
    const writable = mkdtempSync(join(tmpdir(), 'kgents-claude-home-'));
    expect(await cliConfigDir(writable)).toBe(writable);
    expect(readdirSync(writable)).toEqual([]); // the write probe leaves nothing behind
    expect(await cliConfigDir(join(writable, 'fresh'))).toBe(join(writable, 'fresh'));
  });

  it('becomes a private working copy when it is read-only, as a mounted Secret is', async () => {
    const secret = secretVolume();
    const workRoot = mkdtempSync(join(tmpdir(), 'kgents-work-'));
    const copy = await cliConfigDir(secret, { ...readOnly, workRoot });
    expect(copy.startsWith(join(workRoot, 'kgents-claude-'))).toBe(true);
    expect(statSync(copy).mode & 0o777).toBe(0o700);
    for (const f of ['.credentials.json', 'config.json']) {
      expect(lstatSync(join(copy, f)).isFile()).toBe(true); // the symlinks' targets, not links
      expect(statSync(join(copy, f)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(copy, f), 'utf8')).toBe(readFileSync(join(secret, f), 'utf8'));
    }
  });

  it('the CLI runs on the working copy and writes there, never into the Secret', async () => {
    const secret = secretVolume();
    const bin = mkdtempSync(join(tmpdir(), 'kgents-fake-claude-'));
    copyFileSync(join(REPO_ROOT, 'test', 'support', 'fake-claude', 'claude'), join(bin, 'claude'));
    chmodSync(join(bin, 'claude'), 0o755);
    const backend = new ClaudeCliBackend('claude-cli', join(bin, 'claude'), secret, 10_000, readOnly);
    const options = { signal: new Cancel(), connectTimeoutMs: 1000, responseTimeoutMs: 10_000 };
    const answer = await backend.complete({ model: 'claude-cli-haiku', messages: [{ role: 'user', content: 'hi' }] }, options);
    expect(answer.content).toBe('cli(claude-cli-haiku): hi');
    await backend.complete({ model: 'claude-cli-haiku', messages: [{ role: 'user', content: 'again' }] }, options);
    const calls = readFileSync(join(bin, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { configDir: string });
    expect(calls).toHaveLength(2);
    expect(calls[0].configDir).not.toBe(secret);
    expect(calls[1].configDir).toBe(calls[0].configDir); // copied once
    expect(JSON.parse(readFileSync(join(calls[0].configDir, '.claude.json'), 'utf8'))).toMatchObject({ numStartups: 1 });
    expect(readFileSync(join(calls[0].configDir, '.credentials.json'), 'utf8')).toContain('accessToken');
    expect(existsSync(join(secret, '.claude.json'))).toBe(false);
  });
});
