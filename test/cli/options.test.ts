import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkRedisUrl, httpUrl, portNumber, positiveNumber, wholeNumber } from '../../cli/options.ts';
import { REPO_ROOT } from '../support/tmp.ts';

function kgents(args: string[], env: Record<string, string> = {}) {
  const { KGENTS_REDIS_URL: _ignored, ...inherited } = process.env;
  const run = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bin/kgents.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000, env: { ...inherited, ...env } });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
}

describe('bad command lines', () => {
  it('ports are whole numbers from 0 to 65535; counts are whole numbers; URLs have the right scheme', () => {
    expect(['0', '8080', '65535'].map(portNumber)).toEqual([0, 8080, 65535]);
    for (const bad of ['', 'abc', '-1', '1.5', '65536', '8080x']) expect(() => portNumber(bad), bad).toThrow(InvalidArgumentError);
    expect(wholeNumber('3')).toBe(3);
    for (const bad of ['', '2x', '-2', '0.5']) expect(() => wholeNumber(bad), bad).toThrow(InvalidArgumentError);
    expect(['0.5', '30', '120'].map(positiveNumber)).toEqual([0.5, 30, 120]);
    for (const bad of ['', '0', '-1', '1e3', '10s']) expect(() => positiveNumber(bad), bad).toThrow(InvalidArgumentError);
    expect(httpUrl('http://kgents-morpheus:8080')).toBe('http://kgents-morpheus:8080');
    for (const bad of ['notaurl', 'ftp://x', 'localhost:8080']) expect(() => httpUrl(bad), bad).toThrow(InvalidArgumentError);
    expect(() => checkRedisUrl('rediss://user:pw@cache:6380/1')).not.toThrow();
    for (const unset of [undefined, '']) expect(() => checkRedisUrl(unset)).not.toThrow();
    expect(() => checkRedisUrl('localhost:6379')).toThrow(/expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it.each([
    [['nucleus', '--port', 'abc'], {}, /option '-p, --port <port>' argument 'abc' is invalid\. expected a port number from 0 to 65535/],
    [['up', '--no-build', '--morpheus-port', '70000'], {}, /option '--morpheus-port <port>' argument '70000' is invalid/],
    [['nucleus', '--morpheus', 'ftp://m'], {}, /option '--morpheus <url>' argument 'ftp:\/\/m' is invalid\. expected an http:\/\/ or https:\/\/ URL/],
    [['up', '--no-build', '--upstream-timeout', '0'], {}, /option '--upstream-timeout <seconds>' argument '0' is invalid\. expected a number above 0/],
    [['scaffold', '--image', 'x', '--replicas', '2x'], {}, /option '--replicas <n>' argument '2x' is invalid\. expected a whole number/],
    [['up', '--no-build', '--redis', 'notaurl'], {}, /^error: --redis \(or KGENTS_REDIS_URL\): expected a redis:\/\/ or rediss:\/\/ URL, such as redis:\/\/127\.0\.0\.1:6379$/m],
    // Not echoed back: a Redis URL may carry a password.
    [['nucleus'], { KGENTS_REDIS_URL: 'pw-s3cret@cache:6379' }, /^error: --redis \(or KGENTS_REDIS_URL\): expected a redis:\/\/ or rediss:\/\/ URL, such as redis:\/\/127\.0\.0\.1:6379$/m],
  ] as const)('kgents %j refuses at once, naming the option (exit 64)', (args, env, message) => {
    const run = kgents([...args], env);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('s3cret');
    expect(run.status).toBe(64);
  });

  it('--help names KGENTS_REDIS_URL without printing its value, which may hold a password', () => {
    for (const command of ['up', 'nucleus']) {
      const run = kgents([command, '--help'], { KGENTS_REDIS_URL: 'redis://:hunter2@cache:6379' });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('KGENTS_REDIS_URL');
      expect(run.stdout).not.toContain('hunter2');
    }
  });

  it('a command that needs a built app names the folder and what to run first (exit 66)', () => {
    const run = kgents(['scaffold', '--image', 'localhost:5001/kgents/app:v1', '--dist', '/nonexistent-dist']);
    expect(run.stderr).toBe('error: /nonexistent-dist: no built app here (app.json, spin.toml): run `kgents build` first\n');
    expect(run.status).toBe(66);
  });
});
