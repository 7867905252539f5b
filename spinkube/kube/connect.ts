import { KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KgentsError } from '../../common/errors.ts';
import { kubeError } from './errors.ts';

export interface KubeConnection {
  objects: KubernetesObjectApi;
  watch: Watch;
  context: string;
  server: string;
  namespace: string;
}

export interface ConnectOptions {
  /** A kubeconfig file; default: $KUBECONFIG, then ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** The current kubeconfig context, or `--context`. No network yet: errors here are about the config. */
export function connect(opts: ConnectOptions = {}): KubeConnection {
  const kc = new KubeConfig();
  // With no kubeconfig anywhere, client-node falls back to http://localhost:8080, and the first
  // call then fails with a TLS complaint about that made-up address.
  if (!opts.kubeconfig && !process.env.KUBECONFIG && !process.env.KUBERNETES_SERVICE_HOST && !existsSync(join(homedir(), '.kube', 'config'))) {
    throw new KgentsError('CLUSTER_UNREACHABLE', `no kubeconfig: none at ~/.kube/config and KUBECONFIG is unset; create a cluster with \`bash k8s/bootstrap.sh\`, or point --kubeconfig or KUBECONFIG at one`);
  }
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new KgentsError('INVALID_CONFIG', `cannot read the kubeconfig: ${(error as Error).message}`, { file: opts.kubeconfig ?? process.env.KUBECONFIG });
  }
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context)) throw new KgentsError('INVALID_REQUEST', `no context "${opts.context}" in the kubeconfig; it has: ${names.join(', ') || 'none'}`, { field: 'context' });
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new KgentsError('CLUSTER_UNREACHABLE', 'no Kubernetes cluster is configured (no current context): create one with `bash k8s/bootstrap.sh`, or set KUBECONFIG / --context');
  }
  const context = kc.getCurrentContext();
  const namespace = opts.namespace ?? kc.getContextObject(context)?.namespace ?? 'default';
  return { objects: KubernetesObjectApi.makeApiClient(kc), watch: new Watch(kc), context, server: cluster.server, namespace };
}

/** One small request: the cluster answers, our credentials pass, and it knows SpinApps (the CRDs are installed). */
export async function reachCluster(conn: KubeConnection): Promise<void> {
  const spinApps = { apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinApp' };
  try {
    await conn.objects.list(spinApps.apiVersion, spinApps.kind, conn.namespace, undefined, undefined, undefined, undefined, undefined, 1);
  } catch (error) {
    throw kubeError(error, conn, spinApps);
  }
}
