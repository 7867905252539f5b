import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { z } from 'zod';
import { KgentsError } from '../common/errors.ts';
import { isHttpUrl } from '../common/url.ts';
import { isImageRef } from './oci/reference.ts';
import { parseOrThrow } from '../common/zod-issues.ts';
import { readDist } from '../cytoplasm/app.ts';
import { sha256 } from '../common/digest.ts';
import { PART_OF, POD_SPEC_ANNOTATION } from './labels.ts';
import { quantityValue } from './quantity.ts';

/**
 * SpinApp YAML for a built app, as `spin kube scaffold` prints it, plus what a cluster needs
 * that Spin's own scaffold leaves to the user: the Redis key-value stores, variables (values or
 * Secret references), resources, a readiness check on the health reflex; optionally the executor
 * and an HPA.
 */
const SecretRef = z.object({ secret: z.string().min(1), key: z.string().min(1) });

/** A Kubernetes resource quantity (`100m`, `0.5`, `128Mi`, `1G`), which the SpinApp CRD checks too. */
const Quantity = z.string().regex(/^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, 'a Kubernetes quantity, such as 100m, 0.5, 128Mi or 1Gi');

/** A request above its limit makes Kubernetes refuse the pod: a small limit brings the default request down with it. */
const requestWithin = (request: string, limit: string) => (quantityValue(request) > quantityValue(limit) ? limit : request);

/** Names Kubernetes takes for namespaces and objects (RFC 1123), checked here rather than refused by the API server after a push. */
const DnsLabel = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label: lower-case letters, digits and -, such as kgents');
const DnsSubdomain = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS subdomain: lower-case letters, digits, - and ., such as containerd-shim-spin');
const ImageRef = z.string().refine(isImageRef, 'an image reference: host[:port]/repository[:tag], such as localhost:5001/kgents/reflexes:v1');

export const ScaffoldOptions = z.object({
  image: ImageRef,
  name: DnsLabel.optional(),
  namespace: DnsLabel.optional(),
  replicas: z.number().int().min(1).default(2),
  executor: DnsSubdomain.default('containerd-shim-spin'),
  variables: z.record(z.string(), z.string()).default({}),
  secretVariables: z.record(z.string(), SecretRef).default({}),
  redisUrl: z.string().regex(/^rediss?:\/\/./, 'a redis:// or rediss:// URL, such as redis://redis:6379').default('redis://redis:6379'),
  redisSecret: SecretRef.optional(),
  cpuLimit: Quantity.default('100m'),
  memoryLimit: Quantity.default('128Mi'),
  cpuRequest: Quantity.default('10m'),
  memoryRequest: Quantity.default('32Mi'),
  withExecutor: z.boolean().default(false),
  autoscale: z.object({ min: z.number().int().min(1), max: z.number().int().min(1) }).refine((a) => a.min <= a.max, 'min must not exceed max').optional(),
  cpuTarget: z.number().int().min(1).max(100).default(60),
});
export type ScaffoldOptions = z.input<typeof ScaffoldOptions>;

/** In a cluster, the nucleus is a Service, not localhost (see k8s/nucleus.yaml). */
const CLUSTER_DEFAULTS: Record<string, string> = { nucleus_url: 'http://kgents-nucleus:8081' };

const LABELS = (name: string) => ({ 'app.kubernetes.io/name': name, ...PART_OF, 'app.kubernetes.io/managed-by': 'kgents' });

export interface Scaffolded {
  objects: KubernetesObject[];
  /** Things the user should know (printed on stderr, never in the YAML). */
  notes: string[];
}

/** The SpinApp's name when none is given: the built app's. */
export async function appName(distDir: string): Promise<string> {
  return (await readDist(distDir)).manifest.name;
}

