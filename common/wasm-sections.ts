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

const MODULE_EXPORT = 7;

/** The export names of a core module, read off its export section (no compile). */
export function moduleExportNames(module: Uint8Array): string[] {
  const section = [...sectionsOf(module)].find((s) => s.id === MODULE_EXPORT);
  if (!section) return [];
  let [count, pos] = readLeb(module, section.body);
  const names: string[] = [];
  for (; count > 0; count--) {
    const [name, kindAt] = readName(module, pos);
    names.push(name);
    [, pos] = readLeb(module, kindAt + 1);
  }
  return names;
}
