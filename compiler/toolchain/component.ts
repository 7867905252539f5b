import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { ToolchainError } from '../../common/errors.ts';
import { reflexWitSource, WORLD } from './wit.ts';

/** core module -> `jco embed` (component-type section) -> `jco new` -> component. */
export async function componentize(core: Uint8Array): Promise<Uint8Array> {
  try {
    const embedded = await componentEmbed({ binary: core, witSource: await reflexWitSource(), world: WORLD, stringEncoding: 'utf8' });
    return await componentNew(embedded);
  } catch (error) {
    throw new ToolchainError(`wrapping the core module as a component failed: ${(error as Error).message}`, {}, { cause: error });
  }
}

export async function witOf(component: Uint8Array): Promise<string> {
  return componentWit(component);
}
