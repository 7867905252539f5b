import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { z } from 'zod';
import { KgentsError } from '../common/errors.ts';
import { isHttpUrl } from '../common/url.ts';
import { parseOrThrow } from '../common/zod-issues.ts';
import { readDist } from '../cytoplasm/app.ts';
import { PART_OF } from './labels.ts';

/**
 * SpinApp YAML for a built app, as `spin kube scaffold` prints it, plus what a cluster needs
 * that Spin's own scaffold leaves to the user: the Redis key-value store, variables (values or
 * Secret references), resources, probes on the health reflex; optionally the executor and an HPA.
 */
const SecretRef = z.object({ secret: z.string().min(1), key: z.string().min(1) });

export const ScaffoldOptions = z.object({
  image: z.string().min(1),
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label').optional(),
  namespace: z.string().optional(),
  replicas: z.number().int().min(1).default(2),
  executor: z.string().default('containerd-shim-spin'),
  variables: z.record(z.string(), z.string()).default({}),
  secretVariables: z.record(z.string(), SecretRef).default({}),
  redisUrl: z.string().default('redis://redis:6379'),
  redisSecret: SecretRef.optional(),
  cpuLimit: z.string().default('100m'),
  memoryLimit: z.string().default('128Mi'),
  cpuRequest: z.string().default('10m'),
  memoryRequest: z.string().default('32Mi'),
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

  const health = manifest.reflexes.find((r) => r.kind === 'health' && r.route);
  if (!health) notes.push('the app has no health reflex with a route, so the SpinApp has no readiness or liveness checks');
  const probe = (periodSeconds: number) => ({ httpGet: { path: health!.route!.replace(/\/\.\.\.$/, '') }, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 });

  const redisUrl = o.redisSecret ? { name: 'url', valueFrom: { secretKeyRef: { name: o.redisSecret.secret, key: o.redisSecret.key } } } : { name: 'url', value: o.redisUrl };
  const spinApp = {
    apiVersion: 'core.spinkube.dev/v1alpha1',
    kind: 'SpinApp',
    metadata,
    spec: {
      image: o.image,
      executor: o.executor,
      ...(o.autoscale ? { enableAutoscaling: true } : { replicas: o.replicas }),
      ...(variables.length ? { variables } : {}),
      podLabels: { ...PART_OF },
      runtimeConfig: { keyValueStores: [{ name: 'default', type: 'redis', options: [redisUrl] }] },
      resources: { limits: { cpu: o.cpuLimit, memory: o.memoryLimit }, requests: { cpu: o.cpuRequest, memory: o.memoryRequest } },
      ...(health ? { checks: { readiness: probe(5), liveness: probe(10) } } : {}),
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

export const toYaml = (objects: KubernetesObject[]): string => objects.map((o) => stringify(o)).join('---\n');
