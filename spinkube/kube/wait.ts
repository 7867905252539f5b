import type { KubernetesObject } from '@kubernetes/client-node';
import { KgentsError } from '../../common/errors.ts';
import type { KubeConnection } from './connect.ts';
import { kubeError } from './errors.ts';
import { isReady, replicasOf } from './readiness.ts';

/** The API path of an object's collection, e.g. /apis/apps/v1/namespaces/default/deployments. */
export function collectionPath(object: KubernetesObject, namespace: string): string {
  const apiVersion = object.apiVersion ?? 'v1';
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const plural = PLURALS[object.kind ?? ''] ?? `${object.kind?.toLowerCase()}s`;
  return `${root}/namespaces/${object.metadata?.namespace ?? namespace}/${plural}`;
}

const PLURALS: Record<string, string> = { SpinApp: 'spinapps', SpinAppExecutor: 'spinappexecutors', Deployment: 'deployments', Service: 'services', HorizontalPodAutoscaler: 'horizontalpodautoscalers' };

/**
 * Watches each workload until it is ready, printing progress whenever a ready count changes,
 * or fails with TIMEOUT naming what is not ready. One watch per object, on its own name.
 */
export async function waitUntilReady(conn: KubeConnection, workloads: KubernetesObject[], timeoutMs: number, onProgress: (line: string) => void = () => {}): Promise<void> {
  const pending = new Map(workloads.map((w) => [`${w.kind}/${w.metadata?.name}`, w]));
  if (pending.size === 0) return;
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
        const text = `${ready}/${desired} ready`;
        if (shown.get(key) !== text) onProgress(`${key}: ${text}`);
        shown.set(key, text);
        if (isReady(object) && pending.delete(key) && pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      const start = (key: string, workload: KubernetesObject) => {
        conn.watch
          .watch(collectionPath(workload, conn.namespace), { fieldSelector: `metadata.name=${workload.metadata?.name}` }, (phase, object: KubernetesObject) => {
            if (phase === 'ADDED' || phase === 'MODIFIED') settle(key, object);
          }, (error) => {
            if (!pending.has(key)) return;
            if (!error) return start(key, workload); // servers end watches now and then
            clearTimeout(timer);
            reject(kubeError(error, conn, workload));
          })
          .then((abort) => aborts.push(abort), (error) => (clearTimeout(timer), reject(kubeError(error, conn, workload))));
      };
      for (const [key, workload] of pending) start(key, workload);
    });
  } finally {
    for (const abort of aborts) abort.abort();
  }
}
