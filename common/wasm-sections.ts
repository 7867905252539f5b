/**
 * The top-level sections of a Wasm binary (module or component): after the 8-byte preamble,
 * each section is an id byte, a LEB128 size and a body. The compiler strips sections this
 * way, the reflex host finds core modules this way.
 */
export interface Section {
  id: number;
  /** Offset of the id byte. */
  start: number;
  /** Offset of the body. */
  body: number;
  /** Offset just past the body. */
  end: number;
}

export function readLeb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

export function* sectionsOf(binary: Uint8Array): Generator<Section> {
  let pos = 8;
  while (pos < binary.length) {
    const [size, body] = readLeb(binary, pos + 1);
    yield { id: binary[pos], start: pos, body, end: body + size };
    pos = body + size;
  }
}

export function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** A name (LEB128 length + UTF-8 bytes) at `pos`. */
export function readName(bytes: Uint8Array, pos: number): [name: string, next: number] {
  const [length, start] = readLeb(bytes, pos);
  return [new TextDecoder().decode(bytes.subarray(start, start + length)), start + length];
}

export function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...writeLeb(bytes.length), ...bytes];
}

/** Reassembles a binary from its 8-byte preamble and sections, each given as its whole bytes. */
export function assemble(preamble: Uint8Array, sections: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(sections.reduce((n, part) => n + part.length, preamble.length));
  out.set(preamble);
  let offset = preamble.length;
  for (const part of sections) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function encodeSection(id: number, body: ArrayLike<number>): Uint8Array {
  const size = writeLeb(body.length);
  const out = new Uint8Array(1 + size.length + body.length);
  out[0] = id;
  out.set(size, 1);
  out.set(body, 1 + size.length);
  return out;
}

/** Section ids of a core module. */
export const MODULE_SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12,
} as const;

/** Section ids of a component. */
export const COMPONENT_SECTION = {
  custom: 0, coreModule: 1, coreInstance: 2, coreType: 3, component: 4, instance: 5, alias: 6, type: 7, canon: 8, start: 9, import: 10, export: 11,
} as const;

/** Import and export kinds of a core module. */
export const EXTERN_KIND = { func: 0x00, table: 0x01, memory: 0x02, global: 0x03 } as const;

export interface ModuleImport {
  module: string;
  name: string;
  kind: number;
  /** The entry's bytes from its kind on (kind, then type index or limits), as encoded. */
  descriptor: Uint8Array;
}

/** The imports of a core module, read off its import section. */
export function moduleImports(module: Uint8Array): ModuleImport[] {
  const section = [...sectionsOf(module)].find((s) => s.id === MODULE_SECTION.import);
  if (!section) return [];
  let [count, pos] = readLeb(module, section.body);
  const imports: ModuleImport[] = [];
  const skipLimits = () => {
    const flags = module[pos++];
    [, pos] = readLeb(module, pos);
    if (flags & 1) [, pos] = readLeb(module, pos);
  };
  for (; count > 0; count--) {
    const [moduleName, nameAt] = readName(module, pos);
    const [name, kindAt] = readName(module, nameAt);
    const kind = module[kindAt];
    pos = kindAt + 1;
    if (kind === EXTERN_KIND.func) [, pos] = readLeb(module, pos);
    else if (kind === EXTERN_KIND.table) {
      pos++; // element type
      skipLimits();
    } else if (kind === EXTERN_KIND.memory) skipLimits();
    else pos += 2; // global: value type, mutability
    imports.push({ module: moduleName, name, kind, descriptor: module.subarray(kindAt, pos) });
  }
  return imports;
}

export interface ModuleExport {
  name: string;
  /** The whole entry as encoded (name, kind, index). */
  entry: Uint8Array;
}

/** The exports of a core module, read off its export section (no compile). */
export function moduleExports(module: Uint8Array): ModuleExport[] {
  const section = [...sectionsOf(module)].find((s) => s.id === MODULE_SECTION.export);
  if (!section) return [];
  let [count, pos] = readLeb(module, section.body);
  const exports: ModuleExport[] = [];
  for (; count > 0; count--) {
    const [name, kindAt] = readName(module, pos);
    const [, next] = readLeb(module, kindAt + 1);
    exports.push({ name, entry: module.subarray(pos, next) });
    pos = next;
  }
  return exports;
}

export const moduleExportNames = (module: Uint8Array): string[] => moduleExports(module).map((e) => e.name);

/** Section `id` with `entry` appended to its vector (`section` as found in `binary`), or a new one holding only it. */
export function appendToVector(binary: Uint8Array, id: number, section: Section | undefined, entry: ArrayLike<number>): Uint8Array {
  if (!section) return encodeSection(id, [1, ...Array.from(entry)]);
  const [count, items] = readLeb(binary, section.body);
  return encodeSection(id, [...writeLeb(count + 1), ...binary.subarray(items, section.end), ...Array.from(entry)]);
}
