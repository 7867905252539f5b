import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../compiler/build.ts';
import { SpinToml } from '../../cytoplasm/app.ts';
import { REPO_ROOT, scratchProject } from '../support/tmp.ts';

function project(): string {
  const root = scratchProject('build');
  mkdirSync(join(root, 'reflexes'));
  cpSync(join(REPO_ROOT, 'reflexes'), join(root, 'reflexes'), { recursive: true });
  return root;
}

describe('kgents build', () => {
  it('is deterministic: the same specs give byte-identical components and manifests', async () => {
    const root = project();
    const a = await buildApp({ root, outDir: 'dist-a', force: true });
    const b = await buildApp({ root, outDir: 'dist-b', force: true });
    expect(b.built).toHaveLength(4);
    for (const reflex of a.manifest.reflexes) {
      expect(readFileSync(join(a.outDir, reflex.component))).toEqual(readFileSync(join(b.outDir, reflex.component)));
    }
    expect(readFileSync(join(a.outDir, 'spin.toml'), 'utf8')).toBe(readFileSync(join(b.outDir, 'spin.toml'), 'utf8'));
  });

  it('is incremental: unchanged specs are not rebuilt, a changed one is, --force rebuilds all', async () => {
    const root = project();
    const first = await buildApp({ root });
    expect(first.built.sort()).toEqual(['agent-limit', 'api-router', 'edge-health', 'nucleus-degraded']);
    const again = await buildApp({ root });
    expect(again.built).toEqual([]);
    expect(again.cached).toHaveLength(4);
    const file = join(root, 'reflexes', 'agent-limit.reflex.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('burst: 10', 'burst: 20'));
    const changed = await buildApp({ root });
    expect(changed.built).toEqual(['agent-limit']);
    expect((await buildApp({ root, force: true })).built).toHaveLength(4);
  });

  it('kgents build shows progress and a table, then exits: the compiler worker does not hold the process', () => {
    const root = scratchProject('cli-build');
    mkdirSync(join(root, 'reflexes'));
    writeFileSync(join(root, 'reflexes', 'ping.reflex.ts'), `export default { kind: 'router', name: 'ping', description: 'pong', route: '/ping', rules: [], fallback: { respond: { status: 200 } } };\n`);
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'build', '-C', root], { encoding: 'utf8', timeout: 90_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/\[1\/1\] ping \.\.\. built in \d+ ms/);
    expect(run.stdout).toMatch(/ping +router +\d+\.\d KB +\d+ ms/);
    expect(readFileSync(join(root, 'dist', 'reflexes', 'ping.wasm')).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it('refuses an output folder it would take other files with (the project, the specs, a folder of other files), exit 64', async () => {
    const root = scratchProject('out-guard');
    mkdirSync(join(root, 'reflexes'));
    writeFileSync(join(root, 'reflexes', 'ping.reflex.ts'), `export default { kind: 'router', name: 'ping', description: 'pong', route: '/ping', rules: [], fallback: { respond: { status: 200 } } };\n`);
    writeFileSync(join(root, 'notes.txt'), 'precious');
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.md'), 'mine');
    for (const [outDir, why] of [['.', 'is the project folder'], ['..', 'is the project folder or holds it'], ['reflexes', 'holds the reflex specs'], ['docs', 'holds a.md, which no build wrote'], ['notes.txt', 'is a file, not a folder'], ['notes.txt/out', 'part of the path is a file']]) {
      const error = await buildApp({ root, outDir }).then(() => null, (e) => e);
      expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining(why) });
    }
    expect(readdirSync(root).sort()).toEqual(['docs', 'notes.txt', 'reflexes']);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('precious');
    expect(readdirSync(join(root, 'reflexes'))).toEqual(['ping.reflex.ts']);
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'kgents.js'), 'build', '-C', root, '-o', '.'], { encoding: 'utf8', timeout: 90_000 });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('choose a new or empty folder');
    // Its own output it replaces, as often as asked.
    await buildApp({ root });
    expect((await buildApp({ root, force: true })).built).toEqual(['ping']);
  });

  it('sweeps the staging folders of builds stopped mid-way, and names the app as a DNS label', async () => {
    const root = scratchProject('sweep');
    mkdirSync(join(root, 'reflexes'));
    writeFileSync(join(root, 'reflexes', 'ping.reflex.ts'), `export default { kind: 'router', name: 'ping', description: 'pong', route: '/ping', rules: [], fallback: { respond: { status: 200 } } };\n`);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'My_App' }));
    // A process id no process has (above Linux's pid_max), and this process's own (still building).
    mkdirSync(join(root, 'dist.tmp-4194305-1'));
    mkdirSync(join(root, `dist.old-${process.pid}-1`));
    const result = await buildApp({ root });
    expect(readdirSync(root).sort()).toEqual(['dist', `dist.old-${process.pid}-1`, 'package.json', 'reflexes']);
    expect(result.manifest.name).toBe('my-app');
  });

  it("is the package's public buildApp, which loads the compiler on first call", async () => {
    const root = scratchProject('public-api');
    mkdirSync(join(root, 'reflexes'));
    writeFileSync(join(root, 'reflexes', 'ping.reflex.ts'), `import { defineReflex } from 'kgents-edge';\nexport default defineReflex({ kind: 'router', name: 'ping', description: 'pong', route: '/ping', rules: [], fallback: { respond: { status: 200 } } });\n`);
    const { buildApp: publicBuildApp } = await import('../../index.ts');
    const result = await publicBuildApp({ root });
    expect(result.built).toEqual(['ping']);
    expect(result.manifest.reflexes[0]).toMatchObject({ name: 'ping', kind: 'router' });
  });

  it('writes a Spin manifest v2 with triggers, stores, outbound hosts and variables', async () => {
    const { outDir } = await buildApp({ root: REPO_ROOT, outDir: join(scratchProject('manifest'), 'dist') });
    const text = readFileSync(join(outDir, 'spin.toml'), 'utf8');
    const spin = SpinToml.parse(parseToml(text));
    expect(spin.spin_manifest_version).toBe(2);
    expect(spin.variables).toEqual({ nucleus_url: { default: 'http://127.0.0.1:8081' } });
    expect(spin.trigger.http).toEqual(
      expect.arrayContaining([
        { route: '/v1/agents/...', component: 'agent-limit' },
        { route: '/...', component: 'api-router' },
        { route: '/_reflexes/health', component: 'edge-health' },
        { route: '/_reflexes/nucleus-degraded', component: 'nucleus-degraded' },
      ]),
    );
    expect(spin.component['agent-limit']).toMatchObject({ source: 'reflexes/agent-limit.wasm', allowed_outbound_hosts: ['http://api-router.spin.internal'], key_value_stores: ['default'] });
    expect(spin.component['api-router'].allowed_outbound_hosts).toEqual(['{{ nucleus_url }}']);
    expect(spin.component['nucleus-degraded'].allowed_outbound_hosts).toEqual([]);
    expect(parseToml(text)).toMatchObject({ component: { 'api-router': { variables: { nucleus_url: '{{ nucleus_url }}' } } } });
  });
});
