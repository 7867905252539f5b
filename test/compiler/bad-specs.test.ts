import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { KgentsError } from '../../common/errors.ts';
import { scratchProject } from '../support/tmp.ts';

const corpus = resolve(import.meta.dirname, 'bad-specs');
const cases = JSON.parse(readFileSync(join(corpus, 'cases.json'), 'utf8')) as { case: string; code: string; file: string; field?: string; message: string; whole?: boolean }[];
const work = scratchProject('bad-specs');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A dist/ that a failed build must leave exactly as it was. */
function seedDist(name: string): string {
  const dist = join(work, name, 'dist');
  mkdirSync(join(dist, 'reflexes'), { recursive: true });
  writeFileSync(join(dist, 'spin.toml'), 'previous build\n');
  writeFileSync(join(dist, 'reflexes', 'old.wasm'), 'old bytes');
  return dist;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name), `${prefix}${entry.name}/`);
      else out[prefix + entry.name] = readFileSync(join(d, entry.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

describe('bad-spec corpus', () => {
  it('covers every folder in the corpus', () => {
    const folders = readdirSync(corpus, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(cases.map((c) => c.case).sort()).toEqual(folders);
  });

  it.each(cases)('$case: $code names the file and field, and dist/ is untouched', async (expected) => {
    const dist = seedDist(expected.case);
    const before = snapshot(dist);
    const error = await buildApp({ root: join(work, expected.case), reflexesDir: join(corpus, expected.case), outDir: dist }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KgentsError);
    const e = error as KgentsError;
    expect(e.code).toBe(expected.code);
    expect(String(e.details.file)).toMatch(new RegExp(`${expected.file.replace('.', '\\.')}$`));
    if (expected.field) expect(e.details.field).toBe(expected.field);
    // `whole`: the message is all there is to say (no second problem that follows from the first).
    if (expected.whole) expect(e.message).toBe(expected.message);
    else expect(e.message).toContain(expected.message);
    expect(snapshot(dist)).toEqual(before);
    expect(readdirSync(join(work, expected.case)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  /** `kgents build` on a project holding one spec copied from the corpus. */
  const buildThroughCli = (corpusCase: string, file: string) => {
    const root = join(work, `cli-${corpusCase}`);
    mkdirSync(join(root, 'reflexes'), { recursive: true });
    writeFileSync(join(root, 'reflexes', file), readFileSync(join(corpus, corpusCase, file)));
    return spawnSync(process.execPath, [resolve(import.meta.dirname, '../../bin/kgents.js'), 'build', '-C', root], { encoding: 'utf8' });
  };

  it('the CLI prints file: field: message and exits non-zero', () => {
    const result = buildThroughCli('requires-llm', 'summarize.reflex.ts');
    expect(result.status).toBe(65);
    expect(result.stderr).toContain('error: reflexes/summarize.reflex.ts: requiresLlm: requiresLlm is true');
    expect(result.stderr).toContain('belongs in the nucleus');
  });

  it('the CLI names a schema field once, before what was expected', () => {
    const result = buildThroughCli('negative-rate', 'limit.reflex.ts');
    expect(result.status).toBe(65);
    expect(result.stderr).toContain('error: reflexes/limit.reflex.ts: rate: Too small: expected number to be >0\n');
  });
});
