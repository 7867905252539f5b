import type { KubernetesObject } from '@kubernetes/client-node';

interface Workload extends KubernetesObject {
  spec?: { replicas?: number };
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

/** The objects whose readiness `kgents deploy` waits for. */
export const isWorkload = (o: KubernetesObject) => o.kind === 'SpinApp' || o.kind === 'Deployment';
