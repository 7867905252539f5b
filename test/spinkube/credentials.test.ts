import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerConfigCredentials } from '../../spinkube/oci/credentials.ts';
import { apiHost } from '../../spinkube/oci/reference.ts';

const home = mkdtempSync(join(tmpdir(), 'kgents-creds-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A FAKE docker credential helper: answers `get` for one registry, as a keychain helper would. */
function fakeHelper(name: string, registry: string, username: string, secret: string): string {
  const bin = join(home, `bin-${name}`);
  mkdirSync(bin);
  const script = join(bin, `docker-credential-${name}`);
  writeFileSync(script, `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\n[ "$server" = "${registry}" ] || { echo "credentials not found" >&2; exit 1; }\necho '{"ServerURL":"${registry}","Username":"${username}","Secret":"${secret}"}'\n`);
  chmodSync(script, 0o755);
  return bin;
}

function dockerConfig(config: unknown): string {
  const dir = mkdtempSync(join(home, 'config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('registry credentials from ~/.docker/config.json', () => {
  it('reads inline auths, and asks a credential helper (credHelpers for the host, else credsStore)', () => {
    const inline = dockerConfig({ auths: { 'ghcr.io': { auth: Buffer.from('robot:s3cret').toString('base64') } } });
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: inline })).toEqual({ username: 'robot', password: 's3cret' });

    const bin = fakeHelper('keychain', 'ghcr.io', 'octo', 'from-keychain');
    const PATH = `${bin}:${process.env.PATH}`;
    const store = dockerConfig({ auths: { 'ghcr.io': {} }, credsStore: 'keychain' });
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: store, PATH })).toEqual({ username: 'octo', password: 'from-keychain' });
    const perHost = dockerConfig({ credHelpers: { 'ghcr.io': 'keychain' } });
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: perHost, PATH })).toEqual({ username: 'octo', password: 'from-keychain' });
    // A helper that knows nothing of the registry, or is not installed: no credentials, no crash.
    expect(dockerConfigCredentials('quay.io', { DOCKER_CONFIG: store, PATH })).toBeUndefined();
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: dockerConfig({ credsStore: 'not-installed' }), PATH })).toBeUndefined();
  });

  it("finds Docker Hub's credentials where `docker login` files them, and its API at the host that serves it", () => {
    const hub = dockerConfig({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('me:hub-token').toString('base64') } } });
    expect(dockerConfigCredentials('docker.io', { DOCKER_CONFIG: hub })).toEqual({ username: 'me', password: 'hub-token' });
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });
});
