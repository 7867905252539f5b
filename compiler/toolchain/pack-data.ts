import { appendToVector, assemble, encodeSection, EXTERN_KIND, MODULE_SECTION, moduleImports, readLeb, sectionsOf, writeLeb, type Section } from '../../common/wasm-sections.ts';
import { call, ELSE, END, i32, IF, local, LOOP, memoryCopy, memoryFill, OP, readSleb, writeSleb } from './wasm-ops.ts';

// A post-pass on the core module: AssemblyScript's static data (string literals, two bytes a
// character, each behind a 20-byte header) is stored as tokens over 16-bit words (one byte for
// an ASCII character, one for a run of zeros, two or three for a copy of words seen before),
// and a start function unpacks it in place before anything else runs. Memory after start is
// byte for byte what the data segments would have written; the data section shrinks to a
// third (1.6 to 2.2 KB of a reflex), for about a microsecond per instantiation.

const { type: TYPE, function: FUNCTION, memory: MEMORY, start: START, code: CODE, data: DATA, dataCount: DATA_COUNT } = MODULE_SECTION;

/**
 * Token bytes, over 16-bit words: below 0x80 an ASCII word; 0x80-0xbf a run of 1-64 zero words;
 * 0xc0-0xfe a copy of 2-64 earlier words, then their distance back in words (one byte below 128,
 * else two: low 7 bits | 0x80, high bits); ESCAPE then any other word.
 */
const ASCII_LIMIT = 0x80;
const ZERO_RUN = 0x80;
const COPY = 0xc0;
const ESCAPE = 0xff;
const MAX_RUN = 64;
const MAX_DISTANCE = 1 << 14;
const PAGE = 65536;
/** The order of a module's sections (custom sections aside). */
const S = MODULE_SECTION;
const ORDER: number[] = [S.type, S.import, S.function, S.table, S.memory, S.global, S.export, S.start, S.element, S.dataCount, S.code, S.data];

interface Segment {
  offset: number;
  bytes: Uint8Array;
}

/** The packed module, or the input unchanged when its layout is not the one asc emits or packing would not pay. */
export function packStaticData(core: Uint8Array): Uint8Array {
  const sections = [...sectionsOf(core)];
  const find = (id: number) => sections.find((s) => s.id === id);
  const data = find(DATA);
  const memory = find(MEMORY);
  if (!data || !memory) return core;
  const segments = activeSegments(core, data);
  if (!segments || segments.length === 0) return core;

  const start = Math.min(...segments.map((s) => s.offset)) & ~1;
  const end = (Math.max(...segments.map((s) => s.offset + s.bytes.length)) + 1) & ~1;
  const image = new Uint8Array(end - start);
  for (const s of segments) image.set(s.bytes, s.offset - start);
  const { tokens, lead } = encode(image);
  // Unpacking runs forwards over the same memory; the blob sits far enough up that the words
  // written never reach the bytes not yet read.
  const blobAt = start + lead;
  if (blobAt + tokens.length > minimumPages(core, memory) * PAGE) return core;

  const oldStart = find(START) ? readLeb(core, find(START)!.body)[0] : null;
  const functions = find(FUNCTION);
  const imported = moduleImports(core).filter((i) => i.kind === EXTERN_KIND.func).length;
  const voidType = oldStart === null ? findVoidType(core, find(TYPE)) : typeOfFunction(core, functions, imported, oldStart);
  if (voidType === null) return core;
  const definedCount = functions ? readLeb(core, functions.body)[0] : 0;
  const unpackIndex = imported + definedCount;
  const body = unpackerBody(start, blobAt, blobAt + tokens.length, end, oldStart);

  const replaced = new Map<number, Uint8Array>([
    [FUNCTION, appendToVector(core, FUNCTION, functions, writeLeb(voidType))],
    [CODE, appendToVector(core, CODE, find(CODE), [...writeLeb(body.length), ...body])],
    [DATA, encodeSection(DATA, [1, 0, 0x41, ...writeSleb(blobAt), 0x0b, ...writeLeb(tokens.length), ...tokens])],
    [START, encodeSection(START, writeLeb(unpackIndex))],
  ]);
  if (find(DATA_COUNT)) replaced.set(DATA_COUNT, encodeSection(DATA_COUNT, [1]));
  // Sections the module lacked go in, in section order, before the first one that follows them.
  const missing = [...replaced.keys()].filter((id) => !find(id)).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const out: Uint8Array[] = [];
  for (const s of sections) {
    while (missing.length > 0 && ORDER.indexOf(missing[0]) < ORDER.indexOf(s.id)) out.push(replaced.get(missing.shift()!)!);
    out.push(replaced.get(s.id) ?? core.subarray(s.start, s.end));
  }
  const packed = assemble(core.subarray(0, 8), out);
  return packed.length < core.length ? packed : core;
}

