import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KgentsError } from '../../common/errors.ts';
import { parseOrThrow } from '../../common/zod-issues.ts';

export const Skill = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  description: z.string().min(1),
  tags: z.array(z.string()).default([]),
  examples: z.array(z.string()).default([]),
});

export const AgentManifest = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label'),
    description: z.string().min(1),
    version: z.string().default('0.1.0'),
    systemPrompt: z.string().min(1),
    model: z.string().min(1),
    skills: z.array(Skill).default([]),
    /** Hold every decision for a human. */
    requiresApproval: z.boolean().default(false),
    /** Hold a decision whose output mentions one of these words. */
    holdOn: z.array(z.string()).default([]),
  })
  .strict();
export type AgentManifest = z.infer<typeof AgentManifest>;

/**
 * Loads `agents/*.yaml` and `agents/*.ts` (default export); a bad manifest names its file and
 * field. A missing folder is no agents, unless `required` (the user named it).
 */
export async function loadAgents(dir: string, { required = false } = {}): Promise<AgentManifest[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => ['.yaml', '.yml', '.ts'].includes(extname(f))).sort();
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KgentsError('NOT_FOUND', `cannot read the agents folder: ${(error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'it is a file' : 'no such folder'}`, { file: dir });
  }
  const agents: AgentManifest[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const raw = await readManifest(path);
    const agent = parseOrThrow(AgentManifest, raw, 'INVALID_CONFIG', { file: path });
    if (agents.some((a) => a.name === agent.name)) throw new KgentsError('INVALID_CONFIG', `two agents are named "${agent.name}"`, { file: path, field: 'name' });
    agents.push(agent);
  }
  return agents;
}

/** A manifest's data; YAML or TypeScript that does not parse names its file, the parser's first line says where. */
async function readManifest(path: string): Promise<unknown> {
  try {
    if (extname(path) === '.ts') return ((await import(pathToFileURL(path).href)) as { default: unknown }).default;
    return parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    const firstLine = ((error as Error).message ?? String(error)).split('\n')[0].replace(/:$/, '');
    throw new KgentsError('INVALID_CONFIG', `cannot load the agent manifest: ${firstLine}`, { file: path });
  }
}
