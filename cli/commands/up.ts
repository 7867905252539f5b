import { watch } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatError, KgentsError } from '../../common/errors.ts';
import type { KvStore } from '../../common/kv/index.ts';
import type { EventHub } from '../../nucleus/observe/hub.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { untilStopped } from '../signals.ts';
import { checkRedisUrl, portNumber, positiveNumber, redisOption } from '../options.ts';
import { openServerStore } from '../store.ts';
import { runBuild } from './build.ts';
import { formatTable } from '../table.ts';
import type { LoadedApp } from '../../cytoplasm/app.ts';

interface UpOptions {
  root: string;
  out: string;
  port: number;
  host: string;
  redis?: string;
  watch?: boolean;
  build: boolean;
  nucleus: boolean;
  morpheus: boolean;
  nucleusPort: number;
  morpheusPort: number;
  /** Seconds. */
  upstreamTimeout: number;
}

interface Service {
  name: string;
  url: string;
  close(): Promise<void>;
  /** The nucleus's observe hub, to mirror reflex flags into. */
  hub?: EventHub;
}

/**
 * Starts the companions that have their own entry points. Each is optional at this layer so
 * the reflex host still comes up (and forwards to whatever `upstream` says) without them.
 */
async function startCompanions(opts: UpOptions, kv: KvStore, log: Logger): Promise<Service[]> {
  const services: Service[] = [];
  let morpheusUrl = process.env.MORPHEUS_URL;
  if (opts.morpheus) {
    const { startMorpheus } = await import('../../nucleus/morpheus/index.ts');
    const m = await startMorpheus({ port: opts.morpheusPort, host: opts.host });
    services.push({ name: 'morpheus', url: m.url, close: m.close });
    morpheusUrl = m.url;
  }
  if (opts.nucleus) {
    const { startNucleus } = await import('../../nucleus/index.ts');
    const n = await startNucleus({ port: opts.nucleusPort, host: opts.host, kv, morpheusUrl, agentsDir: resolve(opts.root, 'agents'), env: await nucleusEnv(opts), sweepRateLimitState: false });
    services.push({ name: 'nucleus', url: n.url, close: n.close, hub: n.hub });
  }
  for (const s of services) log.info({ url: s.url }, `${s.name} listening`);
  return services;
}

/**
 * A Morpheus started here with inbound keys (MORPHEUS_API_KEYS) lets in the nucleus started
 * beside it with the first of them, unless MORPHEUS_API_KEY names the nucleus's own.
 */
async function nucleusEnv(opts: UpOptions): Promise<Record<string, string | undefined>> {
  const { apiKeyList } = await import('../../nucleus/morpheus/auth.ts');
  const [firstKey] = apiKeyList(process.env.MORPHEUS_API_KEYS);
  if (!opts.morpheus || !firstKey || process.env.MORPHEUS_API_KEY) return process.env;
  return { ...process.env, MORPHEUS_API_KEY: firstKey };
}

/**
 * As `kgents scaffold` points the `nucleus_url` variable at the cluster's nucleus, `up` points
 * it (and `morpheus_url`) at the ones it started, on whatever port; SPIN_VARIABLE_* set in the
 * environment still win.
 */
