import { CORE_EXPORTS, HEAP_MODULE } from '../../compiler/abi.ts';
import { KgentsError } from '../../common/errors.ts';
import { COMPONENT_SECTION, sectionsOf } from '../../common/wasm-sections.ts';

/**
 * Finds the reflex's own core module inside a component binary. The embedded host runs that
 * module on V8's plain WebAssembly API and implements the component's imports itself, in
 * their lowered (canonical ABI) form: no component glue on the hot path.
 *
 * Component binary: `\0asm` + layer-1 version, then sections (id byte, LEB128 size, body).
 * Section id 1 holds a core module verbatim. The reflex module is the one exporting the decide
 * interface; it imports its memory from the heap module (compiler/toolchain/heap-module.ts),
 * the one exporting `realloc`.
 */
export function coreModulesOf(component: Uint8Array): Uint8Array[] {
  const isComponent = component[0] === 0 && component[1] === 0x61 && component[2] === 0x73 && component[3] === 0x6d && component[6] === 1 && component[7] === 0;
  if (!isComponent) throw new KgentsError('INVALID_REQUEST', 'not a WebAssembly component (expected a layer-1 component binary)');
  return [...sectionsOf(component)].filter((s) => s.id === COMPONENT_SECTION.coreModule).map((s) => component.subarray(s.body, s.end));
}

/** A reflex's two core modules, compiled: instantiate `heap`, then `reflex` with its exports. */
export interface CompiledReflex {
  reflex: WebAssembly.Module;
  heap: WebAssembly.Module;
}

export async function compileReflex(component: Uint8Array): Promise<CompiledReflex> {
  const modules = await Promise.all(coreModulesOf(component).map((bytes) => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)));
  const exporting = (name: string) => modules.find((m) => WebAssembly.Module.exports(m).some((e) => e.name === name));
  const reflex = exporting(CORE_EXPORTS.decide);
  const heap = exporting(HEAP_MODULE.realloc);
  if (!reflex) throw new KgentsError('INVALID_REQUEST', `the component has no core module exporting ${CORE_EXPORTS.decide}; was it built by kgents build?`);
  if (!heap) throw new KgentsError('INVALID_REQUEST', 'the component has no heap module: an earlier kgents build made it; build it again');
  return { reflex, heap };
}
