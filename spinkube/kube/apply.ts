import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeConnection } from './connect.ts';
import { kubeError } from './errors.ts';

export const FIELD_MANAGER = 'kgents';

/** SpinKube objects first: if its CRDs are missing, the deploy stops before it has changed anything. */
const order = (o: KubernetesObject) => (o.apiVersion?.startsWith('core.spinkube.dev/') ? 0 : 1);

/** Server-side apply of each object with field manager `kgents` (force: kgents owns the fields it sets). */
export async function applyAll(conn: KubeConnection, objects: KubernetesObject[], onProgress: (line: string) => void = () => {}): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = [];
  for (const object of [...objects].sort((a, b) => order(a) - order(b))) {
    const spec = withNamespace(object, conn.namespace);
    try {
      applied.push(await conn.objects.patch(spec, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
    } catch (error) {
      throw kubeError(error, conn, spec);
    }
    onProgress(`applied ${spec.kind}/${spec.metadata?.name}`);
  }
  return applied;
}

export function withNamespace<T extends KubernetesObject>(object: T, namespace: string): T {
  return { ...object, metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? namespace } };
}
