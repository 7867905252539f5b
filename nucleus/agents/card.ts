import { z } from 'zod';
import type { AgentManifest } from './manifest.ts';

/** The A2A v1 agent card fields the nucleus publishes. */
export const AgentCard = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  version: z.string().min(1),
  supportedInterfaces: z.array(z.object({ url: z.url(), protocolBinding: z.string().min(1), protocolVersion: z.string().min(1) })).min(1),
  capabilities: z.object({ streaming: z.boolean(), pushNotifications: z.boolean() }),
  defaultInputModes: z.array(z.string()).min(1),
  defaultOutputModes: z.array(z.string()).min(1),
  skills: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), tags: z.array(z.string()), examples: z.array(z.string()) })),
});
export type AgentCard = z.infer<typeof AgentCard>;

const PROTOCOL = { protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' };

export function agentCard(agent: AgentManifest, baseUrl: string): AgentCard {
  return {
    name: agent.name,
    description: agent.description,
    version: agent.version,
    supportedInterfaces: [{ url: `${baseUrl}/v1/agents/${agent.name}/invoke`, ...PROTOCOL }],
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain', 'text/event-stream'],
    skills: agent.skills.map((s) => ({ id: s.id, name: s.name, description: s.description, tags: s.tags, examples: s.examples })),
  };
}

export function nucleusCard(agents: AgentManifest[], baseUrl: string, version: string): AgentCard {
  return {
    name: 'kgents-nucleus',
    description: `The kgents nucleus: ${agents.length} agent(s) reachable over HTTP, with a shared pheromone field`,
    version,
    supportedInterfaces: [{ url: `${baseUrl}/v1/agents`, ...PROTOCOL }],
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain', 'text/event-stream'],
    skills: agents.flatMap((a) => a.skills.map((s) => ({ id: `${a.name}.${s.id}`, name: s.name, description: s.description, tags: s.tags, examples: s.examples }))),
  };
}
