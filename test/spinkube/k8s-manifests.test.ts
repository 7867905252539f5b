import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freePort } from '../../common/net.ts';
import { loadKustomization } from '../../spinkube/manifests.ts';
import { PART_OF } from '../../spinkube/labels.ts';
import { ScaffoldOptions } from '../../spinkube/scaffold.ts';
import { REPO_ROOT } from '../support/tmp.ts';

/**
 * k8s/ cannot be applied here (no Docker, no cluster), so it is checked as far as this machine
 * allows: kubectl renders it, every object passes a strict structural schema of the fields we
 * rely on (strict, because an API server silently drops a misspelt field), the cross-object
 * rules a cluster would only reveal at run time hold, the image's file set runs with the
 * manifests' own arguments, environment and probes, and the scripts run against stand-ins for
 * docker, kind, kubectl and helm.
 */
const K8S = join(REPO_ROOT, 'k8s');
const KUBECTL = '/usr/bin/kubectl';
/** Built from the Dockerfile and pushed by the user; the one moving tag we accept. */
const OWN_IMAGE = 'localhost:5001/kgents-edge:latest';
/** The SpinApp's name: `kgents build` names the app after package.json. */
const APP = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).name as string;
const read = (...path: string[]) => readFileSync(join(REPO_ROOT, ...path), 'utf8');
/** The README's "Run on Kind with SpinKube" section, up to the next section. */
const kindSection = () => {
  const readme = read('README.md');
  const start = readme.indexOf('## Run on Kind with SpinKube\n');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
};

if (!existsSync(KUBECTL)) throw new Error(`${KUBECTL} is needed: these tests render k8s/ with \`kubectl kustomize\``);
const documents = parseAllDocuments(execFileSync(KUBECTL, ['kustomize', K8S], { encoding: 'utf8' }));
const rendered = documents.map((d) => d.toJS()) as { apiVersion: string; kind: string; metadata: { name: string } }[];

// ---- structural schema ---------------------------------------------------------------------

const Name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const Labels = z.record(z.string(), z.string());
const PortRef = z.union([z.string().min(1).max(15), z.number().int().min(1).max(65535)]);
const Quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi)?$/);
const Probe = z
  .object({
    httpGet: z.object({ path: z.string().startsWith('/'), port: PortRef }).strict().optional(),
    tcpSocket: z.object({ port: PortRef }).strict().optional(),
    exec: z.object({ command: z.array(z.string()).min(1) }).strict().optional(),
    initialDelaySeconds: z.number().int().min(0).optional(),
    periodSeconds: z.number().int().min(1).optional(),
    timeoutSeconds: z.number().int().min(1).optional(),
    failureThreshold: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((p) => [p.httpGet, p.tcpSocket, p.exec].filter(Boolean).length === 1, 'a probe needs exactly one handler');
const Resources = z.object({ requests: z.object({ cpu: Quantity, memory: Quantity }).strict(), limits: z.object({ cpu: Quantity, memory: Quantity }).strict() }).strict();
// Every Secret reference is optional: the platform must start on a bare cluster.
const SecretKeyRef = z.object({ name: Name, key: z.string().min(1), optional: z.literal(true) }).strict();
const EnvVar = z.union([z.object({ name: z.string(), value: z.string() }).strict(), z.object({ name: z.string(), valueFrom: z.object({ secretKeyRef: SecretKeyRef }).strict() }).strict()]);
const Container = z
  .object({
    name: Name,
    image: z.string(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent']),
    args: z.array(z.string()).optional(),
    env: z.array(EnvVar).optional(),
    ports: z.array(z.object({ name: z.string().max(15), containerPort: z.number().int() }).strict()).min(1),
    resources: Resources,
    startupProbe: Probe.optional(),
    readinessProbe: Probe,
    livenessProbe: Probe,
    securityContext: z.object({ allowPrivilegeEscalation: z.literal(false), readOnlyRootFilesystem: z.literal(true), capabilities: z.object({ drop: z.tuple([z.literal('ALL')]) }).strict() }).strict(),
    volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional() }).strict()).optional(),
  })
  .strict();
const Volume = z.union([
  z.object({ name: z.string(), emptyDir: z.object({ sizeLimit: Quantity.optional() }).strict() }).strict(),
  z
    .object({
      name: z.string(),
      secret: z.object({ secretName: Name, defaultMode: z.number().int().min(0).max(0o777), optional: z.boolean(), items: z.array(z.object({ key: z.string(), path: z.string() }).strict()).optional() }).strict(),
    })
    .strict(),
]);
const PodSpec = z
  .object({
    automountServiceAccountToken: z.literal(false),
    enableServiceLinks: z.literal(false),
    securityContext: z
      .object({
        runAsNonRoot: z.literal(true),
        runAsUser: z.number().int().min(1),
        runAsGroup: z.number().int().min(1),
        fsGroup: z.number().int().min(1).optional(),
        seccompProfile: z.object({ type: z.literal('RuntimeDefault') }).strict(),
      })
      .strict(),
    containers: z.array(Container).min(1),
    volumes: z.array(Volume).optional(),
  })
  .strict();
