import type { KubernetesObject } from '@kubernetes/client-node';
import { sameQuantity } from '../quantity.ts';

interface Variable {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string }; configMapKeyRef?: { name?: string; key?: string } };
}

type Quantities = Record<string, string | number>;
interface Resources {
  limits?: Quantities;
  requests?: Quantities;
}

interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number;
    image?: string;
    executor?: string;
    enableAutoscaling?: boolean;
    variables?: Variable[];
    resources?: Resources;
    template?: { spec?: { containers?: { image?: string; env?: Variable[]; resources?: Resources }[] } };
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
 * Deployment tells: it is ready for this SpinApp once it runs the SpinApp's image and has
 * rolled out.
 */
export function readinessSource(object: KubernetesObject): { watched: KubernetesObject; isReady: (seen: KubernetesObject) => boolean } {
  if (object.kind !== 'SpinApp') return { watched: object, isReady };
  const app = (object as Workload).spec ?? {};
  const watched = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace } };
  // Under an autoscaler the Deployment's replica count is the autoscaler's to set.
  const sized = (seen: KubernetesObject) => app.enableAutoscaling || (seen as Workload).spec?.replicas === (app.replicas ?? 1);
  return { watched, isReady: (seen) => imagesOf(seen).includes(app.image ?? '') && sized(seen) && carriesVariables(seen, app.variables ?? []) && carriesResources(seen, app.resources) && isReady(seen) };
}

/** How a variable's value is given, comparable across what was applied and what the server sends back. */
const variableSource = (v: Variable | undefined) => {
  const ref = v?.valueFrom?.secretKeyRef ?? v?.valueFrom?.configMapKeyRef;
  return v === undefined ? null : ref ? `${v.valueFrom?.secretKeyRef ? 'secret' : 'configmap'}:${ref.name}/${ref.key}` : `value:${v.value ?? ''}`;
};

/**
 * The operator hands a SpinApp's variables to its pods as `SPIN_VARIABLE_<NAME>` (spin-operator's
 * ConstructEnvForApp), so a change to variables alone shows in the Deployment's env. Should the
 * operator stop backing variables with env, nothing here can tell, and the check stands aside.
 */
function carriesVariables(deployment: KubernetesObject, variables: Variable[]): boolean {
  const env = (deployment as Workload).spec?.template?.spec?.containers?.[0]?.env ?? [];
  if (variables.length === 0 || !env.some((e) => e.name.startsWith('SPIN_VARIABLE_'))) return true;
  const byName = new Map(env.map((e) => [e.name, e]));
  return variables.every((v) => variableSource(byName.get(`SPIN_VARIABLE_${v.name.toUpperCase()}`)) === variableSource(v));
}

/**
 * The operator gives the pods the SpinApp's resources, so a change of limits or requests alone
 * shows in the Deployment's container, compared by amount. A container with no resources at
 * all stands aside, as for variables.
 */
function carriesResources(deployment: KubernetesObject, resources: Resources | undefined): boolean {
  const given = (deployment as Workload).spec?.template?.spec?.containers?.[0]?.resources;
  if (!resources || !given) return true;
  return (['limits', 'requests'] as const).every((kind) =>
    Object.entries(resources[kind] ?? {}).every(([name, amount]) => given[kind]?.[name] !== undefined && sameQuantity(String(given[kind]![name]), String(amount))),
  );
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
