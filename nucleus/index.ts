import { listen } from '../common/listen.ts';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import type { KvStore } from '../common/kv/index.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { loadAgents, type AgentManifest } from './agents/manifest.ts';
import { AgentRunner } from './agents/runner.ts';
import { createNucleusApp, notFound } from './api/app.ts';
import { defaultConscience, type Conscience } from './conscience/hook.ts';
import { Purgatory } from './conscience/purgatory.ts';
import { morpheusGateway } from './gateway.ts';
import { EventHub } from './observe/hub.ts';
import { PheromoneField } from './pheromones/field.ts';

export interface NucleusOptions {
  port?: number;
  host?: string;
  /** Shared with the reflex host in `kgents up`, so reflexes and agents see one field. */
  kv?: KvStore;
  agentsDir?: string;
  agents?: AgentManifest[];
  morpheusUrl?: string;
  env?: Record<string, string | undefined>;
  conscience?: Conscience;
  purgatoryTtlMs?: number;
  now?: () => number;
}

export interface Nucleus {
  url: string;
  port: number;
  field: PheromoneField;
  hub: EventHub;
  purgatory: Purgatory;
  close(): Promise<void>;
}

export const NUCLEUS_VERSION = '0.1.0';

export async function startNucleus(opts: NucleusOptions = {}): Promise<Nucleus> {
  const env = opts.env ?? process.env;
  const hub = new EventHub();
  const kv = opts.kv ?? new MemoryKv();
  const field = new PheromoneField(kv, {
    now: opts.now,
    events: {
      deposited: (d) => hub.publish('pheromone.deposited', { id: d.id, type: d.type, source: d.source, target: d.target, intensity: d.intensity }),
      evaporated: (type, collected) => hub.publish('pheromone.evaporated', { type, collected }),
    },
  });
  const purgatory = new Purgatory(hub, opts.purgatoryTtlMs, opts.now);
  const agents = opts.agents ?? (await loadAgents(opts.agentsDir ?? 'agents'));
  const gateway = morpheusGateway(opts.morpheusUrl ?? env.MORPHEUS_URL ?? env.LLM_ENDPOINT, env.MORPHEUS_API_KEY);
  const runner = new AgentRunner(gateway, opts.conscience ?? defaultConscience, purgatory, hub);
  let url = '';
  const root = new Hono();
  const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app: root });
  root.route('/', createNucleusApp({ agents, runner, gateway, purgatory, field, hub, baseUrl: () => url, version: NUCLEUS_VERSION, store: kv, upgradeWebSocket }));
  root.notFound(notFound);
  const listening = await listen(root.fetch, { port: opts.port ?? 8081, host: opts.host ?? '127.0.0.1' });
  injectWebSocket(listening.server);
  url = listening.url;
  field.start();
  return {
    url,
    port: listening.port,
    field,
    hub,
    purgatory,
    close: async () => {
      field.stop();
      purgatory.close();
      await listening.close();
    },
  };
}