/** apiVersion, kind, name and labels, then the kind's own spec. */
const kubeObject = <Spec extends z.ZodType>(apiVersion: string, kind: string, spec: Spec) =>
  z.object({ apiVersion: z.literal(apiVersion), kind: z.literal(kind), metadata: z.object({ name: Name, labels: Labels }).strict(), spec }).strict();
const Selector = z.object({ matchLabels: Labels }).strict();
const Deployment = kubeObject(
  'apps/v1',
  'Deployment',
  z.object({ replicas: z.number().int().min(1), selector: Selector, template: z.object({ metadata: z.object({ labels: Labels }).strict(), spec: PodSpec }).strict() }).strict(),
);
const Service = kubeObject(
  'v1',
  'Service',
  z
    .object({
      type: z.enum(['ClusterIP', 'NodePort']).optional(),
      selector: Labels,
      ports: z.array(z.object({ name: z.string(), port: z.number().int(), targetPort: PortRef, nodePort: z.number().int().min(30000).max(32767).optional() }).strict()).min(1),
    })
    .strict(),
);
const NetworkPolicy = kubeObject(
  'networking.k8s.io/v1',
  'NetworkPolicy',
  z
    .object({
      podSelector: Selector,
      policyTypes: z.tuple([z.literal('Ingress')]),
      ingress: z.array(z.object({ from: z.array(z.object({ podSelector: Selector }).strict()).min(1), ports: z.array(z.object({ protocol: z.literal('TCP'), port: PortRef }).strict()).min(1) }).strict()).min(1),
    })
    .strict(),
);
type Deployment = z.infer<typeof Deployment>;
type Service = z.infer<typeof Service>;
type Container = z.infer<typeof Container>;

const KINDS = { Deployment, Service, NetworkPolicy } as const;
/** Schema failures as `Kind/name: path: message`, reported by one test so the others still run. */
const structuralIssues = rendered.flatMap((o) => {
  const schema = KINDS[o.kind as keyof typeof KINDS];
  const result = schema?.safeParse(o);
  return result && !result.success ? result.error.issues.map((i) => `${o.kind}/${o.metadata?.name}: ${i.path.join('.')}: ${i.message}`) : [];
});
const deployments = rendered.filter((o) => o.kind === 'Deployment') as unknown as Deployment[];
const services = rendered.filter((o) => o.kind === 'Service') as unknown as Service[];
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const deployment = (name: string) => deployments.find((d) => d.metadata.name === name)!;
const service = (name: string) => services.find((s) => s.metadata.name === name)!;
const only = (name: string) => deployment(name).spec.template.spec.containers[0];
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
const kindConfig = parse(read('k8s', 'kind-config.yaml'));
const bootstrapText = read('k8s', 'bootstrap.sh');
const shellVar = (text: string, name: string) => text.match(new RegExp(`^${name}=(\\S+)$`, 'm'))?.[1];
const dockerfile = read('Dockerfile');

describe('k8s/ renders with kubectl kustomize', () => {
  it('parses, and holds only kinds this file knows how to check', () => {
    for (const d of documents) expect(d.errors).toEqual([]);
    expect(rendered.map((o) => o.kind).filter((k) => !(k in KINDS))).toEqual([]);
  });

  it('holds Redis (with its NetworkPolicy), the nucleus and Morpheus (Deployment + Service each) and the NodePort onto the reflex app', () => {
    expect(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/kgents-morpheus',
      'Deployment/kgents-nucleus',
      'Deployment/redis',
      'NetworkPolicy/redis',
      'Service/kgents-edge-nodeport',
      'Service/kgents-morpheus',
      'Service/kgents-nucleus',
      'Service/redis',
    ]);
  });

  it('kgents deploy reads the same objects without kubectl', () => {
    const ours = loadKustomization(K8S);
    expect(ours).toHaveLength(rendered.length);
    expect(ours).toEqual(expect.arrayContaining(rendered));
  });
});

