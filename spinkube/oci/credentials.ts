import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { credentialKeys } from './reference.ts';

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/**
 * Credentials for a registry as `docker login` leaves them in ~/.docker/config.json: inline
 * (`auths.<host>.auth`), or, as Docker Desktop and keychains keep them, with a credential helper
 * (`credHelpers.<host>`, else `credsStore`), which Docker's protocol asks: `docker-credential-<name>
 * get`, the registry on stdin, `{"Username","Secret"}` on stdout.
 */
export function dockerConfigCredentials(registry: string, env: Record<string, string | undefined> = process.env): Credentials | undefined {
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const names = credentialKeys(registry);
  const helper = names.map((n) => config.credHelpers?.[n]).find(Boolean) ?? config.credsStore;
  if (helper) {
    const fromHelper = helperCredentials(helper, registry, env);
    if (fromHelper) return fromHelper;
  }
  const entry = names.map((n) => config.auths?.[n]).find((e) => e?.auth);
  if (!entry?.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function helperCredentials(helper: string, registry: string, env: Record<string, string | undefined>): Credentials | undefined {
  const run = spawnSync(`docker-credential-${helper}`, ['get'], { input: registry, encoding: 'utf8', env: env as NodeJS.ProcessEnv, timeout: 10_000 });
  if (run.status !== 0 || !run.stdout) return undefined;
  try {
    const found = JSON.parse(run.stdout) as { Username?: string; Secret?: string };
    return found.Username && found.Secret ? { username: found.Username, password: found.Secret } : undefined;
  } catch {
    return undefined;
  }
}
