import { KgentsError } from '../common/errors.ts';
import { listen } from '../common/listen.ts';
import { isHttpUrl } from '../common/url.ts';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import type { KvStore } from '../common/kv/index.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { createLogger } from '../common/log.ts';
import { RateLimitStateSweeper } from '../common/rate-limit-state.ts';
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
  /** Where clients reach the nucleus, for agent cards (env KGENTS_PUBLIC_URL); default: each request's own origin. */
  publicUrl?: string;
  env?: Record<string, string | undefined>;
  conscience?: Conscience;
  purgatoryTtlMs?: number;
  now?: () => number;
  /**
   * Sweep run-out rate-limit state from the store (default true): in a cluster the nucleus is
   * what runs beside the Spin apps' Redis. `kgents up` leaves it to its reflex host.
   */
  sweepRateLimitState?: boolean;
}

export interface Nucleus {
  url: string;
  port: number;
  field: PheromoneField;
  hub: EventHub;
  purgatory: Purgatory;
  /** Sweeps run-out rate-limit state now, as the nucleus does every minute. */
  sweepRateLimitState(): Promise<number>;
  close(): Promise<void>;
}

export const NUCLEUS_VERSION = '0.1.0';

/** The public URL as cards use it: http(s), without a trailing slash. Anything else stops the start, naming the setting. */
function publicUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!isHttpUrl(value)) throw new KgentsError('INVALID_CONFIG', `KGENTS_PUBLIC_URL (--public-url) must be an http(s) URL, got "${value}"`, { field: 'KGENTS_PUBLIC_URL' });
  return value.replace(/\/+$/, '');
}

export async function startNucleus(opts: NucleusOptions = {}): Promise<Nucleus> {
  const env = opts.env ?? process.env;
  const cardsUrl = publicUrl(opts.publicUrl ?? env.KGENTS_PUBLIC_URL);
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
  const root = new Hono();
  const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app: root });
  root.route('/', createNucleusApp({ agents, runner, gateway, purgatory, field, hub, publicUrl: cardsUrl, version: NUCLEUS_VERSION, store: kv, upgradeWebSocket }));
  root.notFound(notFound);
  const listening = await listen(root.fetch, { port: opts.port ?? 8081, host: opts.host ?? '127.0.0.1' });
  injectWebSocket(listening.server);
  field.start();
  const sweeper = new RateLimitStateSweeper(kv, opts.now ?? Date.now, createLogger('nucleus'));
  if (opts.sweepRateLimitState !== false) sweeper.start();
  return {
    url: listening.url,
    port: listening.port,
    field,
    hub,
    purgatory,
    sweepRateLimitState: () => sweeper.sweep(),
    close: async () => {
      sweeper.stop();
      field.stop();
      purgatory.close();
      await listening.close();
    },
  };
}
