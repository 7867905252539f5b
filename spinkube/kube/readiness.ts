import type { KubernetesObject } from '@kubernetes/client-node';

interface Workload extends KubernetesObject {
  spec?: { replicas?: number; image?: string; executor?: string; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

/** Ready replicas and desired replicas of a SpinApp or a Deployment, as `kubectl get` shows them. */
export function replicasOf(object: KubernetesObject): { ready: number; desired: number } {
  const w = object as Workload;
  return { ready: w.status?.readyReplicas ?? 0, desired: w.spec?.replicas ?? 1 };
}

/** A Deployment is ready once the controller has seen its latest spec and every replica is updated and ready. */
export function isReady(object: KubernetesObject): boolean {
  const w = object as Workload;
  const { ready, desired } = replicasOf(object);
  if (object.kind === 'Deployment') {
    const observed = (w.status?.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0);
    return observed && (w.status?.updatedReplicas ?? 0) >= desired && ready >= desired;
  }
  return ready >= desired;
}

/**
 * What `kgents deploy` watches to know a workload is ready. A SpinApp's own status is copied from
 * the Deployment the spin-operator makes for it (same name) before the operator updates that
 * Deployment, so right after a new image is applied it still shows the old pods as ready. The
 * Deployment tells: it is ready for this SpinApp once it runs the SpinApp's image and has
 * rolled out.
 */
export function readinessSource(object: KubernetesObject): { watched: KubernetesObject; isReady: (seen: KubernetesObject) => boolean } {
  if (object.kind !== 'SpinApp') return { watched: object, isReady };
  const image = (object as Workload).spec?.image;
  const watched = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace } };
  return { watched, isReady: (seen) => imagesOf(seen).includes(image ?? '') && isReady(seen) };
}

/** A SpinApp's image, or a Deployment's containers' images. */
export function imagesOf(object: KubernetesObject): string[] {
  const spec = (object as Workload).spec;
  return spec?.image ? [spec.image] : (spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?');
}

/** The SpinAppExecutor a SpinApp names, when it is one. */
export function executorOf(object: KubernetesObject): string | null {
  return object.kind === 'SpinApp' ? ((object as Workload).spec?.executor ?? null) : null;
}

/** The objects whose readiness `kgents deploy` waits for. */
export const isWorkload = (o: KubernetesObject) => o.kind === 'SpinApp' || o.kind === 'Deployment';
