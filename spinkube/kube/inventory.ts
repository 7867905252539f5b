import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeConnection } from './connect.ts';
import { kubeError } from './errors.ts';
import { imagesOf, isReady, readinessSource, replicasOf } from './readiness.ts';
import { withNamespace } from './apply.ts';
import { PART_OF_SELECTOR } from '../labels.ts';

export interface AppStatus {
  kind: string;
  name: string;
  ready: number;
  desired: number;
  images: string[];
  /**
   * Whether the pods run what was last applied, by the rule `kgents deploy` waits on (a SpinApp:
   * its operator Deployment has its image, size and pod-spec digest, and has rolled out).
   */
  rolledOut: 'yes' | 'no' | 'no Deployment yet';
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
      for (const item of list.items) out.push({ kind, name: item.metadata?.name ?? '?', ...replicasOf(item), images: imagesOf(item), rolledOut: await rolledOut(conn, item) });
    } catch (error) {
      throw kubeError(error, conn, { apiVersion, kind });
    }
  }
  return out;
}

async function rolledOut(conn: KubeConnection, object: KubernetesObject): Promise<AppStatus['rolledOut']> {
  if (object.kind !== 'SpinApp') return isReady(object) ? 'yes' : 'no';
  const source = readinessSource(object);
  const deployment = { ...source.watched, metadata: { name: object.metadata?.name ?? '', namespace: object.metadata?.namespace ?? conn.namespace } };
  try {
    return source.isReady(await conn.objects.read(deployment)) ? 'yes' : 'no';
  } catch (error) {
    const mapped = kubeError(error, conn, deployment);
    if (mapped.code === 'NOT_FOUND') return 'no Deployment yet';
    throw mapped;
  }
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
