import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadKustomization } from '../../spinkube/manifests.ts';
import { REPO_ROOT } from '../support/tmp.ts';

/**
 * k8s/ cannot be applied here (no cluster), so it is checked as far as this machine allows:
 * kubectl renders it, every object passes a structural schema of the fields we rely on, and
 * the cross-object rules a cluster would only reveal at run time (selectors, ports, the
 * Secret mount) hold.
 */
const K8S = join(REPO_ROOT, 'k8s');
const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' })).map((d) => d.toJS());

const Labels = z.record(z.string(), z.string());
const Probe = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }).optional(), tcpSocket: z.object({ port: z.union([z.string(), z.number()]) }).optional(), exec: z.object({ command: z.array(z.string()) }).optional() }).refine((p) => p.httpGet || p.tcpSocket || p.exec, 'a probe needs a handler');
const Resources = z.object({ requests: z.object({ cpu: z.string(), memory: z.string() }), limits: z.object({ cpu: z.string(), memory: z.string() }) });
const Container = z.object({
  name: z.string(),
  image: z.string().regex(/:[\w.-]+$/, 'a tagged image'),
  ports: z.array(z.object({ name: z.string(), containerPort: z.number().int() })).min(1),
  resources: Resources,
  readinessProbe: Probe,
  livenessProbe: Probe,
  securityContext: z.object({ allowPrivilegeEscalation: z.literal(false), readOnlyRootFilesystem: z.literal(true), capabilities: z.object({ drop: z.array(z.literal('ALL')) }) }),
  env: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() })).optional(),
});
const Deployment = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: z.object({ name: z.string(), labels: Labels }),
  spec: z.object({
    replicas: z.number().int().min(1),
    selector: z.object({ matchLabels: Labels }),
    template: z.object({
      metadata: z.object({ labels: Labels }),
      spec: z.object({
        securityContext: z.object({ runAsNonRoot: z.literal(true), runAsUser: z.number().int().positive(), fsGroup: z.number().int().optional(), seccompProfile: z.object({ type: z.literal('RuntimeDefault') }) }),
        containers: z.array(Container).min(1),
        volumes: z.array(z.object({ name: z.string() }).passthrough()).optional(),
      }),
    }),
  }),
});
const Service = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: z.object({ name: z.string() }),
  spec: z.object({ selector: Labels, ports: z.array(z.object({ port: z.number().int(), targetPort: z.union([z.string(), z.number()]) })).min(1) }),
});
type Deployment = z.infer<typeof Deployment>;