export async function scaffold(distDir: string, input: ScaffoldOptions): Promise<Scaffolded> {
  const o = parseOrThrow(ScaffoldOptions, input, 'INVALID_REQUEST');
  const { manifest, spin } = await readDist(distDir);
  const name = o.name ?? manifest.name;
  const notes: string[] = [];
  const metadata = { name, ...(o.namespace ? { namespace: o.namespace } : {}), labels: LABELS(name) };

  const variables: { name: string; value?: string; valueFrom?: unknown }[] = [];
  for (const [variable, declared] of Object.entries(spin.variables)) {
    const secret = o.secretVariables[variable];
    if (secret) variables.push({ name: variable, valueFrom: { secretKeyRef: { name: secret.secret, key: secret.key } } });
    else if (o.variables[variable] ?? CLUSTER_DEFAULTS[variable]) variables.push({ name: variable, value: o.variables[variable] ?? CLUSTER_DEFAULTS[variable] });
    else if (declared.default === undefined) throw new KgentsError('INVALID_REQUEST', `the app's variable "${variable}" has no default: pass --variable ${variable}=<value> or --secret-variable ${variable}=<secret>:<key>`, { field: variable });
  }
  for (const variable of [...Object.keys(o.variables), ...Object.keys(o.secretVariables)]) {
    if (!(variable in spin.variables)) throw new KgentsError('INVALID_REQUEST', `the app has no variable "${variable}"; it has: ${Object.keys(spin.variables).join(', ') || 'none'}`, { field: variable });
  }
  // Upstream variables fill allowed_outbound_hosts: Spin refuses to start the app over one that is not a URL.
  for (const [variable, value] of Object.entries(o.variables)) {
    if (isHttpUrl(spin.variables[variable].default) && !isHttpUrl(value)) {
      throw new KgentsError('INVALID_REQUEST', `${variable}: expected an http:// or https:// URL, as its default ${spin.variables[variable].default} is; --variable gave ${JSON.stringify(value)}`, { field: variable });
    }
  }

  // Readiness only: a health reflex answers 503 while an upstream it checks is down, and a
  // liveness check on it would restart every reflex pod for the nucleus's outage (or before the
  // nucleus's first deploy), taking the rate limits and the router's own 503s down with it.
  const health = manifest.reflexes.find((r) => r.kind === 'health' && r.route && !r.route.endsWith('/...'));
  if (!health) notes.push('the app has no health reflex on a route of its own, so the SpinApp has no readiness check');
  const readiness = health ? { httpGet: { path: health.route! }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 } : null;

  // Every store a component opens needs one in the runtime config, or Spin refuses the app.
  const stores = [...new Set(['default', ...Object.values(spin.component).flatMap((c) => c.key_value_stores)])].sort();

  const redisUrl = o.redisSecret ? { name: 'url', valueFrom: { secretKeyRef: { name: o.redisSecret.secret, key: o.redisSecret.key } } } : { name: 'url', value: o.redisUrl };
  const podSpec = {
    image: o.image,
    executor: o.executor,
    ...(variables.length ? { variables } : {}),
    podLabels: { ...PART_OF },
    runtimeConfig: { keyValueStores: stores.map((store) => ({ name: store, type: 'redis', options: [redisUrl] })) },
    resources: { limits: { cpu: o.cpuLimit, memory: o.memoryLimit }, requests: { cpu: requestWithin(o.cpuRequest, o.cpuLimit), memory: requestWithin(o.memoryRequest, o.memoryLimit) } },
    ...(readiness ? { checks: { readiness } } : {}),
  };
  const spinApp = {
    apiVersion: 'core.spinkube.dev/v1alpha1',
    kind: 'SpinApp',
    metadata,
    spec: {
      ...podSpec,
      // Replicas stay out of the digest: a change of size alone must not restart the pods.
      ...(o.autoscale ? { enableAutoscaling: true } : { replicas: o.replicas }),
      podAnnotations: { [POD_SPEC_ANNOTATION]: podSpecDigest(podSpec) },
    },
  };
  const objects: KubernetesObject[] = [spinApp];
  if (o.withExecutor) {
    objects.push({ apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinAppExecutor', metadata: { name: o.executor, ...(o.namespace ? { namespace: o.namespace } : {}) }, spec: { createDeployment: true, deploymentConfig: { runtimeClassName: 'wasmtime-spin-v2', installDefaultCACerts: true } } } as KubernetesObject);
  }
  if (o.autoscale) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata,
      spec: {
        // The operator creates a Deployment with the SpinApp's name; the HPA scales that.
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: o.autoscale.min,
        maxReplicas: o.autoscale.max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: o.cpuTarget } } }],
      },
    } as KubernetesObject);
  }
  return { objects, notes };
}

/** Short, and the same for the same spec (built in a fixed order), so an unchanged deploy rolls nothing. */
const podSpecDigest = (podSpec: object) => sha256(new TextEncoder().encode(JSON.stringify(podSpec))).slice(0, 16);

export const toYaml = (objects: KubernetesObject[]): string => objects.map((o) => stringify(o)).join('---\n');
