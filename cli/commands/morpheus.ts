import type { Command } from 'commander';
import { portNumber } from '../options.ts';
import { untilStopped } from '../signals.ts';

export function registerMorpheus(program: Command): void {
  program
    .command('morpheus')
    .description('run Morpheus alone: the LLM gateway speaking the OpenAI and Anthropic APIs')
    .option('-p, --port <port>', 'port', portNumber, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('-c, --config <file>', 'backends and routes (YAML or JSON; env MORPHEUS_CONFIG)')
    .addHelpText('after', '\nEnvironment: MORPHEUS_UPSTREAM_URL, ANTHROPIC_API_KEY[_FILE], MORPHEUS_CLAUDE_CLI=1 with CLAUDE_CONFIG_DIR, MORPHEUS_ROUTES, MORPHEUS_API_KEYS.')
    .action(async (opts: { port: number; host: string; config?: string }) => {
      const { startMorpheus } = await import('../../nucleus/morpheus/index.ts');
      const morpheus = await startMorpheus({ port: opts.port, host: opts.host, configFile: opts.config });
      process.stdout.write(`morpheus on ${morpheus.url}\n`);
      await untilStopped(() => morpheus.close());
    });
}
