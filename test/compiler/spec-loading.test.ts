import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KgentsError } from '../../common/errors.ts';
import { loadSpecs } from '../../compiler/spec/loader.ts';
import { scratchProject } from '../support/tmp.ts';

const work = scratchProject('spec-loading');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ROUTER = `{ kind: 'router', name: 'edge', description: 'answers', rules: [], fallback: { respond: { status: 404 } } }`;

/** A project of its own: its package.json, not the repository's, decides how Node loads the specs. */
function project(name: string, packageJson: object, specs: Record<string, string>): string {
  const root = join(work, name);
  mkdirSync(join(root, 'reflexes'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify(packageJson));
  for (const [file, text] of Object.entries(specs)) writeFileSync(join(root, 'reflexes', file), text);
  return root;
}

describe('loading spec files', () => {
  // npm init writes no "type", so tsx loads the specs as CommonJS and wraps their exports once more.
  it.each([
    ['a default export', `export default ${ROUTER};`],
    ['an export named reflex', `export const reflex = ${ROUTER};`],
  ])('reads %s in a CommonJS project', async (label, text) => {
    const root = project(`cjs-${label.split(' ').at(-1)}`, { name: 'plain-project' }, { 'edge.reflex.ts': text });
    const [loaded] = await loadSpecs(join(root, 'reflexes'), root);
    expect(loaded.spec).toMatchObject({ kind: 'router', name: 'edge' });
  });

  it.each([
    ['a CommonJS project', { name: 'plain-project' }],
    ['an ES module project', { name: 'plain-project', type: 'module' }],
  ])('says a file that exports nothing exports no ReflexSpec, in %s', async (label, packageJson) => {
    const root = project(`nothing-${label.split(' ')[1]}`, packageJson, { 'edge.reflex.ts': `const notExported = ${ROUTER};\n` });
    await expect(loadSpecs(join(root, 'reflexes'), root)).rejects.toMatchObject({ code: 'SPEC_NO_EXPORT', details: { file: 'reflexes/edge.reflex.ts' } });
  });

  it('tells a project without the kgents-edge package how to add it', async () => {
    const text = `import { defineReflex } from 'kgents-edge';\nexport default defineReflex(${ROUTER});`;
    const root = project('no-package', { name: 'plain-project', type: 'module' }, { 'edge.reflex.ts': text });
    const error = await loadSpecs(join(root, 'reflexes'), root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KgentsError);
    expect((error as KgentsError).code).toBe('SPEC_SYNTAX');
    expect((error as KgentsError).details.file).toBe('reflexes/edge.reflex.ts');
    expect((error as KgentsError).message).toMatch(/'kgents-edge'.*npm install --save-dev kgents-edge/);
  });
});
