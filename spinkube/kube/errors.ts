import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { KgentsError } from '../../common/errors.ts';
import type { KubeConnection } from './connect.ts';

const SPINKUBE_GROUP = 'core.spinkube.dev';

/** The Status body the API server sends with an error. */
function statusMessage(error: ApiException<unknown>): string {
  const body = error.body;
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  return (parsed as { message?: string })?.message ?? String(body ?? error.message);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

const describe = (o?: KubernetesObject) => (o ? `${o.kind}/${o.metadata?.name}` : 'the request');

/** Maps what client-node throws to one clear, typed error: no cluster, CRDs missing, RBAC, rejected object. */
export function kubeError(error: unknown, conn: KubeConnection, object?: KubernetesObject): KgentsError {
  if (error instanceof KgentsError) return error;
  const message = (error as Error)?.message ?? String(error);
  const crdMissing = () =>
    new KgentsError('CRD_MISSING', `the SpinKube CRDs are not installed in context "${conn.context}" (${object?.apiVersion} ${object?.kind} is unknown to the server): run \`bash k8s/bootstrap.sh\``, { context: conn.context });
  if (error instanceof ApiException) {
    const detail = statusMessage(error);
    if (error.code === 404 && object?.apiVersion?.startsWith(`${SPINKUBE_GROUP}/`) && message.includes('resource metadata')) return crdMissing();
    if (error.code === 401) return new KgentsError('UNAUTHORIZED', `the cluster refused our credentials (context "${conn.context}"): ${detail}`);
    if (error.code === 403) return new KgentsError('FORBIDDEN', `RBAC denied ${describe(object)} in context "${conn.context}": ${detail}`);
    if (error.code === 404) return new KgentsError('NOT_FOUND', `${describe(object)} not found: ${detail}`);
    if (error.code === 409) return new KgentsError('CONFLICT', `${describe(object)} conflicts with another field manager: ${detail}`);
    if (error.code === 422 || error.code === 400) return new KgentsError('INVALID_REQUEST', `the server rejected ${describe(object)}: ${detail}`);
    return new KgentsError('CLUSTER_UNREACHABLE', `the cluster answered ${error.code} for ${describe(object)}: ${detail}`);
  }
  if (message.includes('Unrecognized API version and kind') && object?.apiVersion?.startsWith(`${SPINKUBE_GROUP}/`)) return crdMissing();
  const cause = (error as { cause?: Error })?.cause?.message ?? message;
  return new KgentsError('CLUSTER_UNREACHABLE', `cannot reach the cluster at ${conn.server} (context "${conn.context}"): ${cause}`, { context: conn.context });
}
