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

/** Loads `agents/*.yaml` and `agents/*.ts` (default export); a bad manifest names its file and field. */
export async function loadAgents(dir: string): Promise<AgentManifest[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => ['.yaml', '.yml', '.ts'].includes(extname(f))).sort();
  } catch {
    return [];
  }
  const agents: AgentManifest[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const raw = extname(file) === '.ts' ? ((await import(pathToFileURL(path).href)) as { default: unknown }).default : parseYaml(await readFile(path, 'utf8'));
    const agent = parseOrThrow(AgentManifest, raw, 'INVALID_CONFIG', { file: path });
    if (agents.some((a) => a.name === agent.name)) throw new KgentsError('INVALID_CONFIG', `two agents are named "${agent.name}"`, { file: path, field: 'name' });
    agents.push(agent);
  }
  return agents;
}
