import { describe, expect, it } from 'vitest';
import { decodeUtf8 } from '../../common/utf8.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('decodeUtf8', () => {
  it('decodes ASCII, multi-byte text and empty ranges between the offsets given', () => {
    for (const text of ['', 'ratelimit-policy', '"bench-limit";q=60;w=60', 'café', '日本語 ok', '🦀', 'x'.repeat(300) + 'é']) {
      const bytes = new Uint8Array([0xff, ...utf8(text), 0xff]);
      expect(decodeUtf8(bytes, 1, bytes.length - 1)).toBe(text);
    }
  });

  it('reads a view into a larger buffer (guest memory) at the view\'s own offsets', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const all = new Uint8Array(memory.buffer);
    all.set(utf8('--key--é'), 100);
    const view = all.subarray(100);
    expect(decodeUtf8(view, 2, 5)).toBe('key');
    expect(decodeUtf8(view, 7, 9)).toBe('é');
  });
});
