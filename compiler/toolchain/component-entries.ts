import { ToolchainError } from '../../common/errors.ts';
import { encodeName, readLeb, readName, writeLeb } from '../../common/wasm-sections.ts';

// Readers and writers for the entries of a component's core-instance, alias and canon sections
// (component model binary format), for the post-passes that edit what wit-component wrote.

/** Core sorts, after the 0x00 that marks a core sort in an alias. */
export const CORE_SORT = { func: 0x00, table: 0x01, memory: 0x02, global: 0x03, type: 0x10, module: 0x11, instance: 0x12 } as const;

const INSTANTIATE = 0x00;
const FROM_EXPORTS = 0x01;
const INSTANCE_ARG = 0x12;

export type CoreInstance =
  | { kind: typeof INSTANTIATE; module: number; args: { name: string; instance: number }[] }
  | { kind: typeof FROM_EXPORTS; exports: { name: string; sort: number; index: number }[] };

export const CORE_INSTANCE_KIND = { instantiate: INSTANTIATE, fromExports: FROM_EXPORTS } as const;

/** A vector of entries: a LEB128 count, then each entry read by `readOne` from a position. */
function readVector<T>(body: Uint8Array, readOne: (pos: number) => [T, number]): T[] {
  let [count, pos] = readLeb(body, 0);
  const out: T[] = [];
  for (; count > 0; count--) {
    const [entry, next] = readOne(pos);
    out.push(entry);
    pos = next;
  }
  if (pos !== body.length) throw new ToolchainError('a component section holds more than its entries');
  return out;
}

function encodeVector<T>(entries: T[], encodeOne: (entry: T) => number[]): number[] {
  return [...writeLeb(entries.length), ...entries.flatMap(encodeOne)];
}

export function readCoreInstances(body: Uint8Array): CoreInstance[] {
  return readVector(body, (pos): [CoreInstance, number] => {
    const kind = body[pos++];
    if (kind === INSTANTIATE) {
      const [module, argsAt] = readLeb(body, pos);
      let [n, at] = readLeb(body, argsAt);
      const args: { name: string; instance: number }[] = [];
      for (; n > 0; n--) {
        const [name, sortAt] = readName(body, at);
        if (body[sortAt] !== INSTANCE_ARG) throw new ToolchainError('unexpected core instantiate argument');
        const [instance, next] = readLeb(body, sortAt + 1);
        args.push({ name, instance });
        at = next;
      }
      return [{ kind, module, args }, at];
    }
    if (kind === FROM_EXPORTS) {
      let [n, at] = readLeb(body, pos);
      const exports: { name: string; sort: number; index: number }[] = [];
      for (; n > 0; n--) {
        const [name, sortAt] = readName(body, at);
        const [index, next] = readLeb(body, sortAt + 1);
        exports.push({ name, sort: body[sortAt], index });
        at = next;
      }
      return [{ kind, exports }, at];
    }
    throw new ToolchainError(`unexpected core instance kind ${kind}`);
  });
}

export function encodeCoreInstances(instances: CoreInstance[]): number[] {
  return encodeVector(instances, (instance) =>
    instance.kind === INSTANTIATE
      ? [INSTANTIATE, ...writeLeb(instance.module), ...writeLeb(instance.args.length), ...instance.args.flatMap((a) => [...encodeName(a.name), INSTANCE_ARG, ...writeLeb(a.instance)])]
      : [FROM_EXPORTS, ...writeLeb(instance.exports.length), ...instance.exports.flatMap((e) => [...encodeName(e.name), e.sort, ...writeLeb(e.index)])],
  );
}

/** `core` aliases name a core sort (CORE_SORT); the others a component sort, kept as its byte. */
export type Alias =
  | { target: 'export'; core: boolean; sort: number; instance: number; name: string }
  | { target: 'outer'; core: boolean; sort: number; count: number; index: number };

const EXPORT_TARGET = 0x00;
const CORE_EXPORT_TARGET = 0x01;
const OUTER_TARGET = 0x02;

