import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KgentsError } from '../common/errors.ts';

const UNDERSTOOD = new Set(['apiVersion', 'kind', 'resources', 'namespace']);

/**
 * The objects of a kustomization that only lists resources (k8s/ is kept that way), so
 * `kgents deploy` needs no kubectl. Anything that needs kustomize itself is refused, clearly.
 */
export function loadKustomization(dir: string): KubernetesObject[] {
  const file = join(dir, 'kustomization.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KgentsError('NOT_FOUND', `no kustomization.yaml in ${dir}`, { file });
  }
  const [doc] = parseYaml(text, file) as { resources?: string[]; namespace?: string }[];
  for (const key of Object.keys(doc ?? {})) {
    if (!UNDERSTOOD.has(key)) throw new KgentsError('INVALID_CONFIG', `uses "${key}", which kgents deploy does not render: apply it with \`kubectl apply -k ${dir}\` and deploy with --no-platform`, { file, field: key });
  }
  const objects: KubernetesObject[] = [];
  for (const resource of doc?.resources ?? []) {
    const path = join(dir, resource);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) objects.push(...loadKustomization(path));
    else objects.push(...(parseYaml(readFileSync(path, 'utf8'), path) as KubernetesObject[]).filter(Boolean));
  }
  return doc?.namespace ? objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: doc.namespace } })) : objects;
}

function parseYaml(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length) throw new KgentsError('INVALID_CONFIG', d.errors[0].message, { file });
  return docs.map((d) => d.toJS());
}

