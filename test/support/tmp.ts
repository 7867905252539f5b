import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const created: string[] = [];

/** Removes the scratch folders made so far: after each test file (test/support/setup.ts), and when a benchmark exits. */
export function removeScratchProjects(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', removeScratchProjects);

/**
 * A scratch project folder inside the repo (under .kgents/, git-ignored), so spec files in it
 * resolve `kgents-edge` to this package the way an installed copy would.
 */
export function scratchProject(prefix: string): string {
  const base = join(REPO, '.kgents', 'tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, `${prefix}-`));
  created.push(dir);
  return dir;
}

export const REPO_ROOT = REPO;
