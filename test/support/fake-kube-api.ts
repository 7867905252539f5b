import { createServer, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * FAKE Kubernetes API server (no cluster can run here). It implements only what kgents uses:
 * discovery, server-side apply (PATCH application/apply-patch+yaml), GET, list, watch and
 * DELETE, for the kinds kgents deploys. It records every request so tests can assert the
 * exact calls and bodies, and it can play the failures a real cluster gives: CRDs missing,
 * RBAC denial, an object the schema refuses (422).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; generation?: number; labels?: Record<string, string>; [k: string]: unknown }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

const RESOURCES: Record<string, { kind: string; plural: string }[]> = {
  v1: [{ kind: 'Service', plural: 'services' }, { kind: 'Secret', plural: 'secrets' }, { kind: 'ConfigMap', plural: 'configmaps' }],
  'apps/v1': [{ kind: 'Deployment', plural: 'deployments' }],
  'networking.k8s.io/v1': [{ kind: 'NetworkPolicy', plural: 'networkpolicies' }],
  'autoscaling/v2': [{ kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' }],
  'core.spinkube.dev/v1alpha1': [{ kind: 'SpinApp', plural: 'spinapps' }, { kind: 'SpinAppExecutor', plural: 'spinappexecutors' }],
};

/**
 * The Deployment the spin-operator makes for a SpinApp, as the fake plays the operator: same
 * name, the SpinApp's image and replicas, its pod annotations on the pod template (the
 * operator's constructDeployment).
 */
export function operatorDeploymentOf(app: Pick<Obj, 'metadata' | 'spec'>): Obj {
  const annotations = app.spec?.podAnnotations as Record<string, string> | undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app.metadata.name, namespace: app.metadata.namespace },
    spec: { replicas: app.spec?.replicas, template: { ...(annotations ? { metadata: { annotations } } : {}), spec: { containers: [{ name: app.metadata.name, image: app.spec?.image }] } } },
  };
}

export interface FakeKube {
  url: string;
  requests: RecordedRequest[];
  /** Whether the SpinKube CRDs are installed. */
  crds: boolean;
  /** Kinds the fake user may not write (RBAC). */
  forbidden: Set<string>;
  objects(): Obj[];
  /** Sets an object's status as its controller would, and tells the watchers. */
  setStatus(kind: string, name: string, status: Record<string, unknown>): void;
  /** Creates or updates an object as a controller (or the cluster's bootstrap) would. */
  put(object: Obj): Obj;
  /** Writes a kubeconfig whose current context points at this server. */
  kubeconfig(dir: string, context?: string): string;
  close(): Promise<void>;
}