/** Active segments of memory 0 at constant offsets; null when any is otherwise. */
function activeSegments(core: Uint8Array, data: Section): Segment[] | null {
  let [count, pos] = readLeb(core, data.body);
  const segments: Segment[] = [];
  while (count-- > 0) {
    if (core[pos++] !== 0 || core[pos++] !== 0x41) return null;
    let offset: number;
    [offset, pos] = readSleb(core, pos);
    if (core[pos++] !== 0x0b) return null;
    let length: number;
    [length, pos] = readLeb(core, pos);
    segments.push({ offset, bytes: core.subarray(pos, pos + length) });
    pos += length;
  }
  return segments;
}

/**
 * The image as tokens (greedy: the longest earlier copy where it is cheaper than the words
 * themselves), and how far above the image's start the tokens must sit so that the write
 * position stays at or below the read position throughout.
 */
function encode(image: Uint8Array): { tokens: Uint8Array; lead: number } {
  const words = Array.from({ length: image.length >> 1 }, (_, i) => image[2 * i] | (image[2 * i + 1] << 8));
  const literal = (from: number, count: number): number[] => {
    const out: number[] = [];
    for (let at = from; at < from + count; ) {
      const word = words[at];
      if (word === 0) {
        const run = Math.min(zeroRun(words, at), from + count - at);
        out.push(ZERO_RUN | (run - 1));
        at += run;
        continue;
      }
      out.push(...(word < ASCII_LIMIT ? [word] : [ESCAPE, word & 0xff, word >> 8]));
      at++;
    }
    return out;
  };
  const tokens: number[] = [];
  let lead = 0;
  for (let at = 0; at < words.length; ) {
    const [length, distance] = longestCopy(words, at);
    const copy = distance < 128 ? [COPY | (length - 2), distance] : [COPY | (length - 2), (distance & 0x7f) | 0x80, distance >> 7];
    if (length >= 2 && copy.length < literal(at, length).length) {
      tokens.push(...copy);
      at += length;
    } else {
      // One word (or one zero run) at a time, so that a copy can start right after it.
      const step = words[at] === 0 ? zeroRun(words, at) : 1;
      tokens.push(...literal(at, step));
      at += step;
    }
    lead = Math.max(lead, 2 * at - tokens.length);
  }
  return { tokens: Uint8Array.from(tokens), lead };
}

function zeroRun(words: number[], at: number): number {
  let run = 0;
  while (run < MAX_RUN && at + run < words.length && words[at + run] === 0) run++;
  return run;
}

/** The longest run of earlier words equal to the words at `at`, ending before `at` (a copy never overlaps itself). */
function longestCopy(words: number[], at: number): [length: number, distance: number] {
  let best: [number, number] = [0, 0];
  for (let from = Math.max(0, at - MAX_DISTANCE + 1); from < at; from++) {
    let length = 0;
    while (length < MAX_RUN && from + length < at && at + length < words.length && words[from + length] === words[at + length]) length++;
    if (length > best[0]) best = [length, at - from];
  }
  return best;
}

