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
