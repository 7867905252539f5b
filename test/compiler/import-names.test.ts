import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_RENAMES, generateAssemblyScript, METERED_EXPORTS } from '../../compiler/codegen/index.ts';
import { ReflexSpec } from '../../compiler/spec/schema.ts';
import { compileAssemblyScript, SUPPORT_LIBRARY_DIR } from '../../compiler/toolchain/asc.ts';
import { componentize } from '../../compiler/toolchain/component.ts';
import { fullImportName, REFLEX_IMPORTS, shortImportName } from '../../common/reflex-imports.ts';

describe('short import names', () => {
  it('the table lists every function the support library imports', () => {
    const externals = readdirSync(SUPPORT_LIBRARY_DIR)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(SUPPORT_LIBRARY_DIR, f), 'utf8').matchAll(/@external\('([^']+)', '([^']+)'\)/g)])
      .map(([, module, name]) => ({ module, name }));
    expect(externals.length).toBeGreaterThan(30);
    for (const full of externals) expect(shortImportName(full), `${full.module}#${full.name}`).not.toBeNull();
  });

  it('maps both ways for every entry, and leaves names it does not know alone', () => {
    for (const entry of REFLEX_IMPORTS) {
      for (const name of entry.functions) {
        const short = shortImportName({ module: entry.interface, name })!;
        expect(short.module.length + short.name.length).toBeLessThanOrEqual(3);
        expect(fullImportName(short)).toEqual({ module: entry.interface, name });
      }
    }
    expect(fullImportName({ module: 'wasi:clocks/wall-clock@0.2.0', name: 'now' })).toEqual({ module: 'wasi:clocks/wall-clock@0.2.0', name: 'now' });
    expect(fullImportName({ module: '99', name: '0' })).toEqual({ module: '99', name: '0' });
  });

  it('refuses a reflex module that imports a function the table lacks, naming it', async () => {
    const spec = ReflexSpec.parse({ kind: 'router', name: 'clocky', description: 'reads the clock resolution', route: '/c', rules: [], fallback: { respond: { status: 200 } } });
    const source = generateAssemblyScript(spec, 'clocky.reflex.ts', 'test')
      .replace(
        'function decideRequest(req: Request): Decision {',
        "// @ts-ignore: decorator\n@external('wasi:clocks/monotonic-clock@0.2.0', 'resolution')\ndeclare function resolution(): i64;\n\nfunction decideRequest(req: Request): Decision {\n  if (resolution() == 7) unreachable();",
      );
    const core = await compileAssemblyScript(source, { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: 1000, maxMemoryPages: 1 });
    await expect(componentize(core)).rejects.toThrow(/imports wasi:clocks\/monotonic-clock@0\.2\.0#resolution, which common\/reflex-imports\.ts does not list/);
  });
});