export function readAliases(body: Uint8Array): Alias[] {
  return readVector(body, (pos): [Alias, number] => {
    const core = body[pos] === 0x00;
    const sort = core ? body[pos + 1] : body[pos];
    pos += core ? 2 : 1;
    const target = body[pos++];
    if (target === OUTER_TARGET) {
      const [count, indexAt] = readLeb(body, pos);
      const [index, next] = readLeb(body, indexAt);
      return [{ target: 'outer', core, sort, count, index }, next];
    }
    if (target !== (core ? CORE_EXPORT_TARGET : EXPORT_TARGET)) throw new ToolchainError(`unexpected alias target ${target}`);
    const [instance, nameAt] = readLeb(body, pos);
    const [name, next] = readName(body, nameAt);
    return [{ target: 'export', core, sort, instance, name }, next];
  });
}

export function encodeAliases(aliases: Alias[]): number[] {
  return encodeVector(aliases, (a) => {
    const sort = a.core ? [0x00, a.sort] : [a.sort];
    return a.target === 'outer'
      ? [...sort, OUTER_TARGET, ...writeLeb(a.count), ...writeLeb(a.index)]
      : [...sort, a.core ? CORE_EXPORT_TARGET : EXPORT_TARGET, ...writeLeb(a.instance), ...encodeName(a.name)];
  });
}

/** Canonical options; those with an index name a core memory or a core function. */
export const CANON_OPTION = { memory: 0x03, realloc: 0x04, postReturn: 0x05, callback: 0x07 } as const;
const INDEXED_OPTIONS = new Set<number>(Object.values(CANON_OPTION));
const FLAG_OPTIONS = new Set([0x00, 0x01, 0x02, 0x06]);

export interface CanonOption {
  code: number;
  index?: number;
}

/** lift and lower, and the resource built-ins (new, drop, rep), each defining one function. */
export type Canon =
  | { kind: 'lift'; coreFunc: number; options: CanonOption[]; type: number }
  | { kind: 'lower'; func: number; options: CanonOption[] }
  | { kind: 'resource'; op: number; type: number };

const LIFT = 0x00;
const LOWER = 0x01;
const RESOURCE_OPS = new Set([0x02, 0x03, 0x04]);

export function readCanons(body: Uint8Array): Canon[] {
  const readOptions = (pos: number): [CanonOption[], number] => {
    let [n, at] = readLeb(body, pos);
    const options: CanonOption[] = [];
    for (; n > 0; n--) {
      const code = body[at++];
      if (INDEXED_OPTIONS.has(code)) {
        const [index, next] = readLeb(body, at);
        options.push({ code, index });
        at = next;
      } else if (FLAG_OPTIONS.has(code)) {
        options.push({ code });
      } else {
        throw new ToolchainError(`unexpected canonical option ${code}`);
      }
    }
    return [options, at];
  };
  return readVector(body, (pos): [Canon, number] => {
    const op = body[pos];
    if (op === LIFT || op === LOWER) {
      if (body[pos + 1] !== 0x00) throw new ToolchainError(`unexpected canon ${op} form ${body[pos + 1]}`);
      const [func, optionsAt] = readLeb(body, pos + 2);
      const [options, at] = readOptions(optionsAt);
      if (op === LOWER) return [{ kind: 'lower', func, options }, at];
      const [type, next] = readLeb(body, at);
      return [{ kind: 'lift', coreFunc: func, options, type }, next];
    }
    if (RESOURCE_OPS.has(op)) {
      const [type, next] = readLeb(body, pos + 1);
      return [{ kind: 'resource', op, type }, next];
    }
    throw new ToolchainError(`unexpected canon built-in ${op}`);
  });
}

export function encodeCanons(canons: Canon[]): number[] {
  const options = (list: CanonOption[]) => [...writeLeb(list.length), ...list.flatMap((o) => (o.index === undefined ? [o.code] : [o.code, ...writeLeb(o.index)]))];
  return encodeVector(canons, (c) => {
    if (c.kind === 'lift') return [LIFT, 0x00, ...writeLeb(c.coreFunc), ...options(c.options), ...writeLeb(c.type)];
    if (c.kind === 'lower') return [LOWER, 0x00, ...writeLeb(c.func), ...options(c.options)];
    return [c.op, ...writeLeb(c.type)];
  });
}