describe('structural check of every Deployment, Service and NetworkPolicy', () => {
  it('every object passes the schema: non-root, no privilege escalation, read-only root, no capabilities, RuntimeDefault seccomp, requests and limits, readiness and liveness probes, optional Secret references, no unknown fields', () => {
    expect(structuralIssues).toEqual([]);
  });

  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: images pinned, pulled on purpose, run as the image user', (_name, d: Deployment) => {
    for (const c of d.spec.template.spec.containers) {
      if (c.image === OWN_IMAGE) {
        // Our image is the one moving tag (rebuilt and pushed locally), so it must be re-pulled.
        expect(c.imagePullPolicy).toBe('Always');
        expect(d.spec.template.spec.securityContext.runAsUser).toBe(1000);
      } else {
        expect(c.image).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$/);
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });

  it('Redis runs as the redis image user (uid 999), the rest as the node user', () => {
    expect(deployment('redis').spec.template.spec.securityContext.runAsUser).toBe(999);
    expect(only('redis').image).toMatch(/^redis:7\.\d+\.\d+-alpine$/);
    for (const name of ['kgents-nucleus', 'kgents-morpheus']) expect(only(name).image).toBe(OWN_IMAGE);
  });

  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: every writable path is an emptyDir, and HOME is one of them', (_name, d: Deployment) => {
    const spec = d.spec.template.spec;
    for (const c of spec.containers) {
      const writable = (c.volumeMounts ?? []).filter((m) => !m.readOnly);
      expect(writable.length).toBeGreaterThan(0);
      for (const m of writable) expect(spec.volumes!.find((v) => v.name === m.name)).toHaveProperty('emptyDir');
      if (c.image === OWN_IMAGE) {
        expect(writable.map((m) => m.mountPath)).toContain('/tmp');
        expect(envOf(c).HOME).toEqual({ name: 'HOME', value: '/tmp' });
      }
    }
  });

  it('probes that need a named port name one the container has', () => {
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers) {
        for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (typeof port === 'string') expect(c.ports.map((p) => p.name)).toContain(port);
        }
      }
    }
  });
});

describe('cross-object rules', () => {
  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: labelled, and its selector picks its own pods and no other Deployment\'s', (_name, d: Deployment) => {
    for (const labels of [d.metadata.labels, d.spec.template.metadata.labels]) expect(labels).toMatchObject({ 'app.kubernetes.io/name': d.metadata.name, 'app.kubernetes.io/part-of': 'kgents-edge' });
    expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    for (const other of deployments.filter((o) => o !== d)) expect(matches(d.spec.selector.matchLabels, other.spec.template.metadata.labels)).toBe(false);
  });

  it.each(services.filter((s) => s.spec.type !== 'NodePort').map((s) => [s.metadata.name, s] as const))('Service %s selects exactly one Deployment and targets a port its container has', (_name, s: Service) => {
    const targets = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
    expect(targets.map((d) => d.metadata.name)).toEqual([s.metadata.name]);
    const ports = targets[0].spec.template.spec.containers.flatMap((c) => c.ports);
    for (const p of s.spec.ports) expect(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)).toBe(true);
    expect(s.metadata.labels['app.kubernetes.io/part-of']).toBe('kgents-edge');
  });

  it('the Services have the names and ports the team fixed', () => {
    expect(Object.fromEntries(services.map((s) => [s.metadata.name, s.spec.ports.map((p) => p.port)]))).toMatchObject({ redis: [6379], 'kgents-nucleus': [8081], 'kgents-morpheus': [8080] });
  });

  it('the NodePort selects the SpinApp\'s ready pods the way spin-operator\'s own Service does, on the port Kind maps', () => {
    const nodePort = services.find((s) => s.spec.type === 'NodePort')!;
    // spin-operator: selector core.spinkube.dev/app.<name>.status=ready, targetPort "http-app".
    expect(nodePort.spec.selector).toEqual({ [`core.spinkube.dev/app.${APP}.status`]: 'ready' });
    expect(deployments.filter((d) => matches(nodePort.spec.selector, d.spec.template.metadata.labels))).toEqual([]);
    expect(nodePort.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http-app', nodePort: expect.any(Number) }]);
    const mapping = kindConfig.nodes[0].extraPortMappings.find((m: { containerPort: number }) => m.containerPort === nodePort.spec.ports[0].nodePort);
    expect(mapping).toMatchObject({ hostPort: 8080, listenAddress: '127.0.0.1' });
    expect(kindSection()).toContain(`localhost:${mapping.hostPort}/_reflexes/health`);
  });

  it('only kgents pods reach Redis: the policy selects the Redis pods alone, on the port Redis listens on, and admits the nucleus', () => {
    const policy = rendered.find((o) => o.kind === 'NetworkPolicy') as unknown as z.infer<typeof NetworkPolicy>;
    expect(deployments.filter((d) => matches(policy.spec.podSelector.matchLabels, d.spec.template.metadata.labels)).map((d) => d.metadata.name)).toEqual(['redis']);
    const [rule] = policy.spec.ingress;
    expect(only('redis').ports.some((p) => rule.ports.every((allowed) => allowed.port === p.name || allowed.port === p.containerPort))).toBe(true);
    const admitted = (labels: Record<string, string>) => rule.from.some((f) => matches(f.podSelector.matchLabels, labels));
    expect(admitted(deployment('kgents-nucleus').spec.template.metadata.labels)).toBe(true);
    // The SpinApp's pods carry the same label (spinkube/scaffold.ts sets podLabels; scaffold.test.ts checks it).
    expect(rule.from).toEqual([{ podSelector: { matchLabels: PART_OF } }]);
  });

  it('the nucleus reaches Redis and Morpheus by their Service names; the SpinApp\'s default Redis URL is the same Service', () => {
    const env = envOf(only('kgents-nucleus'));
    expect(env.KGENTS_REDIS_URL).toEqual({ name: 'KGENTS_REDIS_URL', value: `redis://redis:${service('redis').spec.ports[0].port}` });
    // A base URL: the agent runner appends /v1 itself (checked end to end below).
    expect(env.MORPHEUS_URL).toEqual({ name: 'MORPHEUS_URL', value: `http://kgents-morpheus:${service('kgents-morpheus').spec.ports[0].port}` });
    expect(ScaffoldOptions.parse({ image: 'localhost:5001/kgents/app:v1' }).redisUrl).toBe(`redis://redis:${service('redis').spec.ports[0].port}`);
  });

  it('Morpheus mounts the claude-auth Secret read-only, mode 0400, optional, where CLAUDE_CONFIG_DIR points, readable through fsGroup', () => {
    const pod = deployment('kgents-morpheus').spec.template.spec;
    const volume = pod.volumes!.find((v) => v.name === 'claude-auth') as { secret: { secretName: string; defaultMode: number; optional: boolean; items?: { key: string; path: string }[] } };
    expect(volume.secret).toMatchObject({ secretName: 'claude-auth', defaultMode: 0o400, optional: true });
    expect(volume.secret.defaultMode).toBe(256);
    // The team's keys, plus the file name the claude CLI itself reads on Linux.
    expect(volume.secret.items).toEqual(expect.arrayContaining([{ key: 'config.json', path: 'config.json' }, { key: 'credentials.json', path: 'credentials.json' }, { key: 'credentials.json', path: '.credentials.json' }]));
    const container = pod.containers[0];
    const mount = container.volumeMounts!.find((m) => m.name === 'claude-auth')!;
    expect(mount).toEqual({ name: 'claude-auth', mountPath: '/var/run/secrets/claude', readOnly: true });
    expect(envOf(container).CLAUDE_CONFIG_DIR).toEqual({ name: 'CLAUDE_CONFIG_DIR', value: mount.mountPath });
    expect(envOf(container).MORPHEUS_CLAUDE_CLI).toEqual({ name: 'MORPHEUS_CLAUDE_CLI', value: '1' });
    // Secret files are root-owned: without fsGroup the non-root user could not read a 0400 file.
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
  });

  it('one optional Secret gives Morpheus its accepted key and the nucleus the key it presents', () => {
    const accepted = envOf(only('kgents-morpheus')).MORPHEUS_API_KEYS as { valueFrom: { secretKeyRef: unknown } };
    const presented = envOf(only('kgents-nucleus')).MORPHEUS_API_KEY as { valueFrom: { secretKeyRef: unknown } };
    expect(accepted.valueFrom.secretKeyRef).toEqual({ name: 'morpheus-api-key', key: 'api-key', optional: true });
    expect(presented.valueFrom.secretKeyRef).toEqual(accepted.valueFrom.secretKeyRef);
  });
});

