import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../common/net.ts';
import { applyAll } from '../../spinkube/kube/apply.ts';
import { connect, type KubeConnection } from '../../spinkube/kube/connect.ts';
import { autoscalerOf, deleteAll, listApps, pruneAutoscaler } from '../../spinkube/kube/inventory.ts';
import { waitUntilReady } from '../../spinkube/kube/wait.ts';
import { scaffold } from '../../spinkube/scaffold.ts';
import { operatorDeploymentOf, startFakeKube, type FakeKube, type Obj } from '../support/fake-kube-api.ts';
import { shippedApp } from '../support/shipped-app.ts';

let kube: FakeKube;
let dir: string;
let conn: KubeConnection;

const spinApp = { apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinApp', metadata: { name: 'kgents-edge', labels: { 'app.kubernetes.io/part-of': 'kgents-edge' } }, spec: { image: 'localhost:5001/kgents/reflexes:v1', executor: 'containerd-shim-spin', replicas: 2 } };
const nucleus = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kgents-nucleus', labels: { 'app.kubernetes.io/part-of': 'kgents-edge' } }, spec: { replicas: 1, selector: { matchLabels: { app: 'n' } }, template: { metadata: { labels: { app: 'n' } }, spec: { containers: [{ name: 'nucleus', image: 'localhost:5001/kgents-edge:latest' }] } } } };
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kgents-nucleus' }, spec: { selector: { app: 'n' }, ports: [{ port: 8081 }] } };
const objects = [nucleus, service, spinApp] as KubernetesObject[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kgents-kube-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  kube = await startFakeKube();
  conn = connect({ kubeconfig: kube.kubeconfig(dir) });
});
afterEach(() => kube.close());

const writes = () => kube.requests.filter((r) => r.method !== 'GET');

describe('server-side apply', () => {
  it('applies SpinKube objects first, each with field manager kgents, force, and the apply content type', async () => {
    const lines: string[] = [];
    await applyAll(conn, objects, (l) => lines.push(l));
    expect(lines).toEqual(['applied SpinApp/kgents-edge', 'applied Deployment/kgents-nucleus', 'applied Service/kgents-nucleus']);
    expect(writes().map((r) => [r.method, r.path, r.query, r.contentType])).toEqual([
      ['PATCH', '/apis/core.spinkube.dev/v1alpha1/namespaces/default/spinapps/kgents-edge', { fieldManager: 'kgents', force: 'true' }, 'application/apply-patch+yaml'],
      ['PATCH', '/apis/apps/v1/namespaces/default/deployments/kgents-nucleus', { fieldManager: 'kgents', force: 'true' }, 'application/apply-patch+yaml'],
      ['PATCH', '/api/v1/namespaces/default/services/kgents-nucleus', { fieldManager: 'kgents', force: 'true' }, 'application/apply-patch+yaml'],
    ]);
    expect(writes()[0].body).toEqual({ ...spinApp, metadata: { ...spinApp.metadata, namespace: 'default' } });
    expect(kube.requests.every((r) => r.authorization === 'Bearer fake-token')).toBe(true);
  });

  it('is idempotent: applying twice leaves one object of each', async () => {
    await applyAll(conn, objects);
    await applyAll(conn, objects);
    expect(kube.objects()).toHaveLength(3);
    expect(kube.objects().find((o) => o.kind === 'SpinApp')!.metadata.generation).toBe(2);
  });
});

