/**
 * UTF-8 for short strings on hot paths. TextDecoder has a fixed cost per call that dominates
 * for the 5-50 byte strings reflexes pass around (keys, methods, paths, header values), and a
 * string built a character at a time is a rope V8 must flatten before hashing it. ASCII, which
 * reads the same as Latin-1, is sliced out whole by Node's Buffer code; anything else goes to
 * TextDecoder.
 */
const decoder = new TextDecoder();
// A Buffer method that accepts any Uint8Array (guest memory included), without a Buffer copy.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) if (bytes[i] > 0x7f) return decoder.decode(bytes.subarray(start, end));
  return latin1Slice.call(bytes, start, end);
}
