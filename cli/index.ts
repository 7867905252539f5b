import { Command, CommanderError } from 'commander';
import { exitCodeOf, formatError } from '../common/errors.ts';
import { registerBuild } from './commands/build.ts';
import { registerUp } from './commands/up.ts';
import { registerMorpheus } from './commands/morpheus.ts';
import { registerNucleus } from './commands/nucleus.ts';
import { registerSpinKube } from './commands/spinkube.ts';

export function createProgram(): Command {
  const program = new Command('kgents')
    .description('kgents edge: reflexes as Wasm components, a nucleus, and the Morpheus LLM gateway')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerBuild(program);
  registerUp(program);
  registerMorpheus(program);
  registerNucleus(program);
  registerSpinKube(program);
  return program;
}

/** Runs the CLI and returns the exit code; errors are printed once, as `file: field: message`. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 64;
    process.stderr.write(`error: ${formatError(error)}\n`);
    return exitCodeOf(error);
  }
}