/**
 * `() -> ()`: r = blob, w = image; per token: ASCII word, escaped word, zero run, or copy;
 * until r reaches the blob's end; then zeros over what is left of the blob past the image (the
 * module's memory there started zeroed); then the module's own start function, if it had one.
 */
function unpackerBody(image: number, blob: number, blobEnd: number, imageEnd: number, oldStart: number | null): number[] {
  const [R, W, B, N] = [0, 1, 2, 3];
  const { get, set, tee } = local;
  const { add, sub, and, or, shl, ltU, eq } = OP;
  const loadByte = (offset: number) => [0x2d, 0x00, offset];
  const advance = (l: number, n: number) => [...get(l), ...i32(n), add, ...set(l)];
  const storeWord = [0x3b, 0x00, 0x00]; // i32.store16 align=1
  // N = bytes the token writes: ((b & 0x3f) + extra) * 2
  const runBytes = (extra: number) => [...get(B), ...i32(0x3f), and, ...i32(extra), add, ...i32(1), shl, ...set(N)];
  const instructions = [
    ...i32(blob), ...set(R),
    ...i32(image), ...set(W),
    ...LOOP,
    ...get(R), ...loadByte(0), ...set(B),
    ...advance(R, 1),
    ...get(B), ...i32(ASCII_LIMIT), ltU, ...IF,
    ...get(W), ...get(B), ...storeWord,
    ...advance(W, 2),
    ...ELSE,
    ...get(B), ...i32(ESCAPE), eq, ...IF,
    ...get(W), ...get(R), 0x2f, 0x00, 0x00, ...storeWord, // store16(w, load16_u(r))
    ...advance(R, 2),
    ...advance(W, 2),
    ...ELSE,
    ...get(B), ...i32(COPY), ltU, ...IF,
    ...runBytes(1),
    ...get(W), ...i32(0), ...get(N), ...memoryFill, // memory.fill(w, 0, n)
    ...ELSE,
    ...runBytes(2),
    // B = distance in words: one byte, or two when the first has its top bit set
    ...get(R), ...loadByte(0), ...tee(B), ...i32(0x80), and, ...IF,
    ...get(B), ...i32(0x7f), and, ...get(R), ...loadByte(1), ...i32(7), shl, or, ...set(B),
    ...advance(R, 1),
    ...END,
    ...advance(R, 1),
    ...get(W), ...get(W), ...get(B), ...i32(1), shl, sub, ...get(N), ...memoryCopy, // memory.copy(w, w - 2b, n)
    ...END,
    ...get(W), ...get(N), add, ...set(W),
    ...END,
    ...END,
    ...get(R), ...i32(blobEnd), ltU, 0x0d, 0x00, // br_if loop while r < end
    ...END, // loop
    ...(blobEnd > imageEnd ? [...i32(imageEnd), ...i32(0), ...i32(blobEnd - imageEnd), ...memoryFill] : []),
    ...(oldStart === null ? [] : call(oldStart)),
    ...END,
  ];
  return [1, 4, 0x7f, ...instructions]; // four i32 locals
}

/** The type of a defined function (null for an imported one). */
function typeOfFunction(core: Uint8Array, functions: Section | undefined, imported: number, index: number): number | null {
  if (index < imported || !functions) return null;
  let [, pos] = readLeb(core, functions.body);
  let type = 0;
  for (let i = 0; i <= index - imported; i++) [type, pos] = readLeb(core, pos);
  return type;
}

/** The index of a `() -> ()` function type. */
function findVoidType(core: Uint8Array, types: Section | undefined): number | null {
  if (!types) return null;
  let [count, pos] = readLeb(core, types.body);
  for (let index = 0; index < count; index++) {
    if (core[pos++] !== 0x60) return null;
    const [params, afterParams] = readLeb(core, pos);
    const [results, afterResults] = readLeb(core, afterParams + params);
    if (params === 0 && results === 0) return index;
    pos = afterResults + results;
  }
  return null;
}

function minimumPages(core: Uint8Array, memory: Section): number {
  const [, pos] = readLeb(core, memory.body);
  return readLeb(core, pos + 1)[0];
}
