import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaffold, type ScaffoldOptions } from '../../spinkube/scaffold.ts';
import { crdErrors } from '../support/crd-validate.ts';
import { shippedApp } from '../support/shipped-app.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';

let dist: string;
beforeAll(async () => {
  dist = (await shippedApp()).outDir;
}, 300_000);

const IMAGE = 'localhost:5001/kgents/reflexes:v1';
type SpinAppSpec = Record<string, any>;

/** A copy of the shipped dist's app.json and spin.toml (all scaffold reads), edited, for apps the repo does not ship. */
function variantDist(edit: { app?: (app: any) => void; spin?: (spin: any) => void }): string {
  const dir = scratchProject('scaffold');
  const app = JSON.parse(readFileSync(join(dist, 'app.json'), 'utf8'));
  const spin = parseToml(readFileSync(join(dist, 'spin.toml'), 'utf8'));
  edit.app?.(app);
  edit.spin?.(spin);
  writeFileSync(join(dir, 'app.json'), JSON.stringify(app));
  writeFileSync(join(dir, 'spin.toml'), stringifyToml(spin));
  return dir;
}

describe('kgents scaffold', () => {
  it('makes a SpinApp that carries image, executor, replicas, variables, Redis KV, resources and probes', async () => {
    const { objects, notes } = await scaffold(dist, { image: IMAGE, replicas: 3, secretVariables: { nucleus_url: { secret: 'urls', key: 'nucleus' } }, redisUrl: 'redis://cache:6379' });
    expect(notes).toEqual([]);
    const [app] = objects as { spec: SpinAppSpec }[];
    expect(app).toMatchObject({ apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinApp', metadata: { name: 'kgents-edge' } });
    expect(app.spec).toMatchObject({ image: IMAGE, executor: 'containerd-shim-spin', replicas: 3 });
    expect(app.spec.variables).toEqual([{ name: 'nucleus_url', valueFrom: { secretKeyRef: { name: 'urls', key: 'nucleus' } } }]);
    expect(app.spec.runtimeConfig).toEqual({ keyValueStores: [{ name: 'default', type: 'redis', options: [{ name: 'url', value: 'redis://cache:6379' }] }] });
    expect(app.spec.resources).toEqual({ limits: { cpu: '100m', memory: '128Mi' }, requests: { cpu: '10m', memory: '32Mi' } });
    const health = (await shippedApp()).manifest.reflexes.find((r) => r.kind === 'health')!;
    expect(app.spec.checks.readiness.httpGet.path).toBe(health.route);
    // No liveness on it: a health reflex answers 503 while the nucleus is down, and restarting
    // every reflex pod for that would take the rate limits and the router's 503s down too.
    expect(app.spec.checks.liveness).toBeUndefined();
    // k8s/redis.yaml's NetworkPolicy admits only pods with this label to Redis.
    const policy = parseAllDocuments(readFileSync(join(REPO_ROOT, 'k8s', 'redis.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'NetworkPolicy');
    expect(policy.spec.ingress[0].from[0].podSelector.matchLabels).toEqual(app.spec.podLabels);
  });

  it('configures every key-value store a component opens, and keeps requests within small limits', async () => {
    const dir = variantDist({ spin: (spin) => (spin.component['agent-limit'].key_value_stores = ['sessions']) });
    const { objects } = await scaffold(dir, { image: IMAGE, cpuLimit: '5m', memoryLimit: '16Mi' });
    const app = (objects[0] as { spec: SpinAppSpec }).spec;
    expect(app.runtimeConfig.keyValueStores.map((s: { name: string }) => s.name)).toEqual(['default', 'sessions']);
    expect(app.resources).toEqual({ limits: { cpu: '5m', memory: '16Mi' }, requests: { cpu: '5m', memory: '16Mi' } });
    await expect(scaffold(dir, { image: IMAGE, memoryLimit: 'banana' })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('a Kubernetes quantity') });
  });

  it('points nucleus_url at the cluster Service by default, takes --variable values, and refuses one that is not a URL', async () => {
    const defaults = (await scaffold(dist, { image: IMAGE })).objects[0] as { spec: SpinAppSpec };
    expect(defaults.spec.variables).toEqual([{ name: 'nucleus_url', value: 'http://kgents-nucleus:8081' }]);
    const set = (await scaffold(dist, { image: IMAGE, variables: { nucleus_url: 'http://n.prod:80' } })).objects[0] as { spec: SpinAppSpec };
    expect(set.spec.variables).toEqual([{ name: 'nucleus_url', value: 'http://n.prod:80' }]);
    await expect(scaffold(dist, { image: IMAGE, variables: { nope: 'x' } })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('no variable "nope"') });
    await expect(scaffold(dist, { image: IMAGE, variables: { nucleus_url: 'kgents-nucleus:8081' } })).rejects.toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'nucleus_url' }, message: 'nucleus_url: expected an http:// or https:// URL, as its default http://127.0.0.1:8081 is; --variable gave "kgents-nucleus:8081"' });
  });

  it('every object it makes validates against the real SpinKube CRD schemas', async () => {
    const { objects } = await scaffold(dist, { image: IMAGE, withExecutor: true, redisSecret: { secret: 'redis', key: 'url' }, secretVariables: { nucleus_url: { secret: 's', key: 'k' } } });
    const spinKube = objects.filter((o) => o.apiVersion?.startsWith('core.spinkube.dev/'));
    expect(spinKube.map((o) => o.kind)).toEqual(['SpinApp', 'SpinAppExecutor']);
    for (const object of spinKube) expect(crdErrors(object)).toEqual([]);
    const autoscaled = await scaffold(dist, { image: IMAGE, autoscale: { min: 2, max: 5 } });
    expect(crdErrors(autoscaled.objects[0])).toEqual([]);
  });

  it('the validator does catch what a real API server refuses', () => {
    const broken = { apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinApp', metadata: { name: 'x' }, spec: { image: IMAGE, executor: 'containerd-shim-spin', replicas: 'x' } };
    expect(crdErrors(broken).map((e) => e.instancePath)).toEqual(['/spec/replicas']);
    expect(crdErrors({ ...broken, spec: { executor: 'e' } }).map((e) => e.message)).toContain("must have required property 'image'");
  });

  it('with --autoscale, enables autoscaling and adds an HPA on the Deployment the operator creates', async () => {
    const { objects } = await scaffold(dist, { image: IMAGE, autoscale: { min: 2, max: 5 }, cpuTarget: 70 });
    const [app, hpa] = objects as { spec: SpinAppSpec }[];
    expect(app.spec.enableAutoscaling).toBe(true);
    expect(app.spec.replicas).toBeUndefined();
    expect(hpa).toMatchObject({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'kgents-edge' }, minReplicas: 2, maxReplicas: 5 } });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(70);
  });
});

