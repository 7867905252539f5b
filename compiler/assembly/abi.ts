// Canonical-ABI plumbing shared by every generated reflex: allocation for the host,
// a per-call arena, fixed return areas, and little-endian readers and writers.
//
// Memory discipline: nothing is allocated at module start. Every export resets the heap when
// the host is done with its result (post-return), so a reflex's memory stays flat over any
// number of calls and a trap mid-call leaks nothing.

/** Scratch area where imports write their results (`retptr`). 64 bytes, 8-aligned. */
export const RET: usize = memory.data(64, 8);

/**
 * wit-component wants this export before it lowers an import that returns a string or a list.
 * The component then allocates through its heap module's realloc instead (heap-module.ts), and
 * this export is removed from it: never called.
 */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  unreachable();
  return 0;
}

/** Frees everything allocated since the call began. */
export function resetArena(): void {
  __reset();
}

// UTF-8 both ways, with the standard library's results (lone surrogates encoded as three bytes,
// as WTF-8 does; a sequence cut short at the end dropped; no checks beyond those) in a third of
// its code: one loop per direction, a code point at a time.

/**
 * Room to make for `s` as UTF-8: the longest it can be (3 bytes a UTF-16 unit) when that is
 * small, so a string is encoded in one pass; its exact length when long, so a long body does not
 * need three times its size in a small memory.
 */
export function utf8Room(s: string): i32 {
  const length = s.length;
  if (length <= 1024) return length * 3;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) == 0xd800 && i + 1 < length && (s.charCodeAt(i + 1) & 0xfc00) == 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 at `out` (with utf8Room(s) bytes of room) and returns the byte count. */
export function encodeUtf8(s: string, out: usize): i32 {
  const at = changetype<usize>(s);
  const length = s.length;
  let n = 0;
  for (let i = 0; i < length; i++) {
    let c = <u32>load<u16>(at + (<usize>i << 1));
    if (c < 0x80) {
      store<u8>(out + <usize>n, c);
      n++;
      continue;
    }
    if ((c & 0xfc00) == 0xd800 && i + 1 < length) {
      const next = <u32>load<u16>(at + (<usize>(i + 1) << 1));
      if ((next & 0xfc00) == 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (next & 0x3ff);
        i++;
      }
    }
    const extra: u32 = c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
    const to = out + <usize>n;
    store<u8>(to, ((0xff00 >> (extra + 1)) & 0xff) | (c >> (6 * extra)));
    for (let k: u32 = 1; k <= extra; k++) store<u8>(to + <usize>k, 0x80 | ((c >> (6 * (extra - k))) & 63));
    n += <i32>extra + 1;
  }
  return n;
}

/** Room beyond the encoding is given back once written: the buffer is the arena's newest allocation. */
export function utf8(s: string): ArrayBuffer {
  const out = __new(<usize>utf8Room(s), idof<ArrayBuffer>());
  return changetype<ArrayBuffer>(__renew(out, <usize>encodeUtf8(s, out)));
}

export function strFrom(ptr: usize, len: i32): string {
  const out = changetype<usize>(__new(<usize>len << 1, idof<string>()));
  const end = ptr + <usize>len;
  let to = out;
  while (ptr < end) {
    let c = <u32>load<u8>(ptr++);
    if (c >= 0x80) {
      const extra: u32 = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : 3;
      if (ptr + <usize>extra > end) break;
      c &= 0x3f >> extra;
      for (let k: u32 = 0; k < extra; k++) c = (c << 6) | (<u32>load<u8>(ptr++) & 63);
      if (c >= 0x10000) {
        c -= 0x10000;
        store<u16>(to, 0xd800 | (c >> 10));
        to += 2;
        c = 0xdc00 | (c & 0x3ff);
      }
    }
    store<u16>(to, c);
    to += 2;
  }
  return changetype<string>(__renew(out, to - out));
}

export class Bytes {
  constructor(public ptr: usize, public len: i32) {}
  toString(): string {
    return strFrom(this.ptr, this.len);
  }
}

