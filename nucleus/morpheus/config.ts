import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KgentsError } from '../../common/errors.ts';
import { parseOrThrow } from '../../common/zod-issues.ts';
import { Secrets } from './secrets.ts';

export const BackendConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('openai'), name: z.string(), baseUrl: z.url(), apiKeyEnv: z.string().optional(), maxConcurrent: z.number().int().positive().default(64) }).strict(),
  z.object({ kind: z.literal('anthropic'), name: z.string(), baseUrl: z.url().default('https://api.anthropic.com'), apiKeyEnv: z.string().default('ANTHROPIC_API_KEY'), maxConcurrent: z.number().int().positive().default(64) }).strict(),
  z.object({ kind: z.literal('claude-cli'), name: z.string(), command: z.string().default('claude'), configDir: z.string().optional(), maxConcurrent: z.number().int().positive().default(3), timeoutMs: z.number().int().positive().default(120_000) }).strict(),
]);
export type BackendConfig = z.infer<typeof BackendConfig>;

/** Model-name prefix -> backends, tried in order (the next one is the fallback). First matching rule wins. */
export const RouteRule = z.object({ prefix: z.string(), backends: z.array(z.string()).min(1) }).strict();

/** Chat bodies carry whole conversations and base64 images: generous, but bounded. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export const MorpheusConfig = z.object({
  backends: z.array(BackendConfig).default([]),
  routes: z.array(RouteRule).default([]),
  connectTimeoutMs: z.number().int().positive().default(5_000),
  responseTimeoutMs: z.number().int().positive().default(120_000),
  retries: z.number().int().min(0).max(5).default(2),
  globalMaxConcurrent: z.number().int().positive().default(256),
  queueMax: z.number().int().min(0).default(512),
  /** Request bodies beyond this are refused with 413 before they are held whole. */
  maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
})
  // A misspelt key (`backendz`, `retry`) is an error, not a setting silently left at its default.
  .strict();
export type MorpheusConfig = z.infer<typeof MorpheusConfig>;

export interface LoadedConfig {
  config: MorpheusConfig;
  secrets: Secrets;
  /** What is missing, naming the variable to set; empty when a backend is usable. */
  missing: string[];
}

export const HOW_TO_CONFIGURE = 'set MORPHEUS_UPSTREAM_URL (an OpenAI-compatible server such as vLLM, Ollama or llama.cpp), ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY_FILE), or MORPHEUS_CLAUDE_CLI=1';

/**
 * Configuration from a file (MORPHEUS_CONFIG or --config, YAML or JSON) and the environment.
 * The environment alone is enough: one variable swaps the backend.
 *   MORPHEUS_UPSTREAM_URL=http://vllm:8000/v1   OpenAI-compatible backend (key: MORPHEUS_UPSTREAM_API_KEY[_FILE] or OPENAI_API_KEY[_FILE])
 *   ANTHROPIC_API_KEY[_FILE], ANTHROPIC_BASE_URL  the Anthropic API
 *   MORPHEUS_CLAUDE_CLI=1, CLAUDE_CONFIG_DIR       the claude CLI
 *   MORPHEUS_ROUTES="claude=anthropic,gpt=openai,*=openai"   prefix rules (default: claude* -> anthropic/cli, the rest -> openai)
 */
