import { KgentsError } from '../../common/errors.ts';
import type { Credentials } from './credentials.ts';
import { MEDIA, type ImageManifest } from './media.ts';
import { ociDigest } from '../../common/digest.ts';
import { parseRef } from './reference.ts';
import { clientFor } from './registry.ts';

export interface PulledApp {
  manifest: ImageManifest;
  manifestDigest: string;
  config: Record<string, unknown>;
  /** Layer bytes by digest, each checked against its digest. */
  layers: Map<string, Buffer>;
}

/** Pulls an app back (what a node's containerd shim does), verifying every digest. */
export async function pullApp(refText: string, opts: { insecure?: boolean; credentials?: Credentials } = {}): Promise<PulledApp> {
  const ref = parseRef(refText);
  const client = clientFor(ref, opts);
  const get = async (path: string, accept: string, what: string) => Buffer.from(await (await client.expect(await client.call(path, { headers: { accept } }, 'pull'), [200], what)).arrayBuffer());
  const manifestBytes = await get(`/v2/${ref.repository}/manifests/${ref.reference}`, MEDIA.manifest, 'getting the manifest');
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const blob = async (digest: string) => {
    const bytes = await get(`/v2/${ref.repository}/blobs/${digest}`, '*/*', `getting ${digest}`);
    if (ociDigest(bytes) !== digest) throw new KgentsError('REGISTRY', `blob ${digest} does not match its digest`);
    return bytes;
  };
  const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as Record<string, unknown>;
  const layers = new Map<string, Buffer>();
  for (const layer of manifest.layers) layers.set(layer.digest, await blob(layer.digest));
  return { manifest, manifestDigest: ociDigest(manifestBytes), config, layers };
}