export class Reader {
  pos: usize;
  end: usize;
  constructor(ptr: usize, len: i32) {
    this.pos = ptr;
    this.end = ptr + <usize>len;
  }
  u8(): u32 {
    if (this.pos + 1 > this.end) unreachable();
    const v = <u32>load<u8>(this.pos);
    this.pos += 1;
    return v;
  }
  u16(): u32 {
    if (this.pos + 2 > this.end) unreachable();
    const v = <u32>load<u16>(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): u32 {
    if (this.pos + 4 > this.end) unreachable();
    const v = load<u32>(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(len: u32): Bytes {
    if (this.pos + <usize>len > this.end) unreachable();
    const b = new Bytes(this.pos, <i32>len);
    this.pos += <usize>len;
    return b;
  }
  str(): string {
    const n = this.u16();
    return this.bytes(n).toString();
  }
}

export class Writer {
  ptr: usize;
  len: i32 = 0;
  cap: i32;
  constructor(cap: i32 = 256) {
    this.cap = cap;
    this.ptr = heap.alloc(<usize>cap);
  }
  private reserve(n: i32): void {
    if (this.len + n <= this.cap) return;
    let cap = this.cap * 2;
    while (cap < this.len + n) cap *= 2;
    this.ptr = heap.realloc(this.ptr, <usize>cap);
    this.cap = cap;
  }
  u8(v: u32): void {
    this.reserve(1);
    store<u8>(this.ptr + <usize>this.len, <u8>v);
    this.len += 1;
  }
  u16(v: u32): void {
    this.reserve(2);
    store<u16>(this.ptr + <usize>this.len, <u16>v);
    this.len += 2;
  }
  u32(v: u32): void {
    this.reserve(4);
    store<u32>(this.ptr + <usize>this.len, v);
    this.len += 4;
  }
  raw(ptr: usize, n: i32): void {
    this.reserve(n);
    memory.copy(this.ptr + <usize>this.len, ptr, <usize>n);
    this.len += n;
  }
  /** u16 length, then UTF-8 bytes. */
  str(s: string): void {
    const at = this.len;
    this.utf8(s, 2);
    store<u16>(this.ptr + <usize>at, <u16>(this.len - at - 2));
  }
  /** u32 length, then UTF-8 bytes. */
  text(s: string): void {
    const at = this.len;
    this.utf8(s, 4);
    store<u32>(this.ptr + <usize>at, <u32>(this.len - at - 4));
  }
  /** `s` after room for a length field of `width` bytes. */
  private utf8(s: string, width: i32): void {
    this.reserve(width + utf8Room(s));
    this.len += width + encodeUtf8(s, this.ptr + <usize>(this.len + width));
  }
  /** Writes the (ptr, len) pair a list-returning export hands back. */
  finish(): usize {
    store<u32>(RET, <u32>this.ptr);
    store<u32>(RET, <u32>this.len, 4);
    return RET;
  }
}

// --- small text helpers (no regex, no allocation-heavy std calls on the hot path) ---

export function parseI64(s: string): i64 {
  let v: i64 = 0;
  let neg = false;
  let i = 0;
  if (s.length > 0 && s.charCodeAt(0) == 45) {
    neg = true;
    i = 1;
  }
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + <i64>(c - 48);
  }
  return neg ? -v : v;
}

/**
 * Decimal text of an integer. The standard toString brings two formatters (32- and 64-bit, with
 * every radix) and their digit tables: 400 bytes of a rate limit.
 */
export function decimal(value: i64): string {
  return value < 0 ? '-' + digits(<u64>-value, 10) : digits(<u64>value, 10);
}

/** Room for the digits of any u64 in any radix from 2, written backwards before the string is made. */
const DIGITS: usize = memory.data(128);

/** Digits of `value` in `radix` (lower-case letters past 9): one division a digit. */
export function digits(value: u64, radix: u64): string {
  let at = DIGITS + 128;
  do {
    const next = value / radix;
    const digit = <u32>(value - next * radix);
    at -= 2;
    store<u16>(at, digit < 10 ? 48 + digit : 87 + digit);
    value = next;
  } while (value != 0);
  const size = DIGITS + 128 - at;
  const out = __new(size, idof<string>());
  memory.copy(out, at, size);
  return changetype<string>(out);
}

/** Parses a decimal integer from raw bytes (KV values are decimal text). */
export function parseI64At(ptr: usize, len: i32): i64 {
  let v: i64 = 0;
  let neg = false;
  let i = 0;
  if (len > 0 && load<u8>(ptr) == 45) {
    neg = true;
    i = 1;
  }
  for (; i < len; i++) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c < 48 || c > 57) break;
    v = v * 10 + <i64>(c - 48);
  }
  return neg ? -v : v;
}

export function ceilDiv(a: i64, b: i64): i64 {
  return a <= 0 ? 0 : (a + b - 1) / b;
}

/**
 * ASCII lower case. HTTP field names, schemes and routing keywords are ASCII; the standard
 * toLowerCase carries Unicode case tables that would triple a component's size.
 */
export function lowerAscii(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
  }
  if (i == s.length) return s;
  // One copy, lowered in place: appending a character at a time left every intermediate string
  // in the arena, O(n²) bytes, and a body of a few KB ran out of memory.
  const size = <usize>s.length << 1;
  const out = changetype<string>(__new(size, idof<string>()));
  memory.copy(changetype<usize>(out), changetype<usize>(s), size);
  for (; i < s.length; i++) {
    const at = changetype<usize>(out) + (<usize>i << 1);
    const c = load<u16>(at);
    if (c >= 65 && c <= 90) store<u16>(at, c + 32);
  }
  return out;
}

/** Whether `text` contains `lower` (ASCII lower case), ignoring ASCII case, without a lowered copy of `text`. */
export function includesIgnoringCase(text: string, lower: string): bool {
  const m = lower.length;
  for (let i = 0; i + m <= text.length; i++) {
    let j = 0;
    while (j < m && foldAscii(text.charCodeAt(i + j)) == lower.charCodeAt(j)) j++;
    if (j == m) return true;
  }
  return false;
}

// @ts-ignore: decorator
@inline function foldAscii(c: i32): i32 {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * Non-negative decimal with at most `places` fraction digits, trailing zeros dropped
 * (1 -> "1", 0.25 -> "0.25"), matching JavaScript's String(n) for such values. Avoids the
 * standard f64 toString, whose shortest-representation code is a large share of a component.
 */
export function formatDecimal(v: f64, places: i32 = 6): string {
  let scale: i64 = 1;
  for (let i = 0; i < places; i++) scale *= 10;
  const n = <i64>Math.floor(v * <f64>scale + 0.5);
  let out = decimal(n / scale);
  let frac = n % scale;
  if (frac == 0) return out;
  let width = places;
  while (frac % 10 == 0) {
    frac /= 10;
    width--;
  }
  const text = decimal(frac);
  out += '.';
  for (let i = text.length; i < width; i++) out += '0';
  return out + text;
}
