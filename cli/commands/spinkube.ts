import type { Command } from 'commander';
import { KgentsError } from '../../common/errors.ts';
import { writeFileWhole } from '../../common/output-file.ts';
import type { ConnectOptions } from '../../spinkube/kube/connect.ts';
import type { Credentials } from '../../spinkube/oci/credentials.ts';
import type { ScaffoldOptions } from '../../spinkube/scaffold.ts';
import { wholeNumber } from '../options.ts';
import { formatTable } from '../table.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

// Loaded when a command runs, so `--help` and the light commands start fast.
const lazy = {
  build: () => import('../../compiler/build.ts'),
  push: () => import('../../spinkube/oci/push.ts'),
  scaffold: () => import('../../spinkube/scaffold.ts'),
  manifests: () => import('../../spinkube/manifests.ts'),
  connect: () => import('../../spinkube/kube/connect.ts'),
  apply: () => import('../../spinkube/kube/apply.ts'),
  wait: () => import('../../spinkube/kube/wait.ts'),
  readiness: () => import('../../spinkube/kube/readiness.ts'),
  inventory: () => import('../../spinkube/kube/inventory.ts'),
};
const collect = (value: string, previous: string[]) => [...previous, value];

/** `name=value` pairs from repeated flags. */
function pairs(list: string[], flag: string): Record<string, string> {
  return Object.fromEntries(
    list.map((item) => {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new KgentsError('INVALID_REQUEST', `expected name=value, got "${item}"`, { field: flag });
      return [item.slice(0, eq), item.slice(eq + 1)];
    }),
  );
}

function secretRef(text: string, flag: string): { secret: string; key: string } {
  const [secret, key] = text.split(':');
  if (!secret || !key) throw new KgentsError('INVALID_REQUEST', `expected <secret>:<key>, got "${text}"`, { field: flag });
  return { secret, key };
}

interface RegistryFlags {
  insecure?: boolean;
  username?: string;
  passwordStdin?: boolean;
}

async function credentials(flags: RegistryFlags): Promise<Credentials | undefined> {
  const username = flags.username ?? process.env.KGENTS_REGISTRY_USERNAME;
  if (!username) {
    if (flags.passwordStdin) throw new KgentsError('INVALID_REQUEST', 'a password needs a user: add --username (or set KGENTS_REGISTRY_USERNAME)', { field: '--password-stdin' });
    return undefined;
  }
  let password = process.env.KGENTS_REGISTRY_PASSWORD ?? '';
  if (flags.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks).toString('utf8').trim();
  }
  return { username, password };
}

const registryOptions = (command: Command) =>
  command
    .option('--insecure', 'plain HTTP (a local registry such as localhost:5001)')
    .option('--username <name>', 'registry user (env KGENTS_REGISTRY_USERNAME; default: ~/.docker/config.json)')
    .option('--password-stdin', 'read the registry password from stdin (env KGENTS_REGISTRY_PASSWORD)');

const clusterOptions = (command: Command) =>
  command
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('-n, --namespace <name>', "namespace (default: the context's, else default)");

const scaffoldOptions = (command: Command) =>
  command
    .requiredOption('--image <ref>', 'the pushed app, e.g. localhost:5001/kgents/reflexes:v1')
    .option('--dist <dir>', 'built app folder', 'dist')
    .option('--name <name>', "SpinApp name (default: the app's name)")
    .option('--replicas <n>', 'replicas', wholeNumber, 2)
    .option('--executor <name>', 'SpinAppExecutor to run on', 'containerd-shim-spin')
    .option('--variable <name=value>', 'set a Spin variable (repeatable)', collect, [])
    .option('--secret-variable <name=secret:key>', 'a Spin variable from a Secret key (repeatable)', collect, [])
    .option('--redis-url <url>', 'Redis for the default key-value store', 'redis://redis:6379')
    .option('--redis-secret <secret:key>', 'take the Redis URL from a Secret key instead')
    .option('--cpu-limit <cpu>', 'CPU limit', '100m')
    .option('--memory-limit <memory>', 'memory limit', '128Mi')
    .option('--with-executor', 'include the containerd-shim-spin SpinAppExecutor')
    .option('--autoscale <min:max>', 'scale between min and max replicas on CPU (an HPA)')
    .option('--cpu-target <percent>', 'HPA CPU utilization target', wholeNumber, 60);