describe('waiting for readiness', () => {
  const executor = { apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinAppExecutor', metadata: { name: 'containerd-shim-spin', namespace: 'default' }, spec: { createDeployment: true } };
  /** The Deployment the spin-operator makes for the SpinApp, as it would be for `spec` changed so. */
  const operatorDeployment = (spec: Record<string, unknown> = {}) => operatorDeploymentOf({ ...spinApp, spec: { ...spinApp.spec, ...spec } });

  it('watches each workload by name (a SpinApp through its operator Deployment) and returns once all are ready, printing progress', async () => {
    kube.put(executor);
    await applyAll(conn, objects);
    const lines: string[] = [];
    const done = waitUntilReady(conn, [spinApp, nucleus], 5_000, (l) => lines.push(l));
    await until(() => kube.requests.filter((r) => r.query.watch === 'true').length === 2);
    const { metadata } = kube.put(operatorDeployment());
    kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: metadata.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 });
    // Two ready, but one of them an old pod still running: the rollout is not done.
    kube.setStatus('Deployment', 'kgents-edge', { replicas: 3, readyReplicas: 2, availableReplicas: 2 });
    await until(() => lines.includes('SpinApp/kgents-edge: 2/2 ready, rolling out'));
    kube.setStatus('Deployment', 'kgents-edge', { replicas: 2 });
    kube.setStatus('Deployment', 'kgents-nucleus', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    await done;
    expect(lines).toEqual(expect.arrayContaining(['SpinApp/kgents-edge: 0/2 ready', 'SpinApp/kgents-edge: 1/2 ready', 'SpinApp/kgents-edge: 2/2 ready', 'Deployment/kgents-nucleus: 1/1 ready']));
    const watches = kube.requests.filter((r) => r.query.watch === 'true').map((r) => [r.path, r.query.fieldSelector]);
    expect(watches).toEqual(expect.arrayContaining([
      ['/apis/apps/v1/namespaces/default/deployments', 'metadata.name=kgents-edge'],
      ['/apis/apps/v1/namespaces/default/deployments', 'metadata.name=kgents-nucleus'],
    ]));
  });

  it('fails with TIMEOUT naming what is not ready: no Deployment yet, or one still on the previous image', async () => {
    kube.put(executor);
    await applyAll(conn, objects);
    kube.setStatus('Deployment', 'kgents-nucleus', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    const error = await waitUntilReady(conn, [spinApp, nucleus], 400).catch((e) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(error.message).toContain('SpinApp/kgents-edge (no status yet)');
    expect(error.message).not.toContain('Deployment/kgents-nucleus');

    const { metadata } = kube.put(operatorDeployment({ image: 'localhost:5001/kgents/reflexes:v0' }));
    kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: metadata.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const stale = await waitUntilReady(conn, [spinApp], 400).catch((e) => e);
    expect(stale).toMatchObject({ code: 'TIMEOUT' });
    expect(stale.message).toContain('SpinApp/kgents-edge (2/2 ready, rolling out)');

    // The image, but the old size: a change of replicas alone has not reached the Deployment yet.
    const small = kube.put(operatorDeployment({ replicas: 1 }));
    kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: small.metadata.generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    const resized = await waitUntilReady(conn, [spinApp], 400).catch((e) => e);
    expect(resized).toMatchObject({ code: 'TIMEOUT' });
  });

  it('a change of what reaches the pods alone (the Redis URL, where it comes from, variables, resources): ready once the Deployment\'s pod template carries its digest', async () => {
    kube.put(executor);
    const dist = (await shippedApp()).outDir;
    const before = (await scaffold(dist, { image: spinApp.spec.image })).objects[0];
    const rolledOut = (app: KubernetesObject) => {
      const { metadata } = kube.put(operatorDeploymentOf(app as Obj));
      kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: metadata.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    };
    for (const change of [{ redisUrl: 'redis://cache:6379' }, { redisSecret: { secret: 'redis', key: 'url' } }, { variables: { nucleus_url: 'http://n.prod:80' } }, { cpuLimit: '500m' }]) {
      const after = (await scaffold(dist, { image: spinApp.spec.image, ...change })).objects[0];
      await applyAll(conn, [after]);
      rolledOut(before);
      expect(await waitUntilReady(conn, [after], 300).catch((e) => e), JSON.stringify(change)).toMatchObject({ code: 'TIMEOUT' });
      rolledOut(after);
      await waitUntilReady(conn, [after], 2_000);
    }
  });

  it('a SpinApp whose SpinAppExecutor the namespace lacks: NOT_FOUND at once, naming --with-executor', async () => {
    await applyAll(conn, objects);
    const error = await waitUntilReady(conn, [spinApp], 60_000).catch((e) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', exitCode: 66 });
    expect(error.message).toContain('SpinAppExecutor "containerd-shim-spin", which namespace "default" does not have');
    expect(kube.requests.filter((r) => r.query.watch === 'true')).toEqual([]);
  });
});

describe('clear errors', () => {
  it('CRDs missing: says to run the bootstrap, and changes nothing', async () => {
    kube.crds = false;
    const error = await applyAll(conn, objects).catch((e) => e);
    expect(error).toMatchObject({ code: 'CRD_MISSING', exitCode: 69 });
    expect(error.message).toContain('bash k8s/bootstrap.sh');
    expect(writes()).toEqual([]);
  });

  it('RBAC denied: names the object and repeats the server message', async () => {
    kube.forbidden.add('SpinApp');
    const error = await applyAll(conn, objects).catch((e) => e);
    expect(error).toMatchObject({ code: 'FORBIDDEN', exitCode: 77 });
    expect(error.message).toContain('RBAC denied SpinApp/kgents-edge');
    expect(error.message).toContain('cannot patch resource "spinapps"');
  });

  it('object rejected by the server (422): shows its message', async () => {
    const error = await applyAll(conn, [{ ...spinApp, spec: { ...spinApp.spec, replicas: 'x' } }] as unknown as KubernetesObject[]).catch((e) => e);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(error.message).toContain('the server rejected SpinApp/kgents-edge');
    expect(error.message).toContain('spec.replicas in body must be of type integer');
  });

  it('no cluster listening: names the server and the context', async () => {
    const port = await freePort();
    const file = join(dir, 'dead-kubeconfig');
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: kind-kgents, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: kind-kgents, context: {cluster: kind-kgents, user: u}}]\ncurrent-context: kind-kgents\n`);
    const error = await applyAll(connect({ kubeconfig: file }), objects).catch((e) => e);
    expect(error).toMatchObject({ code: 'CLUSTER_UNREACHABLE' });
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
    expect(error.message).toContain('kind-kgents');
    expect(error.message).toMatch(/ECONNREFUSED|connect/i);
  });

  it('no kubeconfig anywhere: says so, rather than trying a made-up localhost:8080', () => {
    const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    const home = join(dir, 'empty-home');
    mkdirSync(home, { recursive: true });
    Object.assign(process.env, { HOME: home });
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      expect(() => connect()).toThrow(/no kubeconfig: none at ~\/\.kube\/config and KUBECONFIG is unset.*bootstrap\.sh/);
      expect(connect({ kubeconfig: kube.kubeconfig(dir) }).context).toBe('fake');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('no context at all, or an unknown --context', () => {
    const file = join(dir, 'empty-kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    expect(() => connect({ kubeconfig: file })).toThrow(/bootstrap\.sh/);
    expect(() => connect({ kubeconfig: kube.kubeconfig(dir), context: 'prod' })).toThrow(/no context "prod".*fake/);
  });
});

describe('autoscaling', () => {
  it('a deploy without --autoscale removes the HPA an earlier one left; a deploy with it keeps its own', async () => {
    const hpa = { ...autoscalerOf('kgents-edge'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'kgents-edge' }, minReplicas: 2, maxReplicas: 5 } } as KubernetesObject;
    await applyAll(conn, [spinApp, hpa] as KubernetesObject[]);
    await pruneAutoscaler(conn, [spinApp, hpa] as KubernetesObject[]);
    expect(kube.objects().map((o) => o.kind).sort()).toEqual(['HorizontalPodAutoscaler', 'SpinApp']);
    const lines: string[] = [];
    await pruneAutoscaler(conn, [spinApp] as KubernetesObject[], (l) => lines.push(l));
    expect(kube.objects().map((o) => o.kind)).toEqual(['SpinApp']);
    expect(lines).toEqual(['deleted HorizontalPodAutoscaler/kgents-edge (this deploy has no --autoscale)']);
    // Nothing to remove the next time, and nothing said.
    await pruneAutoscaler(conn, [spinApp] as KubernetesObject[], (l) => lines.push(l));
    expect(lines).toHaveLength(1);
  });
});

describe('status and delete', () => {
  it('says a SpinApp rolled out by the rule deploy waits on, not by its ready count, which counts old pods too', async () => {
    await applyAll(conn, objects);
    kube.setStatus('SpinApp', 'kgents-edge', { readyReplicas: 2 });
    // The operator's Deployment still runs the previous image, all of it ready.
    const stale = kube.put(operatorDeploymentOf({ ...spinApp, spec: { ...spinApp.spec, image: 'localhost:5001/kgents/reflexes:v0' } } as Obj));
    kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: stale.metadata.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    kube.setStatus('Deployment', 'kgents-nucleus', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    expect((await listApps(conn)).map((a) => [a.name, a.ready, a.rolledOut])).toEqual([['kgents-edge', 2, 'no'], ['kgents-nucleus', 1, 'yes']]);
    const current = kube.put(operatorDeploymentOf(spinApp as Obj));
    kube.setStatus('Deployment', 'kgents-edge', { observedGeneration: current.metadata.generation });
    expect((await listApps(conn)).map((a) => a.rolledOut)).toEqual(['yes', 'yes']);
  });

  it('lists apps with ready replicas, whether they rolled out, and images, then deletes them', async () => {
    await applyAll(conn, objects);
    kube.setStatus('SpinApp', 'kgents-edge', { readyReplicas: 2 });
    expect(await listApps(conn)).toEqual([
      { kind: 'SpinApp', name: 'kgents-edge', ready: 2, desired: 2, images: ['localhost:5001/kgents/reflexes:v1'], rolledOut: 'no Deployment yet' },
      { kind: 'Deployment', name: 'kgents-nucleus', ready: 0, desired: 1, images: ['localhost:5001/kgents-edge:latest'], rolledOut: 'no' },
    ]);
    expect(kube.requests.find((r) => r.path === '/apis/apps/v1/namespaces/default/deployments' && r.method === 'GET')!.query.labelSelector).toBe('app.kubernetes.io/part-of=kgents-edge');
    const lines: string[] = [];
    await deleteAll(conn, objects, (l) => lines.push(l));
    await deleteAll(conn, [spinApp] as KubernetesObject[], (l) => lines.push(l));
    expect(kube.objects()).toEqual([]);
    expect(lines.at(-1)).toBe('SpinApp/kgents-edge was already gone');
    expect(writes().filter((r) => r.method === 'DELETE').map((r) => r.path)).toContain('/apis/core.spinkube.dev/v1alpha1/namespaces/default/spinapps/kgents-edge');
  });
});

const until = (check: () => boolean, timeout = 3_000) => vi.waitFor(() => expect(check()).toBe(true), { timeout, interval: 10 });
