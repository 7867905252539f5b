import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../compiler/build.ts';
import { pullApp } from '../../spinkube/oci/pull.ts';
import { startFakeKube, type FakeKube } from '../support/fake-kube-api.ts';
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

/** Plays the controllers: once an object exists, its replicas become ready. */
function controllers() {
  for (const o of kube.objects()) {
    if (o.status?.readyReplicas) continue;
    if (o.kind === 'SpinApp') kube.setStatus('SpinApp', o.metadata.name, { readyReplicas: (o.spec?.replicas as number) ?? 1 });
    if (o.kind === 'Deployment') kube.setStatus('Deployment', o.metadata.name, { observedGeneration: o.metadata.generation, updatedReplicas: 1, readyReplicas: 1 });
  }
}

describe('kgents deploy (real registry, fake cluster)', () => {
  it('pushes, applies the SpinApp and the platform, waits until ready, and status shows them', async () => {
    const image = `${registry.host}/kgents/reflexes:e2e`;
    const kubeconfig = kube.kubeconfig(dir);
    const result = await kgents(['deploy', '--image', image, '--insecure', '--dist', built.outDir, '--no-build', '--kubeconfig', kubeconfig, '--manifests', join(dir, 'platform'), '--timeout', '30'], controllers);
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

    const status = await kgents(['status', '--kubeconfig', kubeconfig]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/SpinApp\s+kgents-edge\s+2\/2\s+127\.0\.0\.1:\d+\/kgents\/reflexes:e2e/);
    expect(status.stdout).toMatch(/Deployment\s+kgents-nucleus\s+1\/1/);

    const removed = await kgents(['delete', '--kubeconfig', kubeconfig, '--platform', '--manifests', join(dir, 'platform')]);
    expect(removed.status).toBe(0);
    expect(kube.objects()).toEqual([]);
  }, 120_000);

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