// ---- the image's file set, run with the manifests ------------------------------------------

/** `COPY a b dest` lines of the runtime stage (not `--from=`), as [sources, dest]. */
function dockerCopies(text: string): [string[], string][] {
  return [...text.matchAll(/^COPY\s+(?!--)(.+)$/gm)].map((m) => {
    const parts = m[1].trim().split(/\s+/);
    return [parts.slice(0, -1), parts.at(-1)!];
  });
}

/** Every repo file reachable through relative imports (static, dynamic, type) from `entry`. */
function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const base = resolve(dirname(file), m[1]);
      // Generated AssemblyScript inside template strings names files that do not exist here.
      const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
      if (found) visit(found);
    }
  };
  visit(entry);
  return [...seen].map((f) => relative(REPO_ROOT, f));
}

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs `command` and resolves with the URL it prints (`<name> on http://...`). */
function startServer(command: string[], cwd: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(command[0], command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "on http://" line within 60 s from ${command.join(' ')}:\n${output}`)), 60_000);
    const onData = (c: Buffer) => {
      output += c.toString();
      const m = output.match(/\bon (http:\/\/[\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1], output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.end(), done(true)));
    socket.once('error', () => done(false));
  });
}

describe('the image, run the way the manifests run it', () => {
  // Named now, made in beforeAll: a filtered run (-t) that skips this block leaves nothing behind.
  const scratch = join(tmpdir(), `kgents-image-${randomUUID()}`);
  /** WORKDIR /app of the runtime stage, rebuilt from the Dockerfile's COPY lines. */
  const app = join(scratch, 'app');
  /** Stand-ins for the pod's emptyDir /tmp and the mounted claude-auth Secret. */
  const podTmp = join(scratch, 'tmp');
  const secretDir = join(scratch, 'claude-auth');
  const bin = join(scratch, 'bin');
  const API_KEY = 'test-key-for-morpheus';
  /** In-cluster `host:port` of each Service -> where its stand-in listens here. */
  const dns = new Map<string, string>();
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let morpheus: Running | undefined;
  let nucleus: Running | undefined;

  /** The container's env as the kubelet would give it, with cluster names and mounts mapped to here. */
  const podEnv = (c: Container, secrets: Record<string, Record<string, string>>): Record<string, string> => {
    const mounts: Record<string, string> = { '/tmp': podTmp, '/var/run/secrets/claude': secretDir };
    const imageEnv = Object.fromEntries([...(dockerfile.replace(/\\\n/g, ' ').match(/^ENV\s+(.+)$/m)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const env: Record<string, string> = { PATH: `${bin}:${process.env.PATH}`, TMPDIR: podTmp, ...imageEnv };
    for (const e of c.env ?? []) {
      if ('valueFrom' in e) {
        const value = secrets[e.valueFrom.secretKeyRef.name]?.[e.valueFrom.secretKeyRef.key];
        if (value !== undefined) env[e.name] = value;
        continue;
      }
      let value = mounts[e.value] ?? e.value;
      for (const [inCluster, here] of dns) value = value.replace(`//${inCluster}`, `//${here}`);
      env[e.name] = value;
    }
    return env;
  };
  /** ENTRYPOINT + the container's args, listening on a free loopback port instead. */
  const command = (c: Container) => {
    const entrypoint = JSON.parse(dockerfile.match(/^ENTRYPOINT\s+(\[.+\])$/m)![1]) as string[];
    expect(entrypoint[0]).toBe('node');
    return [process.execPath, ...entrypoint.slice(1), ...c.args!, '--host', '127.0.0.1', '--port', '0'];
  };
  const httpProbes = (c: Container) => [c.startupProbe, c.readinessProbe, c.livenessProbe].flatMap((p) => (p?.httpGet ? [p.httpGet.path] : []));

  beforeAll(async () => {
    mkdirSync(app, { recursive: true });
    for (const dir of [podTmp, secretDir, bin]) mkdirSync(dir);
    for (const [sources, dest] of dockerCopies(dockerfile)) {
      for (const source of sources) cpSync(join(REPO_ROOT, source), dest.endsWith('/') ? join(app, dest, basename(source)) : join(app, dest), { recursive: true });
    }
    // COPY --from=deps /app/node_modules: the production install, stood in for by this checkout's.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'));
    // `claude` on PATH, as the image's global install puts it; a fake that logs its calls.
    copyFileSync(join(REPO_ROOT, 'test', 'support', 'fake-claude', 'claude'), join(bin, 'claude'));
    chmodSync(join(bin, 'claude'), 0o755);
    writeFileSync(join(secretDir, 'config.json'), '{}\n');
    writeFileSync(join(secretDir, '.credentials.json'), '{"fake":true}\n');

    const redisContainer = only('redis');
    redisPort = await freePort();
    redis = spawn('redis-server', [...redisContainer.args!, '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', podTmp], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(redisPort))) {
      if (Date.now() > deadline) throw new Error('redis-server did not start with the manifest\'s arguments');
      await new Promise((r) => setTimeout(r, 25));
    }
    dns.set(`redis:${service('redis').spec.ports[0].port}`, `127.0.0.1:${redisPort}`);

    const secrets = { 'morpheus-api-key': { 'api-key': API_KEY } };
    morpheus = await startServer(command(only('kgents-morpheus')), app, podEnv(only('kgents-morpheus'), secrets));
    dns.set(`kgents-morpheus:${service('kgents-morpheus').spec.ports[0].port}`, new URL(morpheus.url).host);
    nucleus = await startServer(command(only('kgents-nucleus')), app, podEnv(only('kgents-nucleus'), secrets));
  });

  afterAll(async () => {
    await Promise.all([stop(nucleus?.child), stop(morpheus?.child), stop(redis)]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the runtime stage copies every file the CLI imports, for every command', () => {
    const copied = reachableFiles(join(REPO_ROOT, 'bin', 'kgents.js'));
    expect(copied.length).toBeGreaterThan(20);
    expect(copied.filter((f) => !existsSync(join(app, f)))).toEqual([]);
  });

  it('the nucleus and Morpheus answer every httpGet probe of their manifests', async () => {
    for (const [running, name] of [[nucleus!, 'kgents-nucleus'], [morpheus!, 'kgents-morpheus']] as const) {
      const paths = httpProbes(only(name));
      expect(paths.length).toBeGreaterThanOrEqual(2);
      for (const path of paths) expect({ name, path, status: (await fetch(running.url + path)).status }).toEqual({ name, path, status: 200 });
    }
  });

  it('Redis starts with the manifest\'s arguments and answers its readiness command', () => {
    const [cli, ...rest] = only('redis').readinessProbe.exec!.command;
    const run = (...args: string[]) => execFileSync(cli, ['-p', String(redisPort), ...args], { encoding: 'utf8' }).trim();
    expect(run(...rest)).toBe('PONG');
    expect(run('config', 'get', 'maxmemory-policy')).toContain('allkeys-lru');
    expect(run('config', 'get', 'appendonly')).toContain('no');
  });

  it('an agent call goes nucleus -> Morpheus -> claude CLI with the wiring of the manifests (base URL, API key, CLAUDE_CONFIG_DIR)', async () => {
    const response = await fetch(`${nucleus!.url}/v1/agents/triage/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'the payments API returns 500s' }) });
    const body = (await response.json()) as { status: string; output: string };
    expect(response.status).toBe(200);
    expect(body.status).toBe('allowed');
    expect(body.output).toContain('cli(claude-sonnet-4)');
    const calls = readFileSync(join(bin, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { configDir: string });
    expect(calls.at(-1)!.configDir).toBe(secretDir);
  });

  it('with the morpheus-api-key Secret present, Morpheus refuses callers without the key', async () => {
    expect((await fetch(`${morpheus!.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${morpheus!.url}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).not.toBe(401);
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('is multi-stage, installs production dependencies only, and runs as a non-root user', () => {
    const stages = dockerfile.match(/^FROM\s+\S+/gm)!;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:\d+\.\d+-bookworm-slim$/);
    expect(dockerfile).toContain('npm install --omit=dev --no-audit --no-fund');
    // `npm ci` rejects this lockfile (optional platform binaries that were never published).
    expect(dockerfile.match(/^RUN .+$/gm)!.filter((line) => /\bnpm ci\b/.test(line))).toEqual([]);
    expect(dockerfile).toMatch(/^COPY --from=\w+ \/app\/node_modules \.\/node_modules$/m);
    const users = dockerfile.match(/^USER\s+(\S+)$/gm)!;
    expect(users.at(-1)).toBe('USER node');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", ?"bin\/kgents\.js"\]$/m);
    expect(JSON.parse(dockerfile.match(/^CMD\s+(\[.+\])$/m)![1])).toEqual(['nucleus', '--host', '0.0.0.0']);
  });

  it('keeps local state out of the build context but nothing the Dockerfile copies', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.kgents', '.git', 'test', 'bench']));
    for (const [sources] of dockerCopies(dockerfile)) for (const source of sources) expect(ignored).not.toContain(source);
  });

  it('the docs build and push the image the manifests run', () => {
    expect(kindSection()).toContain(`docker build -t ${OWN_IMAGE} . && docker push ${OWN_IMAGE}`);
    expect(dockerfile).toContain(`docker build -t ${OWN_IMAGE} .`);
  });
});

