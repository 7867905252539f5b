import type { Command } from 'commander';
import { formatTable } from '../table.ts';
import type { BuildEvent, BuildResult } from '../../compiler/build.ts';

export interface BuildCliOptions {
  root: string;
  out: string;
  force?: boolean;
  quiet?: boolean;
}

function progress(quiet: boolean | undefined) {
  return (event: BuildEvent) => {
    if (quiet) return;
    if (event.type === 'loaded') process.stderr.write(`found ${event.count} reflex spec${event.count === 1 ? '' : 's'}\n`);
    if (event.type === 'start') process.stderr.write(`[${event.index + 1}/${event.total}] ${event.name} ... `);
    if (event.type === 'done') process.stderr.write(event.cached ? 'unchanged\n' : `built in ${event.reflex.buildMs} ms\n`);
  };
}

export function formatBuildTable(result: BuildResult): string {
  const rows = result.manifest.reflexes.map((r) => [r.name, r.kind, `${(r.size / 1024).toFixed(1)} KB`, result.cached.includes(r.name) ? 'cached' : `${r.buildMs} ms`]);
  return formatTable(['name', 'kind', 'size', 'build time'], rows);
}

export async function runBuild(options: BuildCliOptions): Promise<BuildResult> {
  const { buildApp } = await import('../../compiler/build.ts');
  const result = await buildApp({ root: options.root, outDir: options.out, force: options.force, onProgress: progress(options.quiet) });
  if (!options.quiet) process.stdout.write(`${formatBuildTable(result)}\n\nwrote ${result.outDir}/spin.toml and ${result.manifest.reflexes.length} component(s)\n`);
  return result;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('compile reflexes/*.reflex.ts to Wasm components in dist/, with dist/spin.toml')
    .option('-C, --root <dir>', 'project root (holds reflexes/)', '.')
    .option('-o, --out <dir>', 'output folder', 'dist')
    .option('-f, --force', 'rebuild every reflex, even unchanged ones')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: BuildCliOptions) => {
      await runBuild(opts);
    });
}
