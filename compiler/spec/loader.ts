import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { SpecError } from '../../common/errors.ts';
import { HOST_PATHS } from '../abi.ts';
import { checkWasmCompatible } from './compat.ts';
import { parseOrThrow } from '../../common/zod-issues.ts';
import { describeIssue } from './issues.ts';
import { REFLEX_KINDS, ReflexSpec } from './schema.ts';

export const SPEC_SUFFIX = '.reflex.ts';

export interface LoadedSpec {
  /** Path relative to the project root, as errors show it. */
  file: string;
  spec: ReflexSpec;
}

export async function findSpecFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    throw new SpecError('NOT_FOUND', `no such folder: create it and add a spec named <name>${SPEC_SUFFIX} (README: "ReflexSpec reference")`, { file: dir });
  }
  const specs = entries.filter((f) => f.endsWith(SPEC_SUFFIX)).sort().map((f) => join(dir, f));
  // An app of no reflexes would serve nothing; more likely the wrong folder or a misnamed file.
  if (specs.length === 0) throw new SpecError('NOT_FOUND', `the folder holds no reflex spec: add one named <name>${SPEC_SUFFIX} (README: "ReflexSpec reference")`, { file: dir });
  return specs;
}

/** Imports one spec file (TypeScript, through tsx) and validates its default export. */
export async function loadSpecFile(path: string, root: string): Promise<LoadedSpec> {
  const file = relative(root, path) || basename(path);
  let mod: Record<string, unknown>;
  try {
    // A fresh query each time, so `--watch` sees edits instead of the module cache.
    mod = (await tsImport(`${pathToFileURL(resolve(path)).href}?t=${Date.now()}`, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    throw new SpecError('SPEC_SYNTAX', `cannot load the spec: ${loadFailure(error)}${missingPackageHint(error)}`, { file });
  }
  const exported = exportedSpec(mod);
  if (exported === undefined || isEmptyObject(exported)) {
    throw new SpecError('SPEC_NO_EXPORT', 'the file exports no ReflexSpec (nothing, or an empty object): add `export default defineReflex({ ... })`', { file });
  }
  if (typeof exported === 'object' && exported !== null && 'kind' in exported) {
    const kind = (exported as { kind: unknown }).kind;
    if (typeof kind !== 'string' || !(REFLEX_KINDS as readonly string[]).includes(kind)) {
      throw new SpecError('INVALID_SPEC', `unknown kind ${JSON.stringify(kind)}; expected one of ${REFLEX_KINDS.join(', ')}`, { file, field: 'kind' });
    }
  }
  const spec = parseOrThrow(ReflexSpec, exported, 'INVALID_SPEC', { file }, describeIssue);
  checkWasmCompatible(spec, file);
  return { file, spec };
}

/**
 * The spec a file exports, as `default` or as `reflex`. In a project whose package.json does not
 * say `"type": "module"` (npm init's default), tsx loads the file as CommonJS: the namespace's
 * `default` is then the whole transpiled `module.exports`, with the spec one level down.
 */
function exportedSpec(mod: Record<string, unknown>): unknown {
  const outer = mod.default as { __esModule?: boolean; default?: unknown; reflex?: unknown } | undefined;
  if (outer?.__esModule === true) return outer.default ?? outer.reflex;
  return mod.default ?? mod.reflex;
}

/**
 * Loaded as CommonJS, a file that exports nothing still has a `default`: its empty
 * `module.exports`. An empty object is no spec either way.
 */
function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Specs import `defineReflex` from the package: a project that lacks it gets told how to add it. */
function missingPackageHint(error: unknown): string {
  const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || (error as { code?: string }).code === 'MODULE_NOT_FOUND';
  return missing && /['"]kgents-edge['"]/.test(String((error as Error).message)) ? '; the project needs the package: npm install --save-dev kgents-edge (or the path of a kgents-edge checkout)' : '';
}

/**
 * The compiler's own words: esbuild's "file:line:col: ERROR: text" (tsx puts a "Transform
 * failed" line before it) as "line L, column C: text"; otherwise the first line, without the
 * code frame.
 */
function loadFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const located = /:(\d+):(\d+): ERROR: (.*)/.exec(message);
  if (located) return `line ${located[1]}, column ${Number(located[2]) + 1}: ${located[3].trim()}`;
  return message.split('\n').find((l) => l.trim().length > 0)?.trim() ?? message;
}

/** The chain of `next` from a reflex, when it comes back to a reflex already in it. */
function chainLoop(start: string, byName: Map<string, LoadedSpec>): string[] | null {
  const chain = [start];
  for (let spec = byName.get(start)?.spec; spec?.kind === 'rate-limit' && spec.next; spec = byName.get(spec.next)?.spec) {
    const seen = chain.indexOf(spec.next);
    chain.push(spec.next);
    if (seen >= 0) return chain.slice(seen);
  }
  return null;
}

/** Loads every spec in the folder, then checks what only the whole set can show. */
export async function loadSpecs(dir: string, root: string): Promise<LoadedSpec[]> {
  const files = await findSpecFiles(dir);
  const loaded: LoadedSpec[] = [];
  for (const path of files) loaded.push(await loadSpecFile(path, root));
  checkSpecSet(loaded);
  return loaded;
}

export function checkSpecSet(loaded: LoadedSpec[]): void {
  const byName = new Map<string, LoadedSpec>();
  const byRoute = new Map<string, LoadedSpec>();
  for (const item of loaded) {
    const { spec, file } = item;
    const twin = byName.get(spec.name);
    if (twin) throw new SpecError('DUPLICATE_NAME', `two reflexes are named "${spec.name}" (also in ${twin.file})`, { file, field: 'name' });
    byName.set(spec.name, item);
    if (spec.route) {
      const reserved = Object.values(HOST_PATHS).find((path) => spec.route === path || spec.route === `${path}/...`);
      if (reserved) throw new SpecError('INVALID_SPEC', `route "${spec.route}": the embedded host answers ${reserved} itself (health, readiness, metrics), so this reflex would never run there; choose another route`, { file, field: 'route' });
      // `/users/:id` and `/users/:name` match the same requests: a parameter's name is no difference.
      const shape = spec.route.replace(/\/:[^/]+/g, '/:');
      const other = byRoute.get(shape);
      if (other) {
        const same = other.spec.route === spec.route ? `route "${spec.route}"` : `routes "${other.spec.route}" and "${spec.route}", which match the same requests`;
        throw new SpecError('DUPLICATE_ROUTE', `two reflexes serve ${same} (also "${other.spec.name}" in ${other.file}); chain them with \`next\` instead`, { file, field: 'route' });
      }
      byRoute.set(shape, item);
    }
  }
  for (const { spec, file } of loaded) {
    if (spec.kind === 'rate-limit') {
      if (spec.next && !byName.has(spec.next)) throw new SpecError('UNKNOWN_REFERENCE', `next: no reflex named "${spec.next}"`, { file, field: 'next' });
      const loop = chainLoop(spec.name, byName);
      if (loop) throw new SpecError('UNKNOWN_REFERENCE', `next: ${loop.join(' -> ')} is a loop, which no request would leave`, { file, field: 'next' });
      if (!spec.next && !spec.upstream) throw new SpecError('INVALID_SPEC', 'allowed requests need somewhere to go: set `upstream` or `next`', { file, field: 'upstream' });
    }
    if (spec.kind === 'router') {
      const actions = [...spec.rules.map((r, i) => [`rules.${i}.action.route`, r.action] as const), ['fallback.route', spec.fallback] as const];
      for (const [field, action] of actions) {
        if ('route' in action && !(action.route in spec.upstreams)) {
          throw new SpecError('UNKNOWN_REFERENCE', `no upstream named "${action.route}"; declared: ${Object.keys(spec.upstreams).join(', ') || 'none'}`, { file, field });
        }
      }
    }
    if (spec.kind === 'pheromone-sensor') {
      [...spec.onRise.map((a, i) => [`onRise.${i}`, a] as const), ...spec.onFall.map((a, i) => [`onFall.${i}`, a] as const)].forEach(([field, action]) => {
        if ('webhook' in action && !(action.webhook.upstream in spec.upstreams)) {
          throw new SpecError('UNKNOWN_REFERENCE', `webhook: no upstream named "${action.webhook.upstream}"`, { file, field: `${field}.webhook.upstream` });
        }
      });
    }
    if (spec.kind === 'health') {
      spec.checks.forEach((check, i) => {
        if ('upstream' in check && !(check.upstream in spec.upstreams)) {
          throw new SpecError('UNKNOWN_REFERENCE', `no upstream named "${check.upstream}"`, { file, field: `checks.${i}.upstream` });
        }
      });
    }
  }
}
