import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { AppManifest, type BuiltReflex } from '../compiler/app-manifest.ts';
import { KgentsError } from '../common/errors.ts';
import { OutboundPolicy } from './outbound.ts';
import { RouteTable } from './routes.ts';
import { ReflexRuntime, type RuntimeEnv } from './runtime.ts';
import { compileReflex } from './wasm/extract.ts';
import { resolveVariables } from './variables.ts';

/** The part of spin.toml the host reads: routes, variables, outbound hosts, stores. */
export const SpinToml = z.object({
  spin_manifest_version: z.literal(2),
  application: z.object({ name: z.string(), version: z.string().optional() }),
  variables: z.record(z.string(), z.object({ default: z.string().optional() })).default({}),
  trigger: z.object({ http: z.array(z.object({ route: z.union([z.string(), z.object({ private: z.literal(true) })]), component: z.string() })).default([]) }),
  component: z.record(
    z.string(),
    z.object({ source: z.string(), allowed_outbound_hosts: z.array(z.string()).default([]), key_value_stores: z.array(z.string()).default([]), variables: z.record(z.string(), z.string()).default({}) }),
  ),
});
export type SpinToml = z.infer<typeof SpinToml>;

export interface LoadedReflex {
  reflex: BuiltReflex;
  runtime: ReflexRuntime;
  outbound: OutboundPolicy;
}

export interface LoadedApp {
  manifest: AppManifest;
  spin: SpinToml;
  variables: Map<string, string>;
  reflexes: Map<string, LoadedReflex>;
  routes: RouteTable<string>;
  /** Whether any reflex reads request bodies (otherwise bodies are streamed, never buffered). */
  readsBody: boolean;
}

export async function readDist(distDir: string): Promise<{ manifest: AppManifest; spin: SpinToml }> {
  let manifestText: string;
  let spinText: string;
  try {
    [manifestText, spinText] = await Promise.all([readFile(join(distDir, 'app.json'), 'utf8'), readFile(join(distDir, 'spin.toml'), 'utf8')]);
  } catch {
    throw new KgentsError('NOT_FOUND', 'no built app here (app.json, spin.toml): run `kgents build` first', { file: distDir });
  }
  return { manifest: AppManifest.parse(JSON.parse(manifestText)), spin: SpinToml.parse(parseToml(spinText)) };
}

export async function loadReflex(distDir: string, reflex: BuiltReflex, spin: SpinToml, variables: Map<string, string>, env: Omit<RuntimeEnv, 'variables'>): Promise<LoadedReflex> {
  const bytes = await readFile(join(distDir, reflex.component));
  const compiled = await compileReflex(bytes);
  const component = spin.component[reflex.name];
  return {
    reflex,
    runtime: new ReflexRuntime(reflex, compiled, { ...env, variables }),
    outbound: new OutboundPolicy(reflex.name, component?.allowed_outbound_hosts ?? [], variables),
  };
}

/**
 * Loads every component of a built app and compiles its routes. Given the app loaded before,
 * a reflex whose component is unchanged keeps its runtime (and the requests running on it);
 * `changed` names the ones loaded anew.
 */
export async function loadApp(distDir: string, env: Omit<RuntimeEnv, 'variables'>, processEnv: Record<string, string | undefined> = process.env, previous?: LoadedApp): Promise<{ app: LoadedApp; changed: string[] }> {
  const { manifest, spin } = await readDist(distDir);
  const variables = resolveVariables(spin.variables, processEnv);
  const reflexes = new Map<string, LoadedReflex>();
  const changed: string[] = [];
  for (const reflex of manifest.reflexes) {
    const old = previous?.reflexes.get(reflex.name);
    if (old && old.reflex.sha256 === reflex.sha256) {
      reflexes.set(reflex.name, old);
      continue;
    }
    reflexes.set(reflex.name, await loadReflex(distDir, reflex, spin, variables, env));
    changed.push(reflex.name);
  }
  return { app: { manifest, spin, variables, reflexes, routes: routeTable(spin), readsBody: manifest.reflexes.some((r) => r.reads.body) }, changed };
}

function routeTable(spin: SpinToml): RouteTable<string> {
  return new RouteTable(spin.trigger.http.flatMap((t) => (typeof t.route === 'string' ? [{ route: t.route, target: t.component }] : [])));
}
