import { ToolchainError } from '../../common/errors.ts';
import { appendToVector, assemble, COMPONENT_SECTION, encodeName, encodeSection, EXTERN_KIND, MODULE_SECTION, moduleExportNames, moduleExports, moduleImports, readLeb, sectionsOf, writeLeb, type Section } from '../../common/wasm-sections.ts';
import { HEAP_MODULE } from '../abi.ts';
import {
  CANON_OPTION,
  CORE_INSTANCE_KIND,
  CORE_SORT,
  encodeAliases,
  encodeCanons,
  encodeCoreInstances,
  readAliases,
  readCanons,
  readCoreInstances,
  type Alias,
  type Canon,
  type CoreInstance,
} from './component-entries.ts';
import { END, i32, IF, load32, local, memoryCopy, memoryGrow, memorySize, OP, store32 } from './wasm-ops.ts';

// A post-pass on the component wit-component wrote.
//
// An import lowered with the `memory` or `realloc` option needs the reflex module's memory and
// allocator, which exist only once that module is instantiated, and the module needs its
// imports to be instantiated. wit-component breaks the cycle with two extra core modules: a
// shim of trampolines through a table, passed in place of those imports, and a fixup that fills
// the table afterwards. With two dozen such imports that costs 1.2 KB of every forwarding reflex.
//
// This pass breaks it the other way. A heap module of about 150 bytes owns the memory and a
// `realloc` on the reflex runtime's arena (compiler/assembly/runtime.ts keeps the arena's top in
// memory for this); it is instantiated first, the imports are lowered against it, and the
// reflex module imports its memory. Shim, fixup and table go, and everything else keeps its
// order, so no component-level index moves: only core indices are renumbered.

/** Where the arena's top is kept; the same word as ARENA_TOP in compiler/assembly/runtime.ts. */
export const ARENA_TOP = 8;
/** AssemblyScript's block layout (rt/common): a 4-byte header, payloads aligned to 16. */
const BLOCK_OVERHEAD = 4;
const AL_MASK = 15;
const BLOCK_MAXSIZE = (1 << 30) - BLOCK_OVERHEAD;

const SHIM_TABLE = '$imports';