describe('Kind config', () => {
  it('names the cluster and uses the shim\'s Kind node image at the bootstrap\'s shim version', () => {
    expect(kindConfig).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: shellVar(bootstrapText, 'CLUSTER') });
    expect(kindConfig.nodes).toHaveLength(1);
    expect(kindConfig.nodes[0].image).toBe(`ghcr.io/spinframework/containerd-shim-spin/kind:${shellVar(bootstrapText, 'SHIM_VERSION')}`);
    expect(shellVar(bootstrapText, 'SHIM_VERSION')).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('registers the spin runtime handler and the registry config folder; each patch is valid TOML', () => {
    const patches = (kindConfig.containerdConfigPatches as string[]).map((p) => parseToml(p) as { plugins: Record<string, Record<string, unknown>> });
    const runtime = patches.map((p) => p.plugins['io.containerd.cri.v1.runtime']).find(Boolean) as { containerd: { runtimes: { spin: { runtime_type: string } } } };
    // Handler `spin`: the name RuntimeClass wasmtime-spin-v2 points at.
    expect(runtime.containerd.runtimes.spin.runtime_type).toBe('io.containerd.spin.v2');
    const registry = patches.map((p) => p.plugins['io.containerd.grpc.v1.cri']).find(Boolean) as { registry: { config_path: string } };
    expect(registry.registry.config_path).toBe('/etc/containerd/certs.d');
  });

  it('the registry the manifests pull from is the one bootstrap mirrors into the node', () => {
    const port = shellVar(bootstrapText, 'REGISTRY_PORT');
    expect(OWN_IMAGE.startsWith(`localhost:${port}/`)).toBe(true);
    expect(shellVar(bootstrapText, 'REGISTRY_NAME')).toBe('kind-registry');
    expect(bootstrapText).toContain('/etc/containerd/certs.d/localhost:${REGISTRY_PORT}/hosts.toml');
  });
});