describe('kgents scaffold: cluster conventions and edge cases', () => {
  it('labels the objects, namespaces them, and shapes the executor and a Secret-held Redis URL', async () => {
    const { objects } = await scaffold(dist, { image: IMAGE, namespace: 'edge', withExecutor: true, autoscale: { min: 1, max: 3 }, redisSecret: { secret: 'redis', key: 'url' } });
    const [app, executor, hpa] = objects as { metadata: Record<string, any>; spec: SpinAppSpec }[];
    const labels = { 'app.kubernetes.io/name': 'kgents-edge', 'app.kubernetes.io/part-of': 'kgents-edge', 'app.kubernetes.io/managed-by': 'kgents' };
    expect(app.metadata).toEqual({ name: 'kgents-edge', namespace: 'edge', labels });
    expect(hpa.metadata).toMatchObject({ name: 'kgents-edge', namespace: 'edge', labels });
    expect(executor).toMatchObject({ kind: 'SpinAppExecutor', metadata: { name: 'containerd-shim-spin', namespace: 'edge' }, spec: { createDeployment: true, deploymentConfig: { runtimeClassName: 'wasmtime-spin-v2' } } });
    expect(app.spec.runtimeConfig.keyValueStores).toEqual([{ name: 'default', type: 'redis', options: [{ name: 'url', valueFrom: { secretKeyRef: { name: 'redis', key: 'url' } } }] }]);
    for (const object of [app, executor]) expect(crdErrors(object)).toEqual([]);
  });

  it('refuses an app variable that has no default and no value, naming the flag to pass', async () => {
    const withSecretVar = variantDist({ spin: (s) => (s.variables.api_key = {}) });
    await expect(scaffold(withSecretVar, { image: IMAGE })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('--variable api_key=') });
    const given = (await scaffold(withSecretVar, { image: IMAGE, secretVariables: { api_key: { secret: 'keys', key: 'api' } } })).objects[0] as { spec: SpinAppSpec };
    expect(given.spec.variables).toContainEqual({ name: 'api_key', valueFrom: { secretKeyRef: { name: 'keys', key: 'api' } } });
    expect(crdErrors(given)).toEqual([]);
  });

  it('marks the pods with a digest of their spec: the same for the same spec, another when the readiness check goes, not moved by replicas', async () => {
    const digest = async (d: string, options: Partial<ScaffoldOptions> = {}) => ((await scaffold(d, { image: IMAGE, ...options })).objects[0] as { spec: SpinAppSpec }).spec.podAnnotations;
    const plain = await digest(dist);
    expect(plain).toEqual({ 'kgents-edge/pod-spec': expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(await digest(dist)).toEqual(plain);
    expect(await digest(dist, { replicas: 5 })).toEqual(plain);
    expect(await digest(dist, { autoscale: { min: 1, max: 3 } })).toEqual(plain);
    expect(await digest(dist, { redisUrl: 'redis://cache:6379' })).not.toEqual(plain);
    expect(await digest(variantDist({ app: (a) => (a.reflexes = a.reflexes.filter((r: { kind: string }) => r.kind !== 'health')) }))).not.toEqual(plain);
  });

  it('without a health reflex, leaves out the checks and says so on stderr', async () => {
    const noHealth = variantDist({ app: (a) => (a.reflexes = a.reflexes.filter((r: { kind: string }) => r.kind !== 'health')) });
    const { objects, notes } = await scaffold(noHealth, { image: IMAGE });
    expect((objects[0] as { spec: SpinAppSpec }).spec.checks).toBeUndefined();
    expect(notes.join('\n')).toContain('no health reflex');
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'scaffold', '--image', IMAGE, '--dist', noHealth], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stderr).toContain('no health reflex');
    expect(cli.stdout).not.toContain('health');
  });
});