export async function startFakeKube(): Promise<FakeKube> {
  const store = new Map<string, Obj>();
  const watchers = new Set<{ apiVersion: string; kind: string; name?: string; res: ServerResponse }>();
  let version = 1;
  const key = (apiVersion: string, kind: string, ns: string, name: string) => `${apiVersion}|${kind}|${ns}|${name}`;
  const status = (res: ServerResponse, code: number, reason: string, message: string) =>
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  const notify = (type: string, object: Obj) => {
    for (const w of watchers) if (w.apiVersion === object.apiVersion && w.kind === object.kind && (!w.name || w.name === object.metadata.name)) w.res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const fake: FakeKube = {
    url: '',
    requests: [],
    crds: true,
    forbidden: new Set(),
    objects: () => [...store.values()],
    setStatus(kind, name, next) {
      const object = [...store.values()].find((o) => o.kind === kind && o.metadata.name === name);
      if (!object) throw new Error(`fake kube: no ${kind}/${name}`);
      object.status = { ...object.status, ...next };
      object.metadata.resourceVersion = String(++version);
      notify('MODIFIED', object);
    },
    put(object) {
      const ns = object.metadata.namespace ?? 'default';
      const k = key(object.apiVersion, object.kind, ns, object.metadata.name);
      const before = store.get(k);
      const stored: Obj = { ...object, metadata: { ...object.metadata, namespace: ns, uid: before?.metadata.uid ?? `uid-${object.metadata.name}`, generation: (before?.metadata.generation ?? 0) + 1, resourceVersion: String(++version) }, status: before?.status ?? {} };
      store.set(k, stored);
      notify(before ? 'MODIFIED' : 'ADDED', stored);
      return stored;
    },
    kubeconfig(dir, context = 'fake') {
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'fake', cluster: { server: fake.url, 'insecure-skip-tls-verify': true } }], users: [{ name: 'tester', user: { token: 'fake-token' } }], contexts: [{ name: context, context: { cluster: 'fake', user: 'tester', namespace: 'default' } }], 'current-context': context }));
      return file;
    },
    close: async () => {},
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = raw ? JSON.parse(raw) : undefined;
      fake.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(?:\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?)?$/.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      const apiVersion = m[1] ?? m[2];
      const [, , , ns, plural, name] = m;
      if (!RESOURCES[apiVersion] || (apiVersion.startsWith('core.spinkube.dev/') && !fake.crds)) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
      if (!plural) {
        const resources = RESOURCES[apiVersion].map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: true, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }));
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersion, resources }));
      }
      const resource = RESOURCES[apiVersion].find((r) => r.plural === plural);
      if (!resource) return status(res, 404, 'NotFound', `the server could not find the requested resource (${plural})`);
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      const denied = (verb: string) => status(res, 403, 'Forbidden', `${plural}${group ? `.${group}` : ''} "${name ?? ''}" is forbidden: User "tester" cannot ${verb} resource "${plural}" in API group "${group}" in the namespace "${ns}"`);
      const k = key(apiVersion, resource.kind, ns, name ?? '');

      if (req.method === 'PATCH' && name) {
        if (fake.forbidden.has(resource.kind)) return denied('patch');
        if (req.headers['content-type'] !== 'application/apply-patch+yaml') return status(res, 415, 'UnsupportedMediaType', 'fake kube only implements server-side apply');
        const replicas = (body as Obj).spec?.replicas;
        if (replicas !== undefined && !Number.isInteger(replicas)) {
          return status(res, 422, 'Invalid', `${resource.kind}.${group} "${name}" is invalid: spec.replicas: Invalid value: "${typeof replicas}": spec.replicas in body must be of type integer: "${typeof replicas}"`);
        }
        const existed = store.has(k);
        const object = fake.put({ ...(body as Obj), metadata: { ...(body as Obj).metadata, namespace: ns } });
        return res.writeHead(existed ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify(object));
      }
      if (req.method === 'GET' && name) {
        const object = store.get(k);
        if (!object) return status(res, 404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(object));
      }
      if (req.method === 'DELETE' && name) {
        if (fake.forbidden.has(resource.kind)) return denied('delete');
        const object = store.get(k);
        if (!object) return status(res, 404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
        store.delete(k);
        notify('DELETED', object);
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: plural } }));
      }
      if (req.method === 'GET') {
        const fieldName = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
        const labels = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((l) => l.split('='));
        const items = [...store.values()].filter((o) => o.apiVersion === apiVersion && o.kind === resource.kind && o.metadata.namespace === ns && (!fieldName || o.metadata.name === fieldName) && labels.every(([lk, lv]) => o.metadata.labels?.[lk] === lv));
        if (url.searchParams.get('watch') !== 'true') {
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: `${resource.kind}List`, apiVersion, metadata: { resourceVersion: String(version) }, items }));
        }
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        for (const object of items) res.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
        const watcher = { apiVersion, kind: resource.kind, name: fieldName, res };
        watchers.add(watcher);
        res.on('close', () => watchers.delete(watcher));
        return;
      }
      return status(res, 405, 'MethodNotAllowed', `fake kube does not implement ${req.method} ${url.pathname}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return fake;
}