interface ScaffoldFlags {
  image: string;
  dist: string;
  name?: string;
  namespace?: string;
  replicas: number;
  executor: string;
  variable: string[];
  secretVariable: string[];
  redisUrl: string;
  redisSecret?: string;
  cpuLimit: string;
  memoryLimit: string;
  withExecutor?: boolean;
  autoscale?: string;
  cpuTarget: number;
}

/** `<min>:<max>`, two whole numbers with 1 <= min <= max. */
function autoscaleRange(text: string): { min: number; max: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(min >= 1 && min <= max)) throw new KgentsError('INVALID_REQUEST', `expected <min>:<max>, whole numbers with 1 <= min <= max, got "${text}"`, { field: '--autoscale' });
  return { min, max };
}

/** The flag behind a ScaffoldOptions field, where it is not the field's name in kebab case. */
const FLAG_OF: Record<string, string> = { variables: '--variable', secretVariables: '--secret-variable' };

/**
 * The flags as scaffold options, checked here so that a bad value names its flag (`--redis-url`,
 * not `redisUrl`) and fails before deploy builds, pushes or connects.
 */
async function toScaffoldOptions(f: ScaffoldFlags): Promise<ScaffoldOptions> {
  const options: ScaffoldOptions = {
    image: f.image,
    name: f.name,
    namespace: f.namespace,
    replicas: f.replicas,
    executor: f.executor,
    variables: pairs(f.variable, '--variable'),
    secretVariables: Object.fromEntries(Object.entries(pairs(f.secretVariable, '--secret-variable')).map(([k, v]) => [k, secretRef(v, '--secret-variable')])),
    redisUrl: f.redisUrl,
    redisSecret: f.redisSecret ? secretRef(f.redisSecret, '--redis-secret') : undefined,
    cpuLimit: f.cpuLimit,
    memoryLimit: f.memoryLimit,
    withExecutor: f.withExecutor,
    autoscale: f.autoscale ? autoscaleRange(f.autoscale) : undefined,
    cpuTarget: f.cpuTarget,
  };
  const { ScaffoldOptions: schema } = await lazy.scaffold();
  const checked = schema.safeParse(options);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = String(issue.path[0]);
    throw new KgentsError('INVALID_REQUEST', issue.message, { field: FLAG_OF[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
  }
  return options;
}

const connectOptions = (f: { context?: string; kubeconfig?: string; namespace?: string }): ConnectOptions => ({ context: f.context, kubeconfig: f.kubeconfig, namespace: f.namespace });

export function registerSpinKube(program: Command): void {
  registryOptions(
    program
      .command('push <ref>')
      .description("package the built app in Spin's OCI format and push it (ref: host[:port]/repo[:tag])")
      .option('--dist <dir>', 'built app folder', 'dist'),
  ).action(async (ref: string, f: RegistryFlags & { dist: string }) => {
    const { pushApp } = await lazy.push();
    const result = await pushApp({ distDir: f.dist, ref, insecure: f.insecure, credentials: await credentials(f), onProgress: say });
    process.stdout.write(`pushed ${result.ref}@${result.manifestDigest}\n`);
  });

  scaffoldOptions(program.command('scaffold').description('print SpinApp YAML for the built app (like `spin kube scaffold`)'))
    .option('--namespace <name>', 'namespace to put in the objects')
    .option('-o, --output <file>', 'write the YAML to a file instead of stdout')
    .action(async (f: ScaffoldFlags & { output?: string }) => {
      const { scaffold, toYaml } = await lazy.scaffold();
      const { objects, notes } = await scaffold(f.dist, await toScaffoldOptions(f));
      notes.forEach((n) => say(`note: ${n}`));
      const text = toYaml(objects);
      if (!f.output) return void process.stdout.write(text);
      await writeFileWhole(f.output, text, '--output');
      say(`wrote ${f.output}`);
    });

  clusterOptions(registryOptions(scaffoldOptions(program.command('deploy').description('build, push, and apply the app (SpinApp) and the platform (nucleus, Morpheus, Redis), then wait until ready'))))
    .option('--manifests <dir>', 'platform manifests (a kustomization that lists resources)', 'k8s')
    .option('--no-build', 'use dist/ as it is')
    .option('--no-push', 'the image is already pushed')
    .option('--no-platform', 'apply only the SpinApp')
    .option('--timeout <seconds>', 'how long to wait for readiness', wholeNumber, 300)
    .option('--no-wait', 'return once applied')
    .action(async (f: ScaffoldFlags & RegistryFlags & { context?: string; kubeconfig?: string; manifests: string; build: boolean; push: boolean; platform: boolean; timeout: number; wait: boolean }) => {
      const [{ connect, reachCluster }, { buildApp }, { pushApp }, { scaffold }, { loadKustomization }, { applyAll }, { waitUntilReady }, { isWorkload }, { pruneAutoscaler }] = await Promise.all([lazy.connect(), lazy.build(), lazy.push(), lazy.scaffold(), lazy.manifests(), lazy.apply(), lazy.wait(), lazy.readiness(), lazy.inventory()]);
      const options = await toScaffoldOptions(f);
      const conn = connect(connectOptions(f));
      say(`context ${conn.context} (${conn.server}), namespace ${conn.namespace}`);
      // Before minutes of building and pushing: the cluster answers, and knows SpinApps.
      await reachCluster(conn);
      if (f.build) {
        say('building reflexes ...');
        await buildApp({ root: '.', outDir: f.dist });
      }
      if (f.push) {
        say(`pushing ${f.image} ...`);
        await pushApp({ distDir: f.dist, ref: f.image, insecure: f.insecure, credentials: await credentials(f), onProgress: say });
      }
      const { objects, notes } = await scaffold(f.dist, options);
      notes.forEach((n) => say(`note: ${n}`));
      if (f.platform) objects.push(...loadKustomization(f.manifests));
      const applied = await applyAll(conn, objects, say);
      await pruneAutoscaler(conn, objects, say);
      if (f.wait) {
        say(`waiting up to ${f.timeout} s for readiness ...`);
        await waitUntilReady(conn, applied.filter(isWorkload), f.timeout * 1000, say);
      }
      process.stdout.write(`deployed ${objects.length} object(s) to ${conn.context}${f.wait ? ', all ready' : ''}\n`);
    });

  clusterOptions(program.command('status').description('list the SpinApps and kgents Deployments: ready replicas, whether the pods run what was last applied, images')).action(async (f) => {
    const [{ connect }, { listApps }] = await Promise.all([lazy.connect(), lazy.inventory()]);
    const apps = await listApps(connect(connectOptions(f)));
    process.stdout.write(`${formatTable(['kind', 'name', 'ready', 'rolled out', 'images'], apps.map((a) => [a.kind, a.name, `${a.ready}/${a.desired}`, a.rolledOut, a.images.join(',')]))}\n`);
  });

  clusterOptions(program.command('delete').description('remove the SpinApp and its autoscaler (and, with --platform, the nucleus, Morpheus and Redis)'))
    .option('--name <name>', "SpinApp name (default: the app's name, as deploy gives it)")
    .option('--dist <dir>', 'built app folder, to read the app\'s name from', 'dist')
    .option('--platform', 'also delete the objects in --manifests')
    .option('--manifests <dir>', 'platform manifests', 'k8s')
    .action(async (f: { name?: string; dist: string; platform?: boolean; manifests: string; context?: string; kubeconfig?: string; namespace?: string }) => {
      const [{ connect }, { deleteAll, autoscalerOf }, { loadKustomization }, { appName }] = await Promise.all([lazy.connect(), lazy.inventory(), lazy.manifests(), lazy.scaffold()]);
      const name =
        f.name ??
        (await appName(f.dist).catch(() => {
          throw new KgentsError('INVALID_REQUEST', `no built app in ${f.dist} to take the SpinApp's name from: pass --name, or --dist`, { field: '--name' });
        }));
      const conn = connect(connectOptions(f));
      const objects = [{ apiVersion: 'core.spinkube.dev/v1alpha1', kind: 'SpinApp', metadata: { name } }, autoscalerOf(name), ...(f.platform ? loadKustomization(f.manifests) : [])];
      await deleteAll(conn, objects, say);
    });
}