export function addHeapModule(component: Uint8Array, reflexExport: string): Uint8Array {
  const sections = [...sectionsOf(component)];
  const bytesOf = (s: Section) => component.subarray(s.body, s.end);
  const first = sections.findIndex((s) => s.id === COMPONENT_SECTION.coreModule);
  const last = sections.map((s) => s.id).lastIndexOf(COMPONENT_SECTION.coreInstance);
  if (first < 0 || last < first) throw new ToolchainError('the component has no core module instantiated');

  // What wit-component wrote from the first core module to the last core instance, in order,
  // with each definition's index in its (old) core index space.
  const modules: Uint8Array[] = [];
  const instances: CoreInstance[] = [];
  const componentAliases: Alias[] = [];
  /** old core func -> where it comes from */
  const funcs: ({ from: 'alias'; alias: Alias } | { from: 'canon'; canon: Canon })[] = [];
  const memories: Alias[] = [];
  for (const section of sections.slice(first, last + 1)) {
    const body = bytesOf(section);
    if (section.id === COMPONENT_SECTION.coreModule) modules.push(body);
    else if (section.id === COMPONENT_SECTION.coreInstance) instances.push(...readCoreInstances(body));
    else if (section.id === COMPONENT_SECTION.canon) {
      for (const canon of readCanons(body)) {
        if (canon.kind === 'lift') throw new ToolchainError('a function is lifted before the reflex module is instantiated');
        funcs.push({ from: 'canon', canon });
      }
    } else if (section.id === COMPONENT_SECTION.alias) {
      for (const alias of readAliases(body)) {
        if (!alias.core) componentAliases.push(alias);
        else if (alias.sort === CORE_SORT.func) funcs.push({ from: 'alias', alias });
        else if (alias.sort === CORE_SORT.memory) memories.push(alias);
        else if (alias.sort !== CORE_SORT.table) throw new ToolchainError(`unexpected core alias of sort ${alias.sort}`);
      }
    } else throw new ToolchainError(`unexpected section ${section.id} among the component's core instances`);
  }

  const roleOf = (module: Uint8Array) => {
    const names = moduleExportNames(module);
    if (names.includes(reflexExport)) return 'reflex';
    if (names.includes(SHIM_TABLE)) return 'shim';
    if (moduleImports(module).some((i) => i.name === SHIM_TABLE)) return 'fixup';
    throw new ToolchainError('the component has a core module that is neither the reflex module nor wit-component\'s shim or fixup');
  };
  const roles = modules.map(roleOf);
  const reflexModule = roles.indexOf('reflex');
  const instanceOf = (role: string) => instances.findIndex((i) => i.kind === CORE_INSTANCE_KIND.instantiate && roles[i.module] === role);
  const reflexInstance = instanceOf('reflex');
  const shimInstance = instanceOf('shim');
  const fixupInstance = instanceOf('fixup');
  if (reflexModule < 0 || reflexInstance < 0) throw new ToolchainError('the component does not instantiate its reflex module');

  // The fixup is given the shim (for its table) and, under each trampoline's name, the import
  // lowered for real.
  const realFuncs = new Map<string, number>();
  const fixupArgs = new Set<number>();
  if (fixupInstance >= 0) {
    const fixup = instances[fixupInstance] as Extract<CoreInstance, { kind: 0 }>;
    for (const arg of fixup.args.filter((a) => a.instance !== shimInstance)) {
      fixupArgs.add(arg.instance);
      const given = instances[arg.instance];
      if (given.kind !== CORE_INSTANCE_KIND.fromExports) throw new ToolchainError('the fixup module is given an instance it did not export from');
      for (const e of given.exports) if (e.sort === CORE_SORT.func) realFuncs.set(e.name, e.index);
    }
  }

  // New core index spaces. The heap module is core instance 0; its realloc core func 0, its
  // memory core memory 0. Then the canons (lowerings and resource built-ins), in their order.
  const canons = funcs.flatMap((f, old) => (f.from === 'canon' ? [{ old, canon: f.canon }] : []));
  const newFunc = new Map<number, number>();
  canons.forEach(({ old }, i) => newFunc.set(old, 1 + i));
  const resolveFunc = (old: number): number => {
    const mapped = newFunc.get(old);
    if (mapped !== undefined) return mapped;
    const source = funcs[old];
    if (source?.from === 'alias' && source.alias.target === 'export') {
      if (source.alias.instance === shimInstance) {
        const real = realFuncs.get(source.alias.name);
        if (real !== undefined) return resolveFunc(real);
      }
      if (source.alias.instance === reflexInstance && source.alias.name === 'cabi_realloc') return 0;
    }
    throw new ToolchainError(`core function ${old} has no place once the heap module is added`);
  };
  const resolveMemory = (old: number): number => {
    const alias = memories[old];
    if (alias?.target === 'export' && alias.instance === reflexInstance) return 0;
    throw new ToolchainError(`core memory ${old} is not the reflex module's`);
  };
  const remapOptions = (options: { code: number; index?: number }[]) =>
    options.map((o) => (o.index === undefined ? o : { ...o, index: o.code === CANON_OPTION.memory ? resolveMemory(o.index) : resolveFunc(o.index) }));
  const remapCanon = (c: Canon): Canon => (c.kind === 'resource' ? c : c.kind === 'lower' ? { ...c, options: remapOptions(c.options) } : { ...c, coreFunc: resolveFunc(c.coreFunc), options: remapOptions(c.options) });

  // Instances kept: those that feed the reflex module, then the reflex module's own.
  const dropped = new Set([shimInstance, fixupInstance, ...fixupArgs]);
  const kept = instances.flatMap((instance, old) => (dropped.has(old) || old === reflexInstance ? [] : [{ old, instance }]));
  const newInstance = new Map<number, number>(kept.map(({ old }, i) => [old, 1 + i]));
  newInstance.set(reflexInstance, 1 + kept.length);
  const resolveInstance = (old: number) => {
    const mapped = newInstance.get(old);
    if (mapped === undefined) throw new ToolchainError(`core instance ${old} has no place once the heap module is added`);
    return mapped;
  };
  const remapInstance = (instance: CoreInstance): CoreInstance => {
    if (instance.kind === CORE_INSTANCE_KIND.instantiate) return { ...instance, module: 1, args: instance.args.map((a) => ({ ...a, instance: resolveInstance(a.instance) })) };
    return {
      ...instance,
      exports: instance.exports.map((e) => {
        if (e.sort === CORE_SORT.func) return { ...e, index: resolveFunc(e.index) };
        if (e.sort === CORE_SORT.memory) return { ...e, index: resolveMemory(e.index) };
        throw new ToolchainError(`an instance feeding the reflex module exports sort ${e.sort}`);
      }),
    };
  };
  const reflexInstantiation = remapInstance(instances[reflexInstance]) as Extract<CoreInstance, { kind: 0 }>;
  reflexInstantiation.args.push({ name: HEAP_MODULE.module, instance: 0 });

  const { module: reflex, limits } = importMemory(modules[reflexModule]);
  const heapAliases: Alias[] = [
    { target: 'export', core: true, sort: CORE_SORT.memory, instance: 0, name: HEAP_MODULE.memory },
    { target: 'export', core: true, sort: CORE_SORT.func, instance: 0, name: HEAP_MODULE.realloc },
  ];
  const rebuilt = [
    encodeSection(COMPONENT_SECTION.coreModule, heapModule(limits)),
    encodeSection(COMPONENT_SECTION.coreModule, reflex),
    encodeSection(COMPONENT_SECTION.coreInstance, encodeCoreInstances([{ kind: CORE_INSTANCE_KIND.instantiate, module: 0, args: [] }])),
    encodeSection(COMPONENT_SECTION.alias, encodeAliases([...heapAliases, ...componentAliases])),
    ...(canons.length > 0 ? [encodeSection(COMPONENT_SECTION.canon, encodeCanons(canons.map(({ canon }) => remapCanon(canon))))] : []),
    encodeSection(
      COMPONENT_SECTION.coreInstance,
      encodeCoreInstances([...kept.map(({ instance }) => remapInstance(instance)), reflexInstantiation]),
    ),
  ];

  // After the last core instance: lifts of the reflex module's exports, and component-level
  // sections that name no core index. Core functions aliased there follow the canons.
  let nextFunc = 1 + canons.length;
  let oldFunc = funcs.length;
  const rest = sections.slice(last + 1).map((section) => {
    if (section.id === COMPONENT_SECTION.alias) {
      const aliases = readAliases(bytesOf(section)).map((alias) => {
        if (!alias.core) return alias;
        if (alias.sort !== CORE_SORT.func || alias.target !== 'export') throw new ToolchainError(`unexpected core alias of sort ${alias.sort} after the reflex module`);
        newFunc.set(oldFunc++, nextFunc++);
        return { ...alias, instance: resolveInstance(alias.instance) };
      });
      return encodeSection(COMPONENT_SECTION.alias, encodeAliases(aliases));
    }
    if (section.id === COMPONENT_SECTION.canon) {
      const remapped = readCanons(bytesOf(section)).map((canon) => {
        const entry = remapCanon(canon);
        if (canon.kind !== 'lift') newFunc.set(oldFunc++, nextFunc++);
        return entry;
      });
      return encodeSection(COMPONENT_SECTION.canon, encodeCanons(remapped));
    }
    if (section.id === COMPONENT_SECTION.coreModule || section.id === COMPONENT_SECTION.coreType) throw new ToolchainError(`unexpected section ${section.id} after the reflex module`);
    return component.subarray(section.start, section.end);
  });

  return assemble(component.subarray(0, 8), [...sections.slice(0, first).map((s) => component.subarray(s.start, s.end)), ...rebuilt, ...rest]);
}