function companionVariables(services: Service[]): Record<string, string> {
  const url = (name: string) => services.find((s) => s.name === name)?.url;
  const variables: Record<string, string | undefined> = { SPIN_VARIABLE_NUCLEUS_URL: url('nucleus'), SPIN_VARIABLE_MORPHEUS_URL: url('morpheus') };
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Which reflex serves which route (and what it passes allowed requests to), so the user sees where to send requests. */
function routeTable(app: LoadedApp): string {
  const rows = [...app.reflexes.values()]
    .filter((r) => r.reflex.route)
    .map((r) => [r.reflex.route!, typeof r.reflex.spec.next === 'string' ? `${r.reflex.name} -> ${r.reflex.spec.next}` : r.reflex.name, r.reflex.kind])
    .sort((a, b) => a[0].localeCompare(b[0]));
  return formatTable(['route', 'reflex', 'kind'], rows);
}

/** Two of the servers `up` starts on one fixed port: the second would fail with "in use", by its own sibling. */
function checkPortsApart(opts: UpOptions): void {
  const ports = [
    { flag: '--port', port: opts.port, on: true },
    { flag: '--nucleus-port', port: opts.nucleusPort, on: opts.nucleus },
    { flag: '--morpheus-port', port: opts.morpheusPort, on: opts.morpheus },
  ].filter((p) => p.on && p.port !== 0);
  for (const [i, a] of ports.entries()) {
    const b = ports.slice(i + 1).find((other) => other.port === a.port);
    if (b) throw new KgentsError('INVALID_REQUEST', `${a.port} is also ${b.flag}'s: give one of them another port`, { field: a.flag });
  }
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('build the reflexes, then serve them with the nucleus and Morpheus on this machine')
    .option('-C, --root <dir>', 'project root (holds reflexes/)', '.')
    .option('-o, --out <dir>', 'build output folder', 'dist')
    .option('-p, --port <port>', 'reflex host port', portNumber, 3000)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addOption(redisOption('share KV and pheromones through Redis (default: in memory)'))
    .option('-w, --watch', 'rebuild and hot-swap a reflex when its spec changes')
    .option('--no-build', 'serve the components already in the output folder')
    .option('--no-nucleus', 'do not start the nucleus')
    .option('--no-morpheus', 'do not start Morpheus')
    .option('--nucleus-port <port>', 'nucleus port', portNumber, 8081)
    .option('--morpheus-port <port>', 'Morpheus port', portNumber, 8080)
    .option('--upstream-timeout <seconds>', "how long a forwarded request waits for the upstream's headers (a streamed body is not cut)", positiveNumber, 120)
    .action(async (opts: UpOptions) => {
      checkRedisUrl(opts.redis);
      checkPortsApart(opts);
      const log = createLogger('kgents');
      const root = resolve(opts.root);
      const distDir = resolve(root, opts.out);
      if (opts.build) await runBuild({ root, out: opts.out });
      // Without a build, a missing app is known now: say so before the companions start.
      else await (await import('../../cytoplasm/app.ts')).readDist(distDir);
      // Loaded here, not at the top: every other command starts faster without them.
      const [kv, { startHost }] = await Promise.all([openServerStore(opts.redis, log), import('../../cytoplasm/host.ts')]);
      const services = await startCompanions(opts, kv, log);
      const host = await startHost({ distDir, port: opts.port, host: opts.host, kv, logger: log, upstreamTimeoutMs: opts.upstreamTimeout * 1000, env: { ...companionVariables(services), ...process.env } });
      const nucleusHub = services.find((s) => s.hub)?.hub;
      if (nucleusHub) {
        const { mirrorReflexFlags } = await import('../../nucleus/observe/reflex-flags.ts');
        mirrorReflexFlags(host, nucleusHub);
      }
      process.stdout.write(`reflex host on ${host.url} (${host.loaded.reflexes.size} reflexes, store: ${kv.kind})\n${routeTable(host.loaded)}\n`);
      for (const s of services) process.stdout.write(`${s.name} on ${s.url}\n`);

      const watchers: { close(): void }[] = [];
      if (opts.watch) {
        let timer: NodeJS.Timeout | null = null;
        let building = Promise.resolve();
        const rebuildSoon = () => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            building = building.then(async () => {
              try {
                const routesBefore = routeTable(host.loaded);
                await runBuild({ root, out: opts.out, quiet: true });
                const { changed, removed } = await host.reload();
                if (changed.length) process.stdout.write(`reloaded ${changed.join(', ')}\n`);
                if (removed.length) process.stdout.write(`removed ${removed.join(', ')}\n`);
                const routes = routeTable(host.loaded);
                if (routes !== routesBefore) process.stdout.write(`routes now:\n${routes}\n`);
              } catch (error) {
                process.stderr.write(`build failed; still serving the previous components:\nerror: ${formatError(error)}\n`);
              }
            });
          }, 100);
        };
        // A watch on reflexes/ ends with the folder: one on the project sees it come back, and watches it anew.
        const specsDir = resolve(root, 'reflexes');
        let specs: ReturnType<typeof watch> | null = null;
        const watchSpecs = () => {
          specs?.close();
          try {
            specs = watch(specsDir, rebuildSoon);
          } catch {
            specs = null; // gone for now; the project's watch re-arms it
          }
        };
        watchSpecs();
        watchers.push(
          watch(root, (_event, name) => {
            if (name !== 'reflexes') return;
            watchSpecs();
            rebuildSoon();
          }),
          { close: () => specs?.close() },
        );
        process.stdout.write('watching reflexes/ for changes\n');
      }

      await untilStopped(async (signal) => {
        process.stdout.write(`${signal}: draining and shutting down\n`);
        for (const w of watchers) w.close();
        await host.close();
        await Promise.all(services.map((s) => s.close()));
        await kv.close();
      });
    });
}
