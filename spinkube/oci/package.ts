import { ociDigest } from '../../common/digest.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDist } from '../../cytoplasm/app.ts';
import { MEDIA, type Descriptor, type ImageManifest } from './media.ts';
import { lockApp } from './locked-app.ts';

export interface Blob extends Descriptor {
  bytes: Buffer;
}

export interface SpinArtifact {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  config: Blob;
  layers: Blob[];
}

const blob = (mediaType: string, bytes: Buffer): Blob => ({ mediaType, digest: ociDigest(bytes), size: bytes.length, bytes });

/**
 * A built app in Spin's OCI layout: one wasm layer per component (sorted by id, so the same
 * build gives the same digests), then the locked app whose component sources name those layer
 * digests, and an image config that says `wasm`/`wasip1`.
 */
export async function packageApp(distDir: string): Promise<SpinArtifact> {
  const { manifest: app, spin } = await readDist(distDir);
  const reflexes = [...app.reflexes].sort((a, b) => a.name.localeCompare(b.name));
  const wasm = new Map<string, Blob>();
  for (const reflex of reflexes) wasm.set(reflex.name, blob(MEDIA.wasmLayer, await readFile(join(distDir, reflex.component))));
  const locked = lockApp(app, spin, new Map([...wasm].map(([id, b]) => [id, b.digest])));
  const lockedLayer = blob(MEDIA.lockedApp, Buffer.from(JSON.stringify(locked)));
  const layers = [...wasm.values(), lockedLayer];
  const config = blob(MEDIA.imageConfig, Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasip1', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  const descriptor = ({ mediaType, digest, size }: Blob): Descriptor => ({ mediaType, digest, size });
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config: descriptor(config), layers: layers.map(descriptor) };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, manifestDigest: ociDigest(manifestBytes), config, layers };
}
