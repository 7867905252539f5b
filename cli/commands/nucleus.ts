import type { Command } from 'commander';
import { createLogger } from '../../common/log.ts';
import { untilStopped } from '../signals.ts';
import { checkRedisUrl, httpUrl, portNumber, redisOption } from '../options.ts';
import { openServerStore } from '../store.ts';

export function registerNucleus(program: Command): void {
  program
    .command('nucleus')
    .description('run the nucleus alone: agent API, conscience and purgatory, pheromone field, observe stream')
    .option('-p, --port <port>', 'port', portNumber, 8081)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--agents <dir>', 'folder of agent manifests (*.yaml, *.ts)', 'agents')
    .addOption(redisOption('share the pheromone field through Redis'))
    .option('--morpheus <url>', 'Morpheus base URL (env MORPHEUS_URL, then LLM_ENDPOINT)', httpUrl)
    .option('--public-url <url>', 'where clients reach the nucleus, for the URLs in agent cards (env KGENTS_PUBLIC_URL; default: the URL each request was sent to)', httpUrl)
    .action(async (opts: { port: number; host: string; agents: string; redis?: string; morpheus?: string; publicUrl?: string }, command: Command) => {
      checkRedisUrl(opts.redis);
      const { loadAgents } = await import('../../nucleus/agents/manifest.ts');
      // A folder the user named must be there; the default one may be missing (no agents yet).
      const agents = await loadAgents(opts.agents, { required: command.getOptionValueSource('agents') !== 'default' });
      const [kv, { startNucleus }] = await Promise.all([openServerStore(opts.redis, createLogger('nucleus')), import('../../nucleus/index.ts')]);
      const nucleus = await startNucleus({ port: opts.port, host: opts.host, agents, kv, morpheusUrl: opts.morpheus, publicUrl: opts.publicUrl });
      process.stdout.write(`nucleus on ${nucleus.url}\n`);
      await untilStopped(async () => {
        await nucleus.close();
        await kv.close();
      });
    });
}
