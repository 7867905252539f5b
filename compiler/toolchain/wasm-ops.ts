import { writeLeb } from '../../common/wasm-sections.ts';

// Wasm instructions as bytes, for the few functions the post-passes write themselves
// (pack-data's unpacker, the heap module's realloc).

export const local = {
  get: (l: number) => [0x20, l],
  set: (l: number) => [0x21, l],
  tee: (l: number) => [0x22, l],
};

export const i32 = (n: number) => [0x41, ...writeSleb(n)];

export const OP = {
  unreachable: 0x00,
  select: 0x1b,
  eq: 0x46,
  ltS: 0x48,
  ltU: 0x49,
  gtU: 0x4b,
  add: 0x6a,
  sub: 0x6b,
  and: 0x71,
  or: 0x72,
  shl: 0x74,
  shrU: 0x76,
} as const;

export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const LOOP = [0x03, 0x40];
export const memorySize = [0x3f, 0x00];
export const memoryGrow = [0x40, 0x00];
export const memoryCopy = [0xfc, 0x0a, 0x00, 0x00];
export const memoryFill = [0xfc, 0x0b, 0x00];
/** i32.load / i32.store, 4-byte aligned, at a constant offset from the address. */
export const load32 = (offset: number) => [0x28, 0x02, ...writeLeb(offset)];
export const store32 = (offset: number) => [0x36, 0x02, ...writeLeb(offset)];
export const call = (f: number) => [0x10, ...writeLeb(f)];

/** Signed LEB128, as i32.const and data offsets take it. */
export function readSleb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[pos++];
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 32 && byte & 0x40) result |= -1 << shift;
  return [result, pos];
}

export function writeSleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
