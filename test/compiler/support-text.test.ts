import { beforeAll, describe, expect, it } from 'vitest';
import { compileAssemblyScript } from '../../compiler/toolchain/asc.ts';

// The support library's UTF-8 codec and number formatting (compiler/assembly/abi.ts) against
// AssemblyScript's own, compiled into one module and fed the same inputs: valid text of every
// width, lone and paired surrogates, stray continuation bytes, overlong and out-of-range
// sequences, sequences cut short; integers of every length, in decimal and hex.
const FIXTURE = `
import { decimal, digits, resetArena, strFrom, utf8, utf8Room } from './abi';
export function alloc(n: i32): usize { return heap.alloc(<usize>n); }
export function reset(): void { resetArena(); }
export function text(ptr: usize, units: i32): usize {
  const s = __new(<usize>units << 1, idof<string>());
  memory.copy(s, ptr, <usize>units << 1);
  return s;
}
export function decodeOurs(ptr: usize, len: i32): usize { return changetype<usize>(strFrom(ptr, len)); }
export function decodeStd(ptr: usize, len: i32): usize { return changetype<usize>(String.UTF8.decodeUnsafe(ptr, <usize>len, false)); }
export function encodeOurs(s: usize): usize { return changetype<usize>(utf8(changetype<string>(s))); }
export function encodeStd(s: usize): usize { return changetype<usize>(String.UTF8.encode(changetype<string>(s), false)); }
export function roomOurs(s: usize): i32 { return utf8Room(changetype<string>(s)); }
export function byteLengthStd(s: usize): i32 { return String.UTF8.byteLength(changetype<string>(s)); }
export function decimalOurs(v: i64): usize { return changetype<usize>(decimal(v)); }
export function hexOurs(v: u64): usize { return changetype<usize>(digits(v, 16)); }
`;

interface Codec {
  memory: WebAssembly.Memory;
  alloc(n: number): number;
  reset(): void;
  text(ptr: number, units: number): number;
  decodeOurs(ptr: number, len: number): number;
  decodeStd(ptr: number, len: number): number;
  encodeOurs(s: number): number;
  encodeStd(s: number): number;
  roomOurs(s: number): number;
  byteLengthStd(s: number): number;
  decimalOurs(v: bigint): number;
  hexOurs(v: bigint): number;
}

let codec: Codec;

beforeAll(async () => {
  const core = await compileAssemblyScript(FIXTURE, { renames: {}, meteredExports: ['decodeOurs', 'decodeStd', 'encodeOurs', 'encodeStd', 'decimalOurs', 'hexOurs'], fuelBudget: 1_000_000, maxMemoryPages: 4 });
  codec = new WebAssembly.Instance(new WebAssembly.Module(core.slice()), {}).exports as unknown as Codec;
});

/** An object's payload: its size is the u32 just before it. */
function payload(ptr: number): Uint8Array {
  const view = new DataView(codec.memory.buffer);
  return new Uint8Array(codec.memory.buffer, ptr, view.getUint32(ptr - 4, true)).slice();
}

function put(bytes: Uint8Array): number {
  const ptr = codec.alloc(bytes.length);
  new Uint8Array(codec.memory.buffer).set(bytes, ptr);
  return ptr;
}

/** A deterministic generator (xorshift), so a failure names an input that can be run again. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pick = <T>(next: () => number, items: T[]): T => items[Math.floor(next() * items.length)];

describe('text in the support library', () => {
  it('decodes every byte sequence as the standard library does', () => {
    const next = random(7);
    const pieces = [[0x41], [0x7f], [0xc3, 0xa9], [0xe2, 0x9c, 0x93], [0xf0, 0x9f, 0x99, 0x82], [0x80], [0xbf], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf7, 0xbf, 0xbf, 0xbf], [0xff], [0xe2], [0xf0, 0x9f], [0x00]];
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from(Array.from({ length: Math.floor(next() * 8) }, () => pick(next, pieces)).flat());
      codec.reset();
      const ptr = put(bytes);
      expect(payload(codec.decodeOurs(ptr, bytes.length)), `bytes ${Buffer.from(bytes).toString('hex')}`).toEqual(payload(codec.decodeStd(ptr, bytes.length)));
    }
    codec.reset();
    const valid = new TextEncoder().encode('ascii, café, ✓, 🙂, 中文');
    expect(Buffer.from(payload(codec.decodeOurs(put(valid), valid.length))).toString('utf16le')).toBe('ascii, café, ✓, 🙂, 中文');
  });

  it('encodes every string, lone surrogates included, as the standard library does', () => {
    const next = random(11);
    const units = [0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2713, 0xffff, 0xd83d, 0xde42, 0xdbff, 0xdc00, 0xdfff, 0xd800, 0];
    // Short strings, and long ones (past 1,024 units the encoder counts before it writes).
    for (let round = 0; round < 2050; round++) {
      const text = Uint16Array.from({ length: round < 2000 ? Math.floor(next() * 8) : 1000 + Math.floor(next() * 600) }, () => pick(next, units));
      codec.reset();
      const s = codec.text(put(new Uint8Array(text.buffer)), text.length);
      expect(payload(codec.encodeOurs(s)), `units ${[...text].map((u) => u.toString(16)).join(' ')}`).toEqual(payload(codec.encodeStd(s)));
      // The room made before encoding: three bytes a unit when short, the exact length when long.
      const exact = codec.byteLengthStd(s);
      expect(codec.roomOurs(s)).toBe(text.length <= 1024 ? 3 * text.length : exact);
    }
    codec.reset();
    const sample = 'café ✓ 🙂';
    const s = codec.text(put(new Uint8Array(Uint16Array.from({ length: sample.length }, (_, i) => sample.charCodeAt(i)).buffer)), sample.length);
    expect(payload(codec.encodeOurs(s))).toEqual(new TextEncoder().encode(sample));
  });

  it('writes integers as JavaScript does, in decimal and in hex', () => {
    const text = (ptr: number) => Buffer.from(payload(ptr)).toString('utf16le');
    const next = random(13);
    const values = [0n, 1n, 9n, 10n, 99n, 100n, -1n, -10n, 1_700_000_000_000_000n, 2n ** 63n - 1n, -(2n ** 63n) + 1n];
    for (let round = 0; round < 200; round++) values.push(BigInt.asIntN(64, BigInt(Math.floor(next() * 2 ** 32)) * BigInt(Math.floor(next() * 2 ** 32))) >> BigInt(Math.floor(next() * 63)));
    for (const v of values) {
      codec.reset();
      expect(text(codec.decimalOurs(v))).toBe(v.toString());
      expect(text(codec.hexOurs(BigInt.asUintN(64, v)))).toBe(BigInt.asUintN(64, v).toString(16));
    }
  });
});
