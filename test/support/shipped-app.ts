import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, type BuildResult } from '../../compiler/build.ts';
import { REPO_ROOT } from './tmp.ts';

/**
 * Builds the shipped reflexes once per test run into .kgents/test-dist and shares the result
 * between test files. Workers take a directory lock, so two files never build at once; the
 * build is incremental, so later runs only check hashes.
 */
export const SHIPPED_DIST = join(REPO_ROOT, '.kgents', 'test-dist');
const LOCK = `${SHIPPED_DIST}.lock`;

let built: Promise<BuildResult> | null = null;

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(REPO_ROOT, '.kgents'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed run is stale after a few minutes.
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 300_000) rmdirSync(LOCK);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmdirSync(LOCK);
  }
}

export function shippedApp(): Promise<BuildResult> {
  built ??= withLock(() => buildApp({ root: REPO_ROOT, outDir: SHIPPED_DIST }));
  return built;
}
