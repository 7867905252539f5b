import { z } from 'zod';
import type { AppManifest } from '../../compiler/app-manifest.ts';
import type { SpinToml } from '../../cytoplasm/app.ts';

/**
 * Spin's locked app (spin_lock_version 1): the manifest resolved, with each component's source
 * replaced by the digest of its wasm layer, which is how Spin finds the code in the image.
 */
export const LockedApp = z.object({
  spin_lock_version: z.literal(1),
  metadata: z.object({ name: z.string(), version: z.string(), trigger: z.object({ type: z.literal('http') }) }),
  variables: z.record(z.string(), z.object({ default: z.string().optional(), required: z.boolean().optional(), secret: z.boolean().optional() })),
  triggers: z.array(z.object({ id: z.string(), trigger_type: z.literal('http'), trigger_config: z.object({ route: z.union([z.string(), z.object({ private: z.literal(true) })]), component: z.string() }) })),
  components: z.array(
    z.object({
      id: z.string(),
      metadata: z.object({ allowed_outbound_hosts: z.array(z.string()), key_value_stores: z.array(z.string()) }),
      source: z.object({ content_type: z.literal('application/wasm'), digest: z.string().regex(/^sha256:[a-f0-9]{64}$/) }),
      config: z.record(z.string(), z.string()),
      env: z.record(z.string(), z.string()),
      files: z.array(z.unknown()),
    }),
  ),
});
export type LockedApp = z.infer<typeof LockedApp>;

export function lockApp(app: AppManifest, spin: SpinToml, layerDigests: Map<string, string>): LockedApp {
  const ids = [...layerDigests.keys()];
  return LockedApp.parse({
    spin_lock_version: 1,
    metadata: { name: app.name, version: app.version, trigger: { type: 'http' } },
    variables: spin.variables,
    triggers: spin.trigger.http.map((t) => ({ id: `trigger--${t.component}`, trigger_type: 'http', trigger_config: { route: t.route, component: t.component } })),
    components: ids.map((id) => {
      const component = spin.component[id];
      return {
        id,
        metadata: { allowed_outbound_hosts: component?.allowed_outbound_hosts ?? [], key_value_stores: component?.key_value_stores ?? [] },
        source: { content_type: 'application/wasm', digest: layerDigests.get(id) },
        config: component?.variables ?? {},
        env: {},
        files: [],
      };
    }),
  });
}
