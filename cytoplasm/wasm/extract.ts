import { CORE_EXPORTS } from '../../compiler/abi.ts';
import { KgentsError } from '../../common/errors.ts';
import { sectionsOf } from '../../common/wasm-sections.ts';

/**
 * Finds the reflex's own core module inside a component binary. The embedded host runs that
 * module on V8's plain WebAssembly API and implements the component's imports itself, in
 * their lowered (canonical ABI) form: no component glue on the hot path.
 *
 * Component binary: `\0asm` + layer-1 version, then sections (id byte, LEB128 size, body).
 * Section id 1 holds a core module verbatim. wit-component may add small shim modules; the
 * reflex module is the one exporting `cabi_realloc` and the decide interface.
 */
const CORE_MODULE_SECTION = 1;

export function coreModulesOf(component: Uint8Array): Uint8Array[] {
  const isComponent = component[0] === 0 && component[1] === 0x61 && component[2] === 0x73 && component[3] === 0x6d && component[6] === 1 && component[7] === 0;
  if (!isComponent) throw new KgentsError('INVALID_REQUEST', 'not a WebAssembly component (expected a layer-1 component binary)');
  return [...sectionsOf(component)].filter((s) => s.id === CORE_MODULE_SECTION).map((s) => component.subarray(s.body, s.end));
}

export async function compileReflexModule(component: Uint8Array): Promise<WebAssembly.Module> {
  for (const bytes of coreModulesOf(component)) {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    if (WebAssembly.Module.exports(module).some((e) => e.name === CORE_EXPORTS.decide)) return module;
  }
  throw new KgentsError('INVALID_REQUEST', `the component has no core module exporting ${CORE_EXPORTS.decide}; was it built by kgents build?`);
}
