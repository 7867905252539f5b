import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/net.ts';
import type { BuildResult } from '../../compiler/build.ts';
import { pullApp } from '../../spinkube/oci/pull.ts';
import { operatorDeploymentOf, startFakeKube, type FakeKube, type Obj } from '../support/fake-kube-api.ts';
import { RegistryServer } from '../support/registry-server.ts';
import { shippedApp } from '../support/shipped-app.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';

let registry: RegistryServer;
let built: BuildResult;
let kube: FakeKube;
let dir: string;

beforeAll(async () => {
  [registry, built, kube] = await Promise.all([RegistryServer.start(), shippedApp(), startFakeKube()]);
  dir = scratchProject('deploy');
  // A platform kustomization in the shape of k8s/: a list of plain resources.
  mkdirSync(join(dir, 'platform'));
  writeFileSync(join(dir, 'platform', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - nucleus.yaml\n');
  writeFileSync(
    join(dir, 'platform', 'nucleus.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: kgents-nucleus\n  labels: {app.kubernetes.io/part-of: kgents-edge}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: n}}\n  template:\n    metadata: {labels: {app: n}}\n    spec: {containers: [{name: nucleus, image: "localhost:5001/kgents-edge:latest"}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: kgents-nucleus}\nspec: {selector: {app: n}, ports: [{port: 8081}]}\n',
  );
}, 300_000);
afterAll(async () => {
  await kube?.close();
  await registry?.stop();
});

function kgents(args: string[], whileRunning: () => void = () => {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), ...args], { cwd: REPO_ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const tick = setInterval(whileRunning, 20);
  return new Promise((resolve) => child.on('exit', (status) => (clearInterval(tick), resolve({ status, stdout, stderr }))));
}

/**
 * Plays the controllers: the spin-operator copies the Deployment's ready count into the SpinApp
 * and then updates the Deployment to the SpinApp's spec (in that order, as it does); the
 * Deployment controller rolls each spec out. `operator: false` plays an operator that has not
 * got to the SpinApp yet.
 */
function controllers({ operator = true } = {}) {
  return () => {
    const objects = kube.objects();
    for (const app of objects.filter((o) => o.kind === 'SpinApp')) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app.metadata.name);
      if (deployment && app.status?.readyReplicas !== deployment.status?.readyReplicas) kube.setStatus('SpinApp', app.metadata.name, { readyReplicas: deployment.status?.readyReplicas ?? 0 });
      const wanted = operatorDeploymentOf(app);
      if (operator && JSON.stringify(deployment?.spec) !== JSON.stringify(wanted.spec)) kube.put(wanted);
    }
    for (const d of kube.objects().filter((o) => o.kind === 'Deployment')) {
      if (d.status?.observedGeneration === d.metadata.generation) continue;
      const replicas = (d.spec?.replicas as number) ?? 1;
      kube.setStatus('Deployment', d.metadata.name, { observedGeneration: d.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });
    }
  };
}

const executor = (name: string): Obj => ({ apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinAppExecutor', metadata: { name, namespace: 'default' }, spec: { createDeployment: true } });

describe('kgents deploy (real registry, fake cluster)', () => {
  it('pushes, applies the SpinApp and the platform, waits until ready, and status shows them', async () => {
    const image = `${registry.host}/kgents/reflexes:e2e`;
    const kubeconfig = kube.kubeconfig(dir);
    kube.put(executor('containerd-shim-spin'));
    const result = await kgents(['deploy', '--image', image, '--insecure', '--dist', built.outDir, '--no-build', '--kubeconfig', kubeconfig, '--manifests', join(dir, 'platform'), '--timeout', '30'], controllers());
    expect(result.stderr).toContain('applied SpinApp/kgents-edge');
    expect(result.stderr).toContain('applied Deployment/kgents-nucleus');
    expect(result.stderr).toMatch(/SpinApp\/kgents-edge: 2\/2 ready/);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('deployed 3 object(s) to fake, all ready\n');

    const pulled = await pullApp(image, { insecure: true });
    expect(pulled.config).toMatchObject({ architecture: 'wasm', os: 'wasip1' });
    const spinApp = kube.objects().find((o) => o.kind === 'SpinApp')!;
    expect(spinApp.spec).toMatchObject({ image, executor: 'containerd-shim-spin' });
    const applies = kube.requests.filter((r) => r.method === 'PATCH');
    expect(applies.every((r) => r.query.fieldManager === 'kgents' && r.contentType === 'application/apply-patch+yaml')).toBe(true);

    // deploy may return on the Deployment's rollout before the operator's next pass copies its ready count into the SpinApp.
    controllers()();
    const status = await kgents(['status', '--kubeconfig', kubeconfig]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/SpinApp\s+kgents-edge\s+2\/2\s+yes\s+127\.0\.0\.1:\d+\/kgents\/reflexes:e2e/);
    expect(status.stdout).toMatch(/Deployment\s+kgents-nucleus\s+1\/1\s+yes/);

    // A new image: the SpinApp's status still counts the old pods, which are all ready. Until the
    // operator has rolled the new image out, the app is not ready.
    const next = `${registry.host}/kgents/reflexes:e2e-2`;
    const stale = await kgents(['deploy', '--image', next, '--insecure', '--dist', built.outDir, '--no-build', '--no-platform', '--kubeconfig', kubeconfig, '--timeout', '2'], controllers({ operator: false }));
    expect(stale.stderr).toMatch(/SpinApp\/kgents-edge: 2\/2 ready, rolling out/);
    expect(stale.stderr).toMatch(/not ready after 2 s: SpinApp\/kgents-edge \(2\/2 ready, rolling out\)/);
    expect(stale.status).toBe(75);
    const rolled = await kgents(['deploy', '--image', next, '--insecure', '--dist', built.outDir, '--no-build', '--no-push', '--no-platform', '--kubeconfig', kubeconfig, '--timeout', '30'], controllers());
    expect(rolled.status).toBe(0);
    expect(rolled.stdout).toBe('deployed 1 object(s) to fake, all ready\n');
    const deployment = kube.objects().find((o) => o.kind === 'Deployment' && o.metadata.name === 'kgents-edge')!;
    expect(JSON.stringify(deployment.spec)).toContain(next);

    // Without --name, the app deploy named: the built app's.
    const unnamed = await kgents(['delete', '--kubeconfig', kubeconfig, '--dist', join(dir, 'no-such-dist')]);
    expect(unnamed.status).toBe(64);
    expect(unnamed.stderr).toContain("to take the SpinApp's name from: pass --name");
    const removed = await kgents(['delete', '--kubeconfig', kubeconfig, '--dist', built.outDir, '--platform', '--manifests', join(dir, 'platform')]);
    expect(removed.status).toBe(0);
    // What is left is the cluster's own: the executor, and the operator's Deployment, which a real
    // cluster collects with its SpinApp (owner reference; the fake has no garbage collector).
    expect(kube.objects().map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/kgents-edge', 'SpinAppExecutor/containerd-shim-spin']);
  }, 120_000);

  it('a namespace without the SpinAppExecutor: a clear error naming it and --with-executor, before any wait', async () => {
    const started = Date.now();
    const result = await kgents(['deploy', '--image', `${registry.host}/kgents/reflexes:e2e`, '--insecure', '--dist', built.outDir, '--no-build', '--no-push', '--no-platform', '--executor', 'wasmtime-fast', '--kubeconfig', kube.kubeconfig(dir), '--timeout', '60']);
    expect(result.status).toBe(66);
    expect(result.stderr).toContain('SpinAppExecutor "wasmtime-fast", which namespace "default" does not have');
    expect(result.stderr).toContain('--with-executor');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('a cluster that does not answer: exit 69 naming it, before anything is pushed', async () => {
    const closed = await freePort();
    const kubeconfig = join(dir, 'unreachable-kubeconfig');
    writeFileSync(kubeconfig, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'gone', cluster: { server: `http://127.0.0.1:${closed}` } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'u' } }], 'current-context': 'gone' }));
    const image = `${registry.host}/kgents/never-pushed:v1`;
    const result = await kgents(['deploy', '--image', image, '--insecure', '--dist', built.outDir, '--no-build', '--kubeconfig', kubeconfig]);
    expect(result.status).toBe(69);
    expect(result.stderr).toContain(`cannot reach the cluster at http://127.0.0.1:${closed} (context "gone")`);
    expect(result.stderr).not.toContain('pushing');
    await expect(pullApp(image, { insecure: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);

  it('CRDs missing: exit 69 with the bootstrap hint, nothing applied', async () => {
    kube.crds = false;
    const before = kube.requests.filter((r) => r.method === 'PATCH').length;
    const result = await kgents(['deploy', '--image', `${registry.host}/kgents/reflexes:e2e`, '--insecure', '--dist', built.outDir, '--no-build', '--no-push', '--kubeconfig', kube.kubeconfig(dir), '--manifests', join(dir, 'platform')]);
    kube.crds = true;
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('bash k8s/bootstrap.sh');
    expect(kube.requests.filter((r) => r.method === 'PATCH').length).toBe(before);
  }, 60_000);
});
