import { shortImportName } from '../../common/reflex-imports.ts';
import { ToolchainError } from '../../common/errors.ts';
import { assemble, COMPONENT_SECTION, encodeName, encodeSection, EXTERN_KIND, MODULE_SECTION, moduleExportNames, moduleImports, sectionsOf, writeLeb, type Section } from '../../common/wasm-sections.ts';
import { CORE_INSTANCE_KIND, encodeCoreInstances, readCoreInstances, type CoreInstance } from './component-entries.ts';

const { coreModule: CORE_MODULE, coreInstance: CORE_INSTANCE } = COMPONENT_SECTION;
const { instantiate: INSTANTIATE, fromExports: FROM_EXPORTS } = CORE_INSTANCE_KIND;
const MODULE_IMPORT = MODULE_SECTION.import;
const FUNC = EXTERN_KIND.func;

/**
 * Renames the imports of a component's reflex module to their short names (common/reflex-imports.ts).
 * A core module's import names matter only inside the component: `instantiate` arguments
 * match its module names, and the export lists wit-component builds to feed it match its
 * field names. Renaming those three places together keeps the component equivalent.
 *
 * Reads the layout wit-component writes: core modules only in core-module sections, and core
 * instances only in core-instance sections.
 */
export function shortenImportNames(component: Uint8Array, reflexExport: string): Uint8Array {
  const sections = [...sectionsOf(component)];
  const modules = sections.filter((s) => s.id === CORE_MODULE);
  const reflexIndex = modules.findIndex((s) => moduleExportNames(component.subarray(s.body, s.end)).includes(reflexExport));
  if (reflexIndex < 0) throw new ToolchainError(`the component has no core module exporting ${reflexExport}`);

  // Parsed once; the flat list is the core instance index space.
  const bySection = new Map(sections.filter((s) => s.id === CORE_INSTANCE).map((s) => [s, readCoreInstances(component.subarray(s.body, s.end))] as const));
  const instances = [...bySection.values()].flat();
  const instantiations = instances.filter((i) => i.kind === INSTANTIATE);
  // instance index -> the module name of the reflex module's import it feeds
  const reflexArgs = instantiations.filter((i) => i.module === reflexIndex).flatMap((i) => i.args);
  const renamedFields = new Map(reflexArgs.map((arg) => [arg.instance, arg.name] as const));
  // Each instance is renamed for one module name, so it must feed one import module, and only the reflex module.
  if (renamedFields.size !== reflexArgs.length) throw new ToolchainError('one core instance feeds two import modules of the reflex module');
  for (const other of instantiations.filter((i) => i.module !== reflexIndex)) {
    const shared = other.args.find((arg) => renamedFields.has(arg.instance));
    if (shared) throw new ToolchainError(`core instance ${shared.instance} feeds more than the reflex module`);
  }

  const short = (module: string, name: string) => {
    const found = shortImportName({ module, name });
    if (!found) throw new ToolchainError(`the reflex module imports ${module}#${name}, which common/reflex-imports.ts does not list`);
    return found;
  };
  let seen = 0;
  const rewritten = sections.map((section) => {
    const bytes = component.subarray(section.start, section.end);
    if (section === modules[reflexIndex]) {
      return encodeSection(CORE_MODULE, renameModuleImports(component.subarray(section.body, section.end), short));
    }
    const own = bySection.get(section);
    if (!own) return bytes;
    const renamed = own.map((instance, i): CoreInstance => {
      const index = seen + i;
      if (instance.kind === INSTANTIATE && instance.module === reflexIndex) {
        return { ...instance, args: instance.args.map((arg) => ({ ...arg, name: short(arg.name, firstFieldOf(instances[arg.instance])).module })) };
      }
      const module = renamedFields.get(index);
      if (module === undefined || instance.kind !== FROM_EXPORTS) return instance;
      return { ...instance, exports: instance.exports.map((e) => ({ ...e, name: short(module, e.name).name })) };
    });
    seen += own.length;
    return encodeSection(CORE_INSTANCE, encodeCoreInstances(renamed));
  });
  return assemble(component.subarray(0, 8), rewritten);
}

/** Any field of an instance that feeds the reflex module: its interface's short name does not depend on which. */
function firstFieldOf(instance: CoreInstance): string {
  if (instance.kind !== FROM_EXPORTS || instance.exports.length === 0) throw new ToolchainError('an import of the reflex module is not fed by a list of exports');
  return instance.exports[0].name;
}

function renameModuleImports(module: Uint8Array, short: (module: string, name: string) => { module: string; name: string }): Uint8Array {
  const imports = moduleImports(module);
  const parts = [...sectionsOf(module)].map((section: Section) => {
    if (section.id !== MODULE_IMPORT) return module.subarray(section.start, section.end);
    const body = writeLeb(imports.length);
    for (const i of imports) {
      if (i.kind !== FUNC) throw new ToolchainError(`the reflex module imports ${i.module}#${i.name}, which is not a function`);
      const renamed = short(i.module, i.name);
      body.push(...encodeName(renamed.module), ...encodeName(renamed.name), ...i.descriptor);
    }
    return encodeSection(MODULE_IMPORT, body);
  });
  return assemble(module.subarray(0, 8), parts);
}
