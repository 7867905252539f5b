import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { ToolchainError } from '../../common/errors.ts';
import { readLeb, sectionsOf } from '../../common/wasm-sections.ts';
import { EXPORT_RENAMES } from '../codegen/entry.ts';
import { shortenImportNames } from './import-names.ts';
import { reflexWitSource, WORLD } from './wit.ts';

/** core module -> `jco embed` (component-type section) -> `jco new` -> component, with short core import names. */
export async function componentize(core: Uint8Array): Promise<Uint8Array> {
  try {
    const embedded = await componentEmbed({ binary: core, witSource: await reflexWitSource(), world: WORLD, stringEncoding: 'utf8' });
    const component = stripCustomSections(await componentNew(embedded), ['component-name']);
    return shortenImportNames(component, EXPORT_RENAMES.decide);
  } catch (error) {
    throw new ToolchainError(`wrapping the core module as a component failed: ${(error as Error).message}`, {}, { cause: error });
  }
}

const CUSTOM_SECTION = 0;

export async function witOf(component: Uint8Array): Promise<string> {
  return componentWit(component);
}

/**
 * Drops named custom sections from a component's top level. `component-name` holds debug
 * names for every lowered import (a third of a small reflex); runtimes do not need it.
 */
export function stripCustomSections(component: Uint8Array, names: string[]): Uint8Array {
  const keep: Uint8Array[] = [component.subarray(0, 8)];
  for (const section of sectionsOf(component)) {
    if (section.id === CUSTOM_SECTION) {
      const [nameLength, nameStart] = readLeb(component, section.body);
      const name = new TextDecoder().decode(component.subarray(nameStart, nameStart + nameLength));
      if (names.includes(name)) continue;
    }
    keep.push(component.subarray(section.start, section.end));
  }
  const out = new Uint8Array(keep.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of keep) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
