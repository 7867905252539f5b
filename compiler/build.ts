import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { KgentsError } from '../common/errors.ts';
import { sha256 } from '../common/digest.ts';
import { outputFailure } from '../common/output-file.ts';
import { REFLEX_BODY_BYTES } from './abi.ts';
import { AppManifest, type BuiltReflex } from './app-manifest.ts';
import { EXPORT_RENAMES, generateAssemblyScript, METERED_EXPORTS, readsOf } from './codegen/index.ts';
import { loadSpecs, type LoadedSpec } from './spec/loader.ts';
import type { ReflexSpec } from './spec/schema.ts';
import { spinManifest } from './spin-manifest.ts';
import { compileAssemblyScript, SUPPORT_LIBRARY_DIR } from './toolchain/asc.ts';
import { componentize } from './toolchain/component.ts';

export const COMPILER_VERSION = '0.1.0';

export interface BuildOptions {
  /** Project root: holds `reflexes/` and receives `dist/`. */
  root: string;
  reflexesDir?: string;
  outDir?: string;
  /** Rebuild every reflex even when its inputs did not change. */
  force?: boolean;
  app?: { name?: string; version?: string };
  onProgress?: (event: BuildEvent) => void;
}

export type BuildEvent =
  | { type: 'loaded'; count: number }
  | { type: 'start'; name: string; index: number; total: number }
  | { type: 'done'; reflex: BuiltReflex; cached: boolean; index: number; total: number };

export interface BuildResult {
  outDir: string;
  manifest: AppManifest;
  built: string[];
  cached: string[];
}

let compilerHash: Promise<string> | null = null;

/**
 * The support library is part of every component, and the toolchain steps shape its bytes, so
 * both are part of every cache key: a changed compiler rebuilds what it built before.
 */
function compilerFilesHash(): Promise<string> {
  compilerHash ??= (async () => {
    const hash = createHash('sha256');
    const compilerDir = resolve(SUPPORT_LIBRARY_DIR, '..');
    const listed = async (dir: string) => (await readdir(join(compilerDir, dir))).filter((f) => /\.(ts|js|wit)$/.test(f)).sort().map((f) => join(dir, f));
    const files = [
      ...(await listed('assembly')),
      ...(await listed('toolchain')),
      ...(await listed('wit')),
      ...(await listed('wit/deps')),
      '../common/reflex-imports.ts',
      '../common/wasm-sections.ts',
    ];
    for (const f of files) hash.update(f).update(await readFile(join(compilerDir, f)));
    return hash.digest('hex');
  })();
  return compilerHash;
}

async function readPreviousManifest(outDir: string): Promise<AppManifest | null> {
  try {
    return AppManifest.parse(JSON.parse(await readFile(join(outDir, 'app.json'), 'utf8')));
  } catch {
    return null;
  }
}

async function appIdentity(root: string, options: BuildOptions) {
  let pkg: { name?: string; version?: string } = {};
  try {
    pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  } catch {}
  // A DNS label, as Spin and Kubernetes name apps: lower case, dashes inside only.
  const name = (options.app?.name ?? pkg.name ?? basename(resolve(root)))
    .replace(/^@[^/]+\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '') || 'reflexes';
  return { name, version: options.app?.version ?? pkg.version ?? '0.1.0' };
}

/**
 * spec -> AssemblyScript -> core module -> component, for every reflex, then spin.toml and
 * app.json. Everything is written to a temporary folder and moved into place at the end, so a
 * failed build leaves the previous dist/ exactly as it was.
 */