export function loadConfig(env: Record<string, string | undefined>, file?: string): LoadedConfig {
  const secrets = new Secrets(env);
  let raw: unknown = {};
  const path = file ?? env.MORPHEUS_CONFIG;
  if (path) {
    try {
      raw = parseYaml(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new KgentsError('INVALID_CONFIG', `cannot read Morpheus config: ${(error as Error).message}`, { file: path });
    }
  }
  const config = parseOrThrow(MorpheusConfig, raw, 'INVALID_CONFIG', { file: path });
  const named = (n: string) => config.backends.some((b) => b.name === n);
  if (env.MORPHEUS_UPSTREAM_URL && !named('openai')) {
    const apiKeyEnv = env.MORPHEUS_UPSTREAM_API_KEY || env.MORPHEUS_UPSTREAM_API_KEY_FILE ? 'MORPHEUS_UPSTREAM_API_KEY' : 'OPENAI_API_KEY';
    config.backends.push(fromEnv({ kind: 'openai', name: 'openai', baseUrl: env.MORPHEUS_UPSTREAM_URL, apiKeyEnv }, { baseUrl: 'MORPHEUS_UPSTREAM_URL' }));
  }
  if ((env.ANTHROPIC_API_KEY || env.ANTHROPIC_API_KEY_FILE) && !named('anthropic')) {
    config.backends.push(fromEnv({ kind: 'anthropic', name: 'anthropic', baseUrl: env.ANTHROPIC_BASE_URL }, { baseUrl: 'ANTHROPIC_BASE_URL' }));
  }
  if (env.MORPHEUS_CLAUDE_CLI && !named('claude-cli')) {
    const maxConcurrent = env.MORPHEUS_CLAUDE_MAX_CONCURRENT === undefined ? undefined : Number(env.MORPHEUS_CLAUDE_MAX_CONCURRENT);
    config.backends.push(fromEnv({ kind: 'claude-cli', name: 'claude-cli', command: env.MORPHEUS_CLAUDE_COMMAND, configDir: env.CLAUDE_CONFIG_DIR, maxConcurrent }, { command: 'MORPHEUS_CLAUDE_COMMAND', maxConcurrent: 'MORPHEUS_CLAUDE_MAX_CONCURRENT' }));
  }
  if (env.MORPHEUS_ROUTES) config.routes = routesFromEnv(env.MORPHEUS_ROUTES);
  if (config.routes.length === 0) config.routes = defaultRoutes(config.backends.map((b) => b.name));
  for (const rule of config.routes) {
    for (const name of rule.backends) {
      if (!named(name)) throw new KgentsError('INVALID_CONFIG', `route "${rule.prefix || '*'}" names backend "${name}", which is not configured`, { field: 'routes' });
    }
  }
  return { config, secrets, missing: config.backends.length ? [] : [HOW_TO_CONFIGURE] };
}

/** `MORPHEUS_ROUTES=claude=anthropic|claude-cli,*=openai`: model-name prefix `=` backends in order, rules split by commas. */
function routesFromEnv(text: string): z.infer<typeof RouteRule>[] {
  return text.split(',').map((rule) => {
    const eq = rule.indexOf('=');
    const prefix = rule.slice(0, eq).trim();
    const backends = rule.slice(eq + 1).split('|').map((b) => b.trim());
    if (eq < 0 || backends.some((b) => b === '')) {
      throw new KgentsError('INVALID_CONFIG', `expected rules <model prefix>=<backend>[|<backend>...] split by commas, such as claude=anthropic,*=openai; got ${JSON.stringify(rule)}`, { field: 'MORPHEUS_ROUTES' });
    }
    return { prefix: prefix === '*' ? '' : prefix, backends };
  });
}

/** A backend the environment asks for, with the schema's defaults; a bad value names its variable. */
function fromEnv(raw: Record<string, unknown>, variables: Record<string, string>): BackendConfig {
  return parseOrThrow(BackendConfig, raw, 'INVALID_CONFIG', {}, (issue) => `${variables[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`);
}

/** claude* models go to Anthropic, then the CLI; everything else to the OpenAI-compatible upstream, then whatever else there is. */
function defaultRoutes(names: string[]): z.infer<typeof RouteRule>[] {
  const claude = ['anthropic', 'claude-cli', 'openai'].filter((n) => names.includes(n));
  const rest = ['openai', 'anthropic', 'claude-cli'].filter((n) => names.includes(n));
  return [...(claude.length ? [{ prefix: 'claude', backends: claude }] : []), ...(rest.length ? [{ prefix: '', backends: rest }] : [])];
}
