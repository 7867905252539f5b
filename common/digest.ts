import { createHash } from 'node:crypto';

/** Hex SHA-256 of some bytes (app.json records it; OCI digests prefix it with `sha256:`). */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const ociDigest = (bytes: Uint8Array): string => `sha256:${sha256(bytes)}`;