// ---- the scripts -----------------------------------------------------------------------------

describe('bootstrap.sh and create-claude-secret.sh', () => {
  const scratch = join(tmpdir(), `kgents-scripts-${randomUUID()}`);
  beforeAll(() => mkdirSync(scratch));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const script = (name: string) => join(K8S, name);

  /** A folder of stand-in commands; each logs its argv (and stdin, where the script pipes some). */
  const fakes = (name: string, tools: Record<string, string>) => {
    const dir = join(scratch, name);
    mkdirSync(dir, { recursive: true });
    for (const [tool, body] of Object.entries(tools)) {
      writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "$FAKE_LOG"\n${body}\nexit 0\n`);
      chmodSync(join(dir, tool), 0o755);
    }
    return dir;
  };
  const FAKE_TOOLS = {
    docker: `case "$1" in
  inspect)
    case "$*" in
      *State.Running*) [ "$FAKE_STATE" = existing ] && echo true && exit 0; exit 1 ;;
      *Networks.kind*) if [ "$FAKE_STATE" = existing ]; then echo '{"NetworkID":"n"}'; else echo null; fi ;;
      *) [ "$FAKE_STATE" = existing ] || exit 1 ;;
    esac ;;
  exec) [ "$2" = -i ] && cat >> "$FAKE_LOG.stdin" ;;