const deployments = rendered.filter((o) => o.kind === 'Deployment').map((o) => Deployment.parse(o));
const services = rendered.filter((o) => o.kind === 'Service').map((o) => Service.parse(o));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('k8s/ renders with kubectl kustomize', () => {
  it('contains Redis, the nucleus and Morpheus, each a Deployment and a Service, and nothing unknown', () => {
    expect(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/kgents-morpheus', 'Deployment/kgents-nucleus', 'Deployment/redis', 'Service/kgents-morpheus', 'Service/kgents-nucleus', 'Service/redis']);
  });

  it('every object passes the structural schema (non-root, resources, probes, pinned images)', () => {
    expect(deployments).toHaveLength(3);
    expect(services).toHaveLength(3);
  });

  it('kgents deploy reads the same objects without kubectl', () => {
    const ours = loadKustomization(K8S);
    expect(ours).toEqual(expect.arrayContaining(rendered));
    expect(ours).toHaveLength(rendered.length);
  });
});

describe('cross-object rules', () => {
  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: its selector picks its own pods', (_name, d: Deployment) => {
    expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    expect(d.spec.template.metadata.labels['app.kubernetes.io/part-of']).toBe('kgents-edge');
  });

  it.each(services.map((s) => [s.metadata.name, s] as const))('Service %s selects exactly one Deployment and targets a port it has', (_name, s) => {
    const targets = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
    expect(targets).toHaveLength(1);
    const ports = targets[0].spec.template.spec.containers.flatMap((c) => c.ports);
    for (const p of s.spec.ports) expect(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)).toBe(true);
  });

  it('the nucleus reaches Redis and Morpheus by their Service names and ports', () => {
    const env = Object.fromEntries(deployments.find((d) => d.metadata.name === 'kgents-nucleus')!.spec.template.spec.containers[0].env!.map((e) => [e.name, e.value]));
    const port = (name: string) => services.find((s) => s.metadata.name === name)!.spec.ports[0].port;
    expect(env.KGENTS_REDIS_URL).toBe(`redis://redis:${port('redis')}`);
    expect(env.MORPHEUS_URL).toBe(`http://kgents-morpheus:${port('kgents-morpheus')}`);
  });

  it('Morpheus mounts the claude-auth Secret read-only, mode 0400, where CLAUDE_CONFIG_DIR points', () => {
    const morpheus = deployments.find((d) => d.metadata.name === 'kgents-morpheus')!;
    const volume = morpheus.spec.template.spec.volumes!.find((v) => v.name === 'claude-auth') as { secret?: { secretName: string; defaultMode: number; optional: boolean } };
    expect(volume.secret).toEqual({ secretName: 'claude-auth', defaultMode: 0o400, optional: true });
    const container = morpheus.spec.template.spec.containers[0];
    const mount = container.volumeMounts!.find((m) => m.name === 'claude-auth')!;
    expect(mount.readOnly).toBe(true);
    expect(container.env!.find((e) => e.name === 'CLAUDE_CONFIG_DIR')!.value).toBe(mount.mountPath);
    // 0400 files are root-owned unless fsGroup hands them to the container's group.
    expect(morpheus.spec.template.spec.securityContext.fsGroup).toBe(morpheus.spec.template.spec.securityContext.runAsUser);
  });
});

describe('Kind, bootstrap and the image', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kgents-k8s-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('the Kind config names the cluster, pins the node image and lets containerd use the local registry', () => {
    const kind = parse(readFileSync(join(K8S, 'kind-config.yaml'), 'utf8'));
    expect(kind).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'kgents' });
    expect(kind.nodes[0].image).toMatch(/^kindest\/node:v\d+\.\d+\.\d+$/);
    expect(kind.containerdConfigPatches[0]).toContain('config_path = "/etc/containerd/certs.d"');
    expect(readFileSync(join(K8S, 'bootstrap.sh'), 'utf8')).toContain('certs.d/localhost:${REGISTRY_PORT}');
  });

  it('the scripts parse, pin their versions, and bootstrap names every missing tool', () => {
    for (const script of ['bootstrap.sh', 'create-claude-secret.sh']) expect(spawnSync('bash', ['-n', join(K8S, script)]).status).toBe(0);
    const text = readFileSync(join(K8S, 'bootstrap.sh'), 'utf8');
    for (const pin of ['CERT_MANAGER_VERSION=v', 'SHIM_VERSION=v', 'SPIN_OPERATOR_VERSION=', 'KWASM_CHART_VERSION=']) expect(text).toMatch(new RegExp(`${pin}[\\d.]+`));
    for (const step of ['wasmtime-spin-v2', 'spin-operator.crds.yaml', 'spin-operator.shim-executor.yaml', 'cert-manager']) expect(text).toContain(step);
    // An empty PATH: none of docker, kind, kubectl, helm can be found.
    const run = spawnSync('/bin/bash', [join(K8S, 'bootstrap.sh')], { env: { PATH: scratch }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('missing: docker kind kubectl helm');
  });

  it('create-claude-secret says which credential files are missing and prints no secret', () => {
    const run = spawnSync('/bin/bash', [join(K8S, 'create-claude-secret.sh')], { env: { PATH: process.env.PATH, CLAUDE_HOME: scratch }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`need ${scratch}/config.json and ${scratch}/credentials.json`);
  });

  it('the Dockerfile is multi-stage, runs as a non-root user and copies what the CLI imports', () => {
    const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toContain('--omit=dev');
    for (const dir of ['bin', 'cli', 'common', 'nucleus', 'agents']) expect(text).toContain(`COPY ${dir} ./${dir}`);
  });
});