/**
 * The reflex module with its memory imported from the heap module, and without the exports
 * the heap module now serves (memory, cabi_realloc). Returns the memory's limits as encoded.
 */
export function importMemory(module: Uint8Array): { module: Uint8Array; limits: number[] } {
  const sections = [...sectionsOf(module)];
  const memory = sections.find((s) => s.id === MODULE_SECTION.memory);
  if (!memory) throw new ToolchainError('the reflex module defines no memory');
  const [count, limitsAt] = readLeb(module, memory.body);
  if (count !== 1) throw new ToolchainError('the reflex module defines more than one memory');
  const limits = [...module.subarray(limitsAt, memory.end)];
  const memoryImport = [...encodeName(HEAP_MODULE.module), ...encodeName(HEAP_MODULE.memory), EXTERN_KIND.memory, ...limits];

  const out: Uint8Array[] = [];
  let imported = false;
  for (const section of sections) {
    if (section.id === MODULE_SECTION.memory) continue;
    if (!imported && section.id > MODULE_SECTION.import && section.id !== MODULE_SECTION.custom) {
      out.push(appendToVector(module, MODULE_SECTION.import, undefined, memoryImport));
      imported = true;
    }
    if (section.id === MODULE_SECTION.import) {
      out.push(appendToVector(module, MODULE_SECTION.import, section, memoryImport));
      imported = true;
    } else if (section.id === MODULE_SECTION.export) {
      const kept = moduleExports(module).filter((e) => e.name !== 'memory' && e.name !== 'cabi_realloc');
      out.push(encodeSection(MODULE_SECTION.export, [...writeLeb(kept.length), ...kept.flatMap((e) => [...e.entry])]));
    } else {
      out.push(module.subarray(section.start, section.end));
    }
  }
  return { module: assemble(module.subarray(0, 8), out), limits };
}

