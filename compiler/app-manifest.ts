import { z } from 'zod';
import { REFLEX_KINDS } from './spec/schema.ts';

/**
 * `dist/app.json`: what the build made, for the reflex host, `kgents push` and `kgents scaffold`.
 * Specs stay the source of truth; this records the compiled facts (hashes, sizes, what each
 * reflex reads) plus the normalized spec, so consumers need not re-run user TypeScript.
 */
export const BuiltReflex = z.object({
  name: z.string(),
  kind: z.enum(REFLEX_KINDS),
  file: z.string(),
  route: z.string().nullable(),
  component: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  buildMs: z.number(),
  /** Hash of everything the component was built from; equal keys mean an identical component. */
  cacheKey: z.string(),
  reads: z.object({ headers: z.array(z.string()), body: z.boolean() }),
  spec: z.record(z.string(), z.unknown()),
});

export const AppManifest = z.object({
  name: z.string(),
  version: z.string(),
  compilerVersion: z.string(),
  reflexes: z.array(BuiltReflex),
});

export type BuiltReflex = z.infer<typeof BuiltReflex>;
export type AppManifest = z.infer<typeof AppManifest>;
