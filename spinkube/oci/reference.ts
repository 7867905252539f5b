import { KgentsError } from '../../common/errors.ts';

export interface ImageRef {
  /** host[:port] */
  registry: string;
  repository: string;
  /** A tag, or a digest (sha256:...). */
  reference: string;
}

/** Parses `host[:port]/repo[:tag|@digest]`. The registry host is required: there is no default registry. */
export function parseRef(text: string): ImageRef {
  const m = /^([a-zA-Z0-9.-]+(?::\d+)?)\/([a-z0-9]+(?:[._\-/][a-z0-9]+)*)(?::([\w][\w.-]{0,127})|@(sha256:[a-f0-9]{64}))?$/.exec(text);
  if (!m || (!m[1].includes('.') && !m[1].includes(':') && m[1] !== 'localhost')) {
    throw new KgentsError('INVALID_REQUEST', `"${text}" is not an image reference: expected host[:port]/repository[:tag], e.g. localhost:5001/kgents/reflexes:v1`, { field: 'ref' });
  }
  return { registry: m[1], repository: m[2], reference: m[3] ?? m[4] ?? 'latest' };
}

export function isImageRef(text: string): boolean {
  try {
    parseRef(text);
    return true;
  } catch {
    return false;
  }
}

export const formatRef = (ref: ImageRef) => `${ref.registry}/${ref.repository}${ref.reference.startsWith('sha256:') ? '@' : ':'}${ref.reference}`;

/** Docker Hub is named `docker.io` in references, but its registry API answers at another host. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The host that serves a registry's API. */
export const apiHost = (registry: string) => (DOCKER_HUB.has(registry) ? 'registry-1.docker.io' : registry);

/** The names `docker login` may have filed a registry's credentials under (Docker Hub's is a URL of its own). */
export const credentialKeys = (registry: string) => (DOCKER_HUB.has(registry) ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'] : [registry, `https://${registry}`, `http://${registry}`]);
