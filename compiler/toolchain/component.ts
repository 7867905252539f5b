import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { ToolchainError } from '../../common/errors.ts';
import { assemble, COMPONENT_SECTION, encodeSection, moduleExportNames, readName, sectionsOf } from '../../common/wasm-sections.ts';
import { CORE_EXPORTS } from '../abi.ts';
import { addHeapModule } from './heap-module.ts';
import { shortenImportNames } from './import-names.ts';
import { reflexWitSource, WORLDS } from './wit.ts';

/**
 * core module -> `jco embed` (component-type section) -> `jco new` -> component, with short core
 * import names and a heap module in place of wit-component's shim. A module that exports tick
 * is a sensor's.
 */
export async function componentize(core: Uint8Array): Promise<Uint8Array> {
  try {
    const world = moduleExportNames(core).includes(CORE_EXPORTS.tick) ? WORLDS.sensor : WORLDS.reflex;
    const embedded = await componentEmbed({ binary: core, witSource: await reflexWitSource(), world, stringEncoding: 'utf8' });
    const component = stripCustomSections(await componentNew(embedded), ['component-name', 'producers']);
    return addHeapModule(shortenImportNames(component, CORE_EXPORTS.decide), CORE_EXPORTS.decide);
  } catch (error) {
    throw new ToolchainError(`wrapping the core module as a component failed: ${(error as Error).message}`, {}, { cause: error });
  }
}

export async function witOf(component: Uint8Array): Promise<string> {
  return componentWit(component);
}

/**
 * Drops the named custom sections from a component and from the core modules inside it.
 * `component-name` holds debug names for every lowered import (a third of a small reflex),
 * `producers` the toolchain versions (50 bytes in each of four places); runtimes need neither.
 */
export function stripCustomSections(binary: Uint8Array, names: string[]): Uint8Array {
  const isComponent = binary[6] === 1;
  const keep: Uint8Array[] = [];
  for (const section of sectionsOf(binary)) {
    if (section.id === COMPONENT_SECTION.custom && names.includes(readName(binary, section.body)[0])) continue;
    keep.push(
      isComponent && section.id === COMPONENT_SECTION.coreModule
        ? encodeSection(COMPONENT_SECTION.coreModule, stripCustomSections(binary.subarray(section.body, section.end), names))
        : binary.subarray(section.start, section.end),
    );
  }
  return assemble(binary.subarray(0, 8), keep);
}
