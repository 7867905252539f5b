import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

/**
 * A scratch project folder inside the repo (under .kgents/, git-ignored), so spec files in it
 * resolve `kgents-edge` to this package the way an installed copy would.
 */
export function scratchProject(prefix: string): string {
  const base = join(REPO, '.kgents', 'tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

export const REPO_ROOT = REPO;
