/** The media types of a Spin app in an OCI registry (as `spin registry push` writes them). */
export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  imageConfig: 'application/vnd.oci.image.config.v1+json',
  wasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  lockedApp: 'application/vnd.fermyon.spin.application.v1+config',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}