export async function buildApp(options: BuildOptions): Promise<BuildResult> {
  const root = resolve(options.root);
  const outDir = resolve(root, options.outDir ?? 'dist');
  const reflexesDir = resolve(root, options.reflexesDir ?? 'reflexes');
  await assertReplaceable(outDir, root, reflexesDir);
  await sweepAbandoned(outDir);
  const specs = await loadSpecs(reflexesDir, root);
  options.onProgress?.({ type: 'loaded', count: specs.length });
  const previous = options.force ? null : await readPreviousManifest(outDir);
  const support = await compilerFilesHash();
  const identity = await appIdentity(root, options);

  const staging = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await mkdir(join(staging, 'reflexes'), { recursive: true });
    const built: BuiltReflex[] = [];
    const names = { built: [] as string[], cached: [] as string[] };
    for (const [index, loaded] of specs.entries()) {
      options.onProgress?.({ type: 'start', name: loaded.spec.name, index, total: specs.length });
      const { reflex, bytes, cached } = await buildOne(loaded, support, outDir, previous);
      await writeFile(join(staging, reflex.component), bytes);
      built.push(reflex);
      (cached ? names.cached : names.built).push(reflex.name);
      options.onProgress?.({ type: 'done', reflex, cached, index, total: specs.length });
    }
    const manifest: AppManifest = { ...identity, compilerVersion: COMPILER_VERSION, reflexes: built };
    await writeFile(join(staging, 'spin.toml'), spinManifest(identity, specs.map((s) => s.spec)));
    await writeFile(join(staging, 'app.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await swapInto(staging, outDir);
    return { outDir, manifest, ...names };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw writingOutput(error, outDir) ? outputFailure(error, outDir, 'out') : error;
  }
}

/** A failure of the build's own writes (the folders up to the output, staging, components, swap), not of compiling. */
function writingOutput(error: unknown, outDir: string): boolean {
  const path = (error as NodeJS.ErrnoException).path;
  return typeof path === 'string' && (path.startsWith(outDir) || outDir.startsWith(path + sep));
}

async function buildOne(loaded: LoadedSpec, support: string, outDir: string, previous: AppManifest | null) {
  const { spec, file } = loaded;
  const source = generateAssemblyScript(spec, file, COMPILER_VERSION);
  const memoryPages = memoryPagesOf(spec);
  const cacheKey = createHash('sha256').update(COMPILER_VERSION).update(support).update(source).update(JSON.stringify({ ...spec.limits, memoryPages })).digest('hex');
  const component = `reflexes/${spec.name}.wasm`;
  const before = previous?.reflexes.find((r) => r.name === spec.name && r.cacheKey === cacheKey);
  if (before) {
    const bytes = await readFile(join(outDir, component)).catch(() => null);
    if (bytes && sha256(bytes) === before.sha256) {
      return { reflex: { ...before, file, spec: spec as Record<string, unknown> }, bytes, cached: true };
    }
  }
  const started = performance.now();
  const core = await compileAssemblyScript(source, { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: spec.limits.fuel, maxMemoryPages: memoryPages });
  const bytes = await componentize(core);
  const reflex: BuiltReflex = {
    name: spec.name,
    kind: spec.kind,
    file,
    route: spec.route ?? null,
    component,
    sha256: sha256(bytes),
    size: bytes.length,
    buildMs: Math.round(performance.now() - started),
    cacheKey,
    reads: readsOf(spec),
    spec: spec as Record<string, unknown>,
  };
  return { reflex, bytes, cached: false };
}

const PAGE = 64 * 1024;

/**
 * Memory cap when the spec sets none. One page (64 KiB) holds a limit, a router or a health
 * check, and lets V8 map each instance with no reservation beyond it (dense hosts). Reading a
 * request body or a pheromone field needs room for it: a field of tens of thousands of deposits;
 * a body's bytes plus their text, two bytes a character (3 MiB for a 1 MiB body), plus a page
 * for static data and a page for everything else.
 */
export function memoryPagesOf(spec: ReflexSpec): number {
  if (spec.limits.memoryPages) return spec.limits.memoryPages;
  if (spec.kind === 'pheromone-sensor') return 64;
  if (readsOf(spec).body) return Math.ceil((3 * REFLEX_BODY_BYTES) / PAGE) + 2;
  // A rate limit's key comes from the client (a header, X-Forwarded-For): as request bytes, as
  // text (two bytes a character), in the key and encoded for the store, a 10 KB value filled one
  // page and trapped. Two hold the 16 KB of headers Node lets in.
  if (spec.kind === 'rate-limit') return 2;
  return 1;
}

/** What a build writes into its output folder; a folder holding anything else is not one to replace. */
const OUTPUT_ENTRIES = new Set(['app.json', 'spin.toml', 'reflexes']);

/**
 * The build replaces its output folder whole: refuse one that is the project, holds the specs,
 * or holds files a build did not write (`-o .` would otherwise take the project with it).
 */
async function assertReplaceable(outDir: string, root: string, reflexesDir: string): Promise<void> {
  const within = (child: string, parent: string) => child === parent || child.startsWith(parent + sep);
  const refuse = (why: string) => new KgentsError('INVALID_REQUEST', `the output folder ${outDir} ${why}; the build replaces it whole: choose a new or empty folder, such as dist`, { field: 'out' });
  if (within(root, outDir)) throw refuse('is the project folder or holds it');
  if (within(reflexesDir, outDir) || within(outDir, reflexesDir)) throw refuse('holds the reflex specs or sits among them');
  const kind = await stat(outDir).then(
    (found) => (found.isDirectory() ? 'folder' : 'file'),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'none' : Promise.reject(outputFailure(error, outDir, 'out'))),
  );
  if (kind === 'file') throw refuse('is a file, not a folder');
  const entries = kind === 'folder' ? await readdir(outDir, { withFileTypes: true }).catch((error) => Promise.reject(outputFailure(error, outDir, 'out'))) : [];
  const foreign = entries.find((e) => !OUTPUT_ENTRIES.has(e.name));
  if (foreign) throw refuse(`holds ${foreign.name}, which no build wrote`);
  const components = entries.some((e) => e.name === 'reflexes') ? await readdir(join(outDir, 'reflexes')).catch(() => []) : [];
  const stray = components.find((f) => !f.endsWith('.wasm'));
  if (stray) throw refuse(`holds reflexes/${stray}, which no build wrote`);
}

/**
 * Removes the staging and set-aside folders of builds whose process is gone (stopped by Ctrl-C
 * mid-build, or killed): `<out>.tmp-<pid>-<time>` and `<out>.old-<pid>-<time>`.
 */
async function sweepAbandoned(outDir: string): Promise<void> {
  const prefix = `${basename(outDir)}.`;
  const siblings = await readdir(dirname(outDir)).catch(() => []);
  for (const name of siblings) {
    const pid = name.startsWith(prefix) ? /^(?:tmp|old)-(\d+)-\d+$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid && !isRunning(Number(pid))) await rm(join(dirname(outDir), name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Replaces outDir with staging; the old folder is removed only after the new one is in place. */
async function swapInto(staging: string, outDir: string): Promise<void> {
  await mkdir(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  let hadOld = true;
  try {
    await rename(outDir, old);
  } catch {
    hadOld = false;
  }
  try {
    await rename(staging, outDir);
  } catch (error) {
    if (hadOld) await rename(old, outDir);
    throw error;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}