describe('kgents scaffold (CLI)', () => {
  const kgents = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });

  it('prints multi-document YAML that parses back to the objects', () => {
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'scaffold', '--image', IMAGE, '--dist', dist, '--with-executor', '--autoscale', '2:5', '--variable', 'nucleus_url=http://n:1'], { encoding: 'utf8' });
    const docs = parseAllDocuments(out).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(['SpinApp', 'SpinAppExecutor', 'HorizontalPodAutoscaler']);
    expect(docs[0].spec.variables).toEqual([{ name: 'nucleus_url', value: 'http://n:1' }]);
    for (const doc of docs.slice(0, 2)) expect(crdErrors(doc)).toEqual([]);
  });

  it('refuses bad input with a clear message and a non-zero exit', () => {
    const noImage = kgents(['scaffold', '--dist', dist]);
    expect(noImage.status).not.toBe(0);
    expect(noImage.stderr).toContain("required option '--image <ref>' not specified");
    const noDist = kgents(['scaffold', '--image', IMAGE, '--dist', join(REPO_ROOT, '.kgents', 'tmp', 'no-such-dist')]);
    expect(noDist.status).toBe(66);
    expect(noDist.stderr).toContain('run `kgents build` first');
    // Each names its flag once, says what it expected, and exits 64 before any YAML is printed.
    const refused: [string[], string][] = [
      [['--autoscale', 'many'], 'error: --autoscale: expected <min>:<max>, whole numbers with 1 <= min <= max, got "many"'],
      [['--autoscale', '0:3'], 'error: --autoscale: expected <min>:<max>, whole numbers with 1 <= min <= max, got "0:3"'],
      [['--autoscale', '5:2'], 'got "5:2"'],
      [['--variable', 'nucleus_url'], 'error: --variable: expected name=value, got "nucleus_url"'],
      [['--image', 'Localhost:5001/Kgents/App:v1'], 'error: --image: an image reference: host[:port]/repository[:tag]'],
      [['--redis-url', 'http://redis:6379'], 'error: --redis-url: a redis:// or rediss:// URL'],
      [['--namespace', 'Bad_NS'], 'error: --namespace: a DNS label'],
      [['--executor', ''], 'error: --executor: a DNS subdomain'],
    ];
    for (const [flags, message] of refused) {
      const run = kgents(['scaffold', '--image', IMAGE, '--dist', dist, ...flags]);
      expect(run.status, flags.join(' ')).toBe(64);
      expect(run.stderr, flags.join(' ')).toContain(message);
      expect(run.stdout).toBe('');
    }
    expect(kgents(['scaffold', '--help']).status).toBe(0);
  });

  it('--help describes every option', () => {
    const help = kgents(['scaffold', '--help']);
    expect(help.status).toBe(0);
    const optionLines = help.stdout.split('\n').filter((l) => /^\s+-/.test(l));
    for (const flag of ['--image', '--dist', '--name', '--namespace', '--replicas', '--executor', '--variable', '--secret-variable', '--redis-url', '--redis-secret', '--cpu-limit', '--memory-limit', '--with-executor', '--autoscale', '--cpu-target', '--output']) {
      const line = optionLines.find((l) => l.includes(`${flag} `) || l.trimEnd().endsWith(flag));
      expect(line, flag).toBeDefined();
      expect(line!.trim().split(/\s{2,}/).length, `${flag} has a description`).toBeGreaterThan(1);
    }
  });

  it('-o writes the same YAML to a file, whole, and nothing to stdout', () => {
    const dir = scratchProject('scaffold-out');
    const file = join(dir, 'app.yaml');
    const args = ['scaffold', '--image', IMAGE, '--dist', dist, '--with-executor'];
    const written = kgents([...args, '-o', file]);
    expect(written.status).toBe(0);
    expect(written.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(kgents(args).stdout);
    expect(readdirSync(dir)).toEqual(['app.yaml']);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('-o that cannot be written: says why, exits non-zero, and leaves no partial file', () => {
    const dir = scratchProject('scaffold-out-bad');
    mkdirSync(join(dir, 'a-folder'));
    const args = ['scaffold', '--image', IMAGE, '--dist', dist];
    const folder = kgents([...args, '-o', join(dir, 'a-folder')]);
    expect(folder.status).toBe(64);
    expect(folder.stderr).toBe(`error: --output: ${join(dir, 'a-folder')} is a folder: name a file\n`);
    const missing = kgents([...args, '-o', join(dir, 'no-such', 'app.yaml')]);
    expect(missing.status).toBe(66);
    expect(missing.stderr).toContain(`the folder ${join(dir, 'no-such')} does not exist`);
    expect(readdirSync(dir)).toEqual(['a-folder']);
    expect(readdirSync(join(dir, 'a-folder'))).toEqual([]);
  });
});