/**
 * The heap module: the memory (with the reflex module's limits) and
 * `realloc(old, oldSize, align, size)`, which allocates at the arena's top exactly as the
 * runtime's __alloc does (4-byte header holding the payload size, payloads 16-aligned), grows
 * memory when needed (trapping at the cap) and copies the old bytes when given any.
 */
export function heapModule(limits: number[]): number[] {
  const [OLD, OLD_SIZE, SIZE, PTR, END_AT] = [0, 1, 3, 4, 5];
  const { get, set, tee } = local;
  const { add, sub, and, shl, shrU, gtU, ltS, ltU, select, unreachable } = OP;
  const memoryBytes = [...memorySize, ...i32(16), shl];
  const body = [
    1, 2, 0x7f, // two i32 locals: ptr, end
    ...get(SIZE), ...i32(BLOCK_MAXSIZE), gtU, ...IF, unreachable, ...END,
    ...i32(0), ...load32(ARENA_TOP), ...i32(BLOCK_OVERHEAD), add, ...set(PTR),
    // end = ptr + payload, payload = ((size + header + 15) & ~15) - header
    ...get(PTR), ...get(SIZE), ...i32(BLOCK_OVERHEAD + AL_MASK), add, ...i32(~AL_MASK), and, add, ...i32(BLOCK_OVERHEAD), sub, ...tee(END_AT),
    ...memoryBytes, gtU, ...IF,
    ...get(END_AT), ...memoryBytes, sub, ...i32(0xffff), add, ...i32(16), shrU, ...memoryGrow, ...i32(0), ltS, ...IF, unreachable, ...END,
    ...END,
    ...get(PTR), ...i32(BLOCK_OVERHEAD), sub, ...get(END_AT), ...get(PTR), sub, ...store32(0),
    ...i32(0), ...get(END_AT), ...store32(ARENA_TOP),
    ...get(OLD), ...IF,
    ...get(PTR), ...get(OLD), ...get(OLD_SIZE), ...get(SIZE), ...get(OLD_SIZE), ...get(SIZE), ltU, select, ...memoryCopy,
    ...END,
    ...get(PTR),
    ...END,
  ];
  const I32 = 0x7f;
  const sectionBytes = (id: number, content: number[]) => [...encodeSection(id, content)];
  return [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sectionBytes(MODULE_SECTION.type, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]),
    ...sectionBytes(MODULE_SECTION.function, [1, 0]),
    ...sectionBytes(MODULE_SECTION.memory, [1, ...limits]),
    ...sectionBytes(MODULE_SECTION.export, [2, ...encodeName(HEAP_MODULE.memory), EXTERN_KIND.memory, 0, ...encodeName(HEAP_MODULE.realloc), EXTERN_KIND.func, 0]),
    ...sectionBytes(MODULE_SECTION.code, [1, ...writeLeb(body.length), ...body]),
  ];
}
