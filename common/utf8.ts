/**
 * UTF-8 for short strings on hot paths. TextDecoder has a fixed cost per call that dominates
 * for the 5-50 byte strings reflexes pass around (keys, methods, paths, header values);
 * ASCII is decoded by hand, anything else goes to TextDecoder.
 */
const decoder = new TextDecoder();

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(bytes.subarray(start, end));
  let out = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c > 0x7f) return decoder.decode(bytes.subarray(start, end));
    out += String.fromCharCode(c);
  }
  return out;
}
