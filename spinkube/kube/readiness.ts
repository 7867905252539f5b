import type { KubernetesObject } from '@kubernetes/client-node';
import { POD_SPEC_ANNOTATION } from '../labels.ts';

interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number;
    image?: string;
    executor?: string;
    enableAutoscaling?: boolean;
    podAnnotations?: Record<string, string>;
    template?: { metadata?: { annotations?: Record<string, string> }; spec?: { containers?: { image?: string }[] } };
  };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number };
}

/** Ready replicas and desired replicas of a SpinApp or a Deployment, as `kubectl get` shows them. */
export function replicasOf(object: KubernetesObject): { ready: number; desired: number } {
  const w = object as Workload;
  return { ready: w.status?.readyReplicas ?? 0, desired: w.spec?.replicas ?? 1 };
}

/**
 * A Deployment is ready when its rollout is done, by `kubectl rollout status`'s rule: the
 * controller has seen the latest spec, every replica is updated, no old one is left, and the
 * updated ones are available. Old pods that are still ready do not count.
 */
export function isReady(object: KubernetesObject): boolean {
  const w = object as Workload;
  const { ready, desired } = replicasOf(object);
  if (object.kind === 'Deployment') {
    const status = w.status ?? {};
    const updated = status.updatedReplicas ?? 0;
    const observed = (status.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0);
    return observed && updated >= desired && (status.replicas ?? 0) <= updated && (status.availableReplicas ?? 0) >= updated;
  }
  return ready >= desired;
}

/**
 * What `kgents deploy` watches to know a workload is ready. A SpinApp's own status is copied from
 * the Deployment the spin-operator makes for it (same name) before the operator updates that
 * Deployment, so right after a new image is applied it still shows the old pods as ready. The
 * Deployment tells: it is ready for this SpinApp once it runs the SpinApp's image at its size,
 * carries its pod-spec digest, and has rolled out.
 */
export function readinessSource(object: KubernetesObject): { watched: KubernetesObject; isReady: (seen: KubernetesObject) => boolean } {
  if (object.kind !== 'SpinApp') return { watched: object, isReady };
  const app = (object as Workload).spec ?? {};
  const watched = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace } };
  // Under an autoscaler the Deployment's replica count is the autoscaler's to set.
  const sized = (seen: KubernetesObject) => app.enableAutoscaling || (seen as Workload).spec?.replicas === (app.replicas ?? 1);
  return { watched, isReady: (seen) => imagesOf(seen).includes(app.image ?? '') && sized(seen) && carriesPodSpec(seen, app) && isReady(seen) };
}

/**
 * The pods run what was applied once the Deployment's pod template carries the SpinApp's
 * pod-spec digest (labels.ts), which `kgents scaffold` sets and the operator copies. A SpinApp
 * without one (written by hand) is judged by its image and size alone.
 */
function carriesPodSpec(deployment: KubernetesObject, app: NonNullable<Workload['spec']>): boolean {
  const wanted = app.podAnnotations?.[POD_SPEC_ANNOTATION];
  return wanted === undefined || (deployment as Workload).spec?.template?.metadata?.annotations?.[POD_SPEC_ANNOTATION] === wanted;
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
