import type { KubernetesObject } from '@kubernetes/client-node';
import { KgentsError } from '../../common/errors.ts';
import type { KubeConnection } from './connect.ts';
import { kubeError } from './errors.ts';
import { executorOf, readinessSource, replicasOf } from './readiness.ts';

/** The API path of an object's collection, e.g. /apis/apps/v1/namespaces/default/deployments. */
export function collectionPath(object: KubernetesObject, namespace: string): string {
  const apiVersion = object.apiVersion ?? 'v1';
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const plural = PLURALS[object.kind ?? ''] ?? `${object.kind?.toLowerCase()}s`;
  return `${root}/namespaces/${object.metadata?.namespace ?? namespace}/${plural}`;
}

const PLURALS: Record<string, string> = { SpinApp: 'spinapps', SpinAppExecutor: 'spinappexecutors', Deployment: 'deployments', Service: 'services', HorizontalPodAutoscaler: 'horizontalpodautoscalers' };

/**
 * The spin-operator runs a SpinApp only through the SpinAppExecutor it names, in its namespace;
 * without one it only records an event, and a wait would run out its time with nothing to show.
 */
async function checkExecutors(conn: KubeConnection, workloads: KubernetesObject[]): Promise<void> {
  for (const app of workloads) {
    const executor = executorOf(app);
    if (!executor) continue;
    const namespace = app.metadata?.namespace ?? conn.namespace;
    const wanted = { apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinAppExecutor', metadata: { name: executor, namespace } };
    try {
      await conn.objects.read(wanted);
    } catch (error) {
      const e = kubeError(error, conn, wanted);
      // Credentials that may not read executors cannot tell: the wait goes ahead without the check.
      if (e.code === 'FORBIDDEN') continue;
      if (e.code !== 'NOT_FOUND') throw e;
      throw new KgentsError('NOT_FOUND', `SpinApp/${app.metadata?.name} runs on SpinAppExecutor "${executor}", which namespace "${namespace}" does not have, so the spin-operator will not start it: run again with --with-executor to apply one, or name an existing executor with --executor`, { context: conn.context });
    }
  }
}

/**
 * Watches each workload until it is ready (a SpinApp through the Deployment the operator makes
 * for it: readiness.ts), printing progress whenever a ready count changes, or fails with TIMEOUT
 * naming what is not ready. One watch per object, on its own name.
 */
export async function waitUntilReady(conn: KubeConnection, workloads: KubernetesObject[], timeoutMs: number, onProgress: (line: string) => void = () => {}): Promise<void> {
  const pending = new Map(workloads.map((w) => [`${w.kind}/${w.metadata?.name}`, readinessSource(w)]));
  if (pending.size === 0) return;
  await checkExecutors(conn, workloads);
  const aborts: AbortController[] = [];
  const shown = new Map<string, string>();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const waiting = [...pending.keys()].map((k) => `${k} (${shown.get(k) ?? 'no status yet'})`);
        reject(new KgentsError('TIMEOUT', `not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.join(', ')}; see \`kubectl describe\` for events`));
      }, timeoutMs);
      const settle = (key: string, object: KubernetesObject) => {
        const { ready, desired } = replicasOf(object);
        const source = pending.get(key);
        if (!source) return;
        const done = source.isReady(object);
        // Old pods may all be ready while the new spec has not rolled out yet.
        const text = `${ready}/${desired} ready${!done && ready >= desired ? ', rolling out' : ''}`;
        if (shown.get(key) !== text) onProgress(`${key}: ${text}`);
        shown.set(key, text);
        if (done && pending.delete(key) && pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      const start = (key: string, source: { watched: KubernetesObject }) => {
        const workload = source.watched;
        conn.watch
          .watch(collectionPath(workload, conn.namespace), { fieldSelector: `metadata.name=${workload.metadata?.name}` }, (phase, object: KubernetesObject) => {
            if (phase === 'ADDED' || phase === 'MODIFIED') settle(key, object);
          }, (error) => {
            if (!pending.has(key)) return;
            if (!error) return start(key, source); // servers end watches now and then
            clearTimeout(timer);
            reject(kubeError(error, conn, workload));
          })
          .then((abort) => aborts.push(abort), (error) => (clearTimeout(timer), reject(kubeError(error, conn, workload))));
      };
      for (const [key, source] of pending) start(key, source);
    });
  } finally {
    for (const abort of aborts) abort.abort();
  }
}
