import { KgentsError } from '../../common/errors.ts';
import type { Credentials } from './credentials.ts';
import { MEDIA } from './media.ts';
import { packageApp, type Blob } from './package.ts';
import { formatRef, parseRef, type ImageRef } from './reference.ts';
import { clientFor, type RegistryClient } from './registry.ts';

export interface PushOptions {
  distDir: string;
  ref: string;
  insecure?: boolean;
  credentials?: Credentials;
  onProgress?: (line: string) => void;
}

export interface PushResult {
  ref: string;
  manifestDigest: string;
  /** Blobs sent, and blobs the registry already had. */
  uploaded: number;
  present: number;
}

/** Pushes the built app: blobs the registry lacks (monolithic upload), then the manifest under the tag. */
export async function pushApp(opts: PushOptions): Promise<PushResult> {
  const ref = parseRef(opts.ref);
  const artifact = await packageApp(opts.distDir);
  const client = clientFor(ref, opts);
  const progress = opts.onProgress ?? (() => {});
  let uploaded = 0;
  let present = 0;
  for (const blob of [...artifact.layers, artifact.config]) {
    if (await upload(client, ref, blob)) {
      uploaded++;
      progress(`uploaded ${blob.digest.slice(0, 19)} ${blob.mediaType} (${blob.size} bytes)`);
    } else {
      present++;
      progress(`exists   ${blob.digest.slice(0, 19)} ${blob.mediaType}`);
    }
  }
  const put = await client.call(`/v2/${ref.repository}/manifests/${ref.reference}`, { method: 'PUT', headers: { 'content-type': MEDIA.manifest }, body: new Uint8Array(artifact.manifestBytes) });
  await client.expect(put, [201], 'putting the manifest');
  return { ref: formatRef(ref), manifestDigest: artifact.manifestDigest, uploaded, present };
}

/** Returns false when the registry already has the blob. */
async function upload(client: RegistryClient, ref: ImageRef, blob: Blob): Promise<boolean> {
  const head = await client.call(`/v2/${ref.repository}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (head.status === 200) return false;
  const start = await client.expect(await client.call(`/v2/${ref.repository}/blobs/uploads/`, { method: 'POST' }), [202], 'starting an upload');
  const location = start.headers.get('location');
  if (!location) throw new KgentsError('REGISTRY', `${ref.registry} started an upload without a Location header`);
  const target = new URL(location, `http://${ref.registry}`);
  target.searchParams.set('digest', blob.digest);
  const url = location.startsWith('http') ? target.toString() : `${target.pathname}${target.search}`;
  const put = await client.call(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(blob.bytes) });
  await client.expect(put, [201], `uploading ${blob.digest}`);
  return true;
}
