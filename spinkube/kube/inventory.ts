import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeConnection } from './connect.ts';
import { kubeError } from './errors.ts';
import { imagesOf, replicasOf } from './readiness.ts';
import { withNamespace } from './apply.ts';
import { PART_OF_SELECTOR } from '../labels.ts';

export interface AppStatus {
  kind: string;
  name: string;
  ready: number;
  desired: number;
  images: string[];
}

/** The SpinApps in the namespace, and the kgents Deployments (nucleus, Morpheus, Redis). */
export async function listApps(conn: KubeConnection): Promise<AppStatus[]> {
  const out: AppStatus[] = [];
  const kinds: [string, string, string | undefined][] = [
    ['core.spinkube.dev/v1alpha1', 'SpinApp', undefined],
    ['apps/v1', 'Deployment', PART_OF_SELECTOR],
  ];
  for (const [apiVersion, kind, labelSelector] of kinds) {
    try {
      const list = await conn.objects.list<KubernetesObject>(apiVersion, kind, conn.namespace, undefined, undefined, undefined, undefined, labelSelector);
      for (const item of list.items) out.push({ kind, name: item.metadata?.name ?? '?', ...replicasOf(item), images: imagesOf(item) });
    } catch (error) {
      throw kubeError(error, conn, { apiVersion, kind });
    }
  }
  return out;
}

/** Deletes what `kgents deploy` applied; objects already gone are fine. */
export async function deleteAll(conn: KubeConnection, objects: KubernetesObject[], onProgress: (line: string) => void = () => {}): Promise<void> {
  for (const object of objects) {
    const spec = withNamespace(object, conn.namespace);
    try {
      await conn.objects.delete(spec);
      onProgress(`deleted ${spec.kind}/${spec.metadata?.name}`);
    } catch (error) {
      const mapped = kubeError(error, conn, spec);
      if (mapped.code !== 'NOT_FOUND') throw mapped;
      onProgress(`${spec.kind}/${spec.metadata?.name} was already gone`);
    }
  }
}

/** The HPA `--autoscale` makes: named after the app, as scaffold names it. */
export function autoscalerOf(name: string): KubernetesObject {
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name } };
}

/**
 * After a deploy without `--autoscale`, removes the HPA an earlier deploy with it left for this
 * app: it would go on setting the replicas the SpinApp now sets.
 */
export async function pruneAutoscaler(conn: KubeConnection, deployed: KubernetesObject[], onProgress: (line: string) => void = () => {}): Promise<void> {
  const app = deployed.find((o) => o.kind === 'SpinApp');
  if (!app || deployed.some((o) => o.kind === 'HorizontalPodAutoscaler')) return;
  await deleteAll(conn, [autoscalerOf(app.metadata!.name!)], (line) => {
    if (line.startsWith('deleted')) onProgress(`${line} (this deploy has no --autoscale)`);
  });
}
