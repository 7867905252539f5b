import { chmod, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClaudeConfigOptions {
  /** Where a working copy goes (default: the OS temp dir; in the cluster, the pod's /tmp emptyDir). */
  workRoot?: string;
  /** Whether the CLI could write into `dir` (default: try it). */
  canWrite?: (dir: string) => Promise<boolean>;
}

/**
 * The config dir the claude CLI gets. The CLI writes into its config dir as it starts
 * (`.claude.json`, sessions) and stops without output when it cannot. A Kubernetes Secret is
 * mounted read-only, so when the configured dir cannot be written, the CLI gets a private
 * copy (mode 0700, files 0600) in a writable place instead. A writable dir (a local
 * ~/.claude) is used as it is, not copied.
 */
export async function cliConfigDir(dir: string, options: ClaudeConfigOptions = {}): Promise<string> {
  // A dir that does not exist yet is the CLI's to create (a fresh login).
  if (!existsSync(dir) || (await (options.canWrite ?? canWrite)(dir))) return dir;
  const copy = await mkdtemp(join(options.workRoot ?? tmpdir(), 'kgents-claude-'));
  // A Secret volume holds its files behind symlinks (..data/...): copy what they point to.
  await cp(dir, copy, { recursive: true, dereference: true });
  await ownerOnly(copy);
  return copy;
}

async function canWrite(dir: string): Promise<boolean> {
  const probe = join(dir, `.kgents-write-probe-${process.pid}`);
  try {
    await writeFile(probe, '');
    await rm(probe);
    return true;
  } catch {
    return false;
  }
}

/** Secret files arrive read-only (0400); the CLI rewrites its credentials when it refreshes them. */
async function ownerOnly(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await ownerOnly(path);
    else await chmod(path, 0o600);
  }
}