esac`,
    kind: `case "$1 $2" in
  "get clusters") [ "$FAKE_STATE" = existing ] && echo kgents ;;
  "get nodes") echo kgents-control-plane ;;
esac`,
    kubectl: `case "$*" in *"-f -"*) cat >> "$FAKE_LOG.stdin" ;; esac`,
    helm: '',
  };

  it('both parse', () => {
    for (const name of ['bootstrap.sh', 'create-claude-secret.sh']) expect(spawnSync('bash', ['-n', script(name)]).status).toBe(0);
  });

  it('bootstrap names every missing tool with an install hint, and does nothing else', () => {
    // No PATH entry at all (kubectl lives in /usr/bin here): the check uses shell builtins only.
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const none = spawnSync('/bin/bash', [script('bootstrap.sh')], { env: { PATH: empty }, encoding: 'utf8' });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('missing: docker kind kubectl helm');
    for (const tool of ['docker', 'kind', 'kubectl', 'helm']) expect(none.stderr).toMatch(new RegExp(`install ${tool}: https://`));
    expect(none.stdout).toBe('');

    const some = fakes('some', { docker: '', kubectl: '' });
    const partial = spawnSync('/bin/bash', [script('bootstrap.sh')], { env: { PATH: some, FAKE_LOG: join(scratch, 'some.log') }, encoding: 'utf8' });
    expect(partial.status).toBe(1);
    expect(partial.stderr).toContain('missing: kind helm\n');
    expect(partial.stderr).not.toContain('install docker');
    expect(existsSync(join(scratch, 'some.log'))).toBe(false);
  });

  const runBootstrap = (state: 'fresh' | 'existing') => {
    const dir = fakes('all', FAKE_TOOLS);
    const log = join(scratch, `${state}.log`);
    const run = spawnSync('/bin/bash', [script('bootstrap.sh')], { env: { PATH: `${dir}:/usr/bin:/bin`, FAKE_LOG: log, FAKE_STATE: state }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return { calls: readFileSync(log, 'utf8').trim().split('\n'), stdin: readFileSync(`${log}.stdin`, 'utf8'), stdout: run.stdout };
  };
  const inOrder = (calls: string[], expected: string[]) => {
    let at = -1;
    for (const e of expected) {
      const next = calls.findIndex((c, i) => i > at && c.startsWith(e));
      expect(next, `"${e}" after call ${at}:\n${calls.join('\n')}`).toBeGreaterThan(at);
      at = next;
    }
  };

  it('bootstrap on a fresh machine: registry, cluster, mirror, cert-manager, CRDs, RuntimeClass, operator, executor, in that order', () => {
    const { calls, stdin, stdout } = runBootstrap('fresh');
    const certManager = shellVar(bootstrapText, 'CERT_MANAGER_VERSION')!;
    const operator = shellVar(bootstrapText, 'SPIN_OPERATOR_VERSION')!;
    expect(certManager).toMatch(/^v1\.\d+\.\d+$/);
    expect(operator).toMatch(/^\d+\.\d+\.\d+$/);
    const release = `https://github.com/spinframework/spin-operator/releases/download/v${operator}`;
    inOrder(calls, [
      `docker run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name kind-registry ${shellVar(bootstrapText, 'REGISTRY_IMAGE')}`,
      `kind create cluster --config ${K8S}/kind-config.yaml`,
      'docker exec kgents-control-plane mkdir -p /etc/containerd/certs.d/localhost:5001',
      'docker exec -i kgents-control-plane cp /dev/stdin /etc/containerd/certs.d/localhost:5001/hosts.toml',
      'docker network connect kind kind-registry',
      'kubectl apply -f -',
      `kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/${certManager}/cert-manager.yaml`,
      'kubectl wait --for=condition=available',
      `kubectl apply -f ${release}/spin-operator.crds.yaml`,
      'kubectl wait --for=condition=established',
      `kubectl apply -f ${release}/spin-operator.runtime-class.yaml`,
      `helm upgrade --install spin-operator oci://ghcr.io/spinframework/charts/spin-operator --version ${operator} --namespace spin-operator --create-namespace --wait`,
      `kubectl apply -f ${release}/spin-operator.shim-executor.yaml`,
    ]);
    expect(calls.find((c) => c.startsWith('kubectl wait --for=condition=available'))).toContain('deployment/cert-manager-webhook');
    // What went through pipes: the node's hosts.toml, and the KEP-1755 ConfigMap.
    const [hostsToml, configMap] = [stdin.slice(0, stdin.indexOf('apiVersion')), stdin.slice(stdin.indexOf('apiVersion'))];
    expect(parseToml(hostsToml)).toEqual({ host: { 'http://kind-registry:5000': {} } });
    expect(parse(configMap)).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'local-registry-hosting', namespace: 'kube-public' } });
    expect(parse(parse(configMap).data['localRegistryHosting.v1'])).toMatchObject({ host: 'localhost:5001' });
    expect(stdout).toMatch(/==> local registry[\s\S]*==> Kind cluster[\s\S]*==> cert-manager[\s\S]*==> SpinAppExecutor/);
  });

  it('bootstrap run again creates nothing twice and re-applies the rest', () => {
    const { calls, stdout } = runBootstrap('existing');
    expect(calls.filter((c) => /^docker run|^docker start|^kind create|^docker network connect/.test(c))).toEqual([]);
    expect(stdout).toContain('already running');
    expect(stdout).toContain('already exists');
    inOrder(calls, ['docker exec kgents-control-plane mkdir', 'kubectl apply -f https://github.com/cert-manager', 'helm upgrade --install spin-operator', 'kubectl apply -f https://github.com/spinframework/spin-operator/releases/download/']);
  });

  it('create-claude-secret names each missing file', () => {
    const empty = join(scratch, 'no-claude');
    mkdirSync(empty);
    const run = spawnSync('/bin/bash', [script('create-claude-secret.sh')], { env: { PATH: '/usr/bin:/bin', CLAUDE_HOME: empty }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${empty}/config.json`);
    expect(run.stderr).toContain(`${empty}/credentials.json (or .credentials.json)`);
  });

  it('create-claude-secret builds the Secret from config.json and .credentials.json and never prints them', () => {
    const home = join(scratch, 'claude-home');
    mkdirSync(home);
    const CONFIG = '{"userID":"config-canary-4711"}';
    const CREDENTIALS = '{"claudeAiOauth":{"accessToken":"credential-canary-0815"}}';
    writeFileSync(join(home, 'config.json'), CONFIG);
    writeFileSync(join(home, '.credentials.json'), CREDENTIALS);
    // kubectl: the real client-side dry run (no cluster needed) feeding a fake `apply -f -`.
    const dir = fakes('kubectl-apply', { kubectl: `case "$1" in create) exec ${KUBECTL} "$@" ;; apply) cat > "$FAKE_LOG.applied" ;; esac` });
    const log = join(scratch, 'secret.log');
    const run = spawnSync('/bin/bash', [script('create-claude-secret.sh')], { env: { PATH: `${dir}:/usr/bin:/bin`, HOME: scratch, CLAUDE_HOME: home, FAKE_LOG: log }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const secret = parse(readFileSync(`${log}.applied`, 'utf8'));
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'claude-auth', namespace: 'default' } });
    expect(Object.keys(secret.data).sort()).toEqual(['config.json', 'credentials.json']);
    expect(Buffer.from(secret.data['credentials.json'], 'base64').toString()).toBe(CREDENTIALS);
    expect(Buffer.from(secret.data['config.json'], 'base64').toString()).toBe(CONFIG);
    for (const canary of ['config-canary-4711', 'credential-canary-0815', secret.data['credentials.json'], secret.data['config.json']]) {
      expect(run.stdout + run.stderr).not.toContain(canary);
      expect(readFileSync(log, 'utf8')).not.toContain(canary);
    }
  });
});

describe('README: Run on Kind with SpinKube', () => {
  it('walks from bootstrap to a curl through a reflex to the nucleus, in order', () => {
    const text = kindSection();
    expect(text.startsWith('## Run on Kind with SpinKube\n')).toBe(true);
    const steps = [
      'bash k8s/bootstrap.sh',
      `docker build -t ${OWN_IMAGE}`,
      'bash k8s/create-claude-secret.sh',
      'kubectl apply -k k8s/',
      'npx kgents build',
      'npx kgents push localhost:5001/kgents/reflexes:latest --insecure',
      'npx kgents scaffold --image localhost:5001/kgents/reflexes:latest | kubectl apply -f -',
      `kubectl port-forward svc/${APP} 3000:80`,
      'curl -s localhost:3000/_reflexes/health',
      'curl -s localhost:3000/v1/agents',
    ];
    let at = -1;
    for (const step of steps) {
      const next = text.indexOf(step, at + 1);
      expect(next, step).toBeGreaterThan(at);
      at = next;
    }
    expect(text).toContain('npx kgents deploy --image localhost:5001/kgents/reflexes:latest');
  });

  it('its curls hit routes the shipped reflexes serve', () => {
    expect(read('reflexes', 'edge-health.reflex.ts')).toContain("route: '/_reflexes/health'");
    expect(read('reflexes', 'api-router.reflex.ts')).toMatch(/prefix: '\/v1\/agents'.*route: 'nucleus'/);
  });
});
