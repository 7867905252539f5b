import { describe, expect, it } from 'vitest';
import { readHead } from '../../cytoplasm/body-head.ts';

/** A body that arrives in the given chunks, counting how many were read. */
function chunked(parts: string[]) {
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === parts.length) return controller.close();
      controller.enqueue(new TextEncoder().encode(parts[state.pulled++]));
    },
  });
  return { stream, state };
}

const text = async (whole: Uint8Array | ReadableStream<Uint8Array>) => (whole instanceof Uint8Array ? Buffer.from(whole).toString() : new Response(whole).text());

describe('readHead', () => {
  it('holds a body shorter than the limit whole', async () => {
    const head = await readHead(chunked(['ab', 'cd']).stream, 10);
    expect(Buffer.from(head.seen).toString()).toBe('abcd');
    expect(head.whole).toBeInstanceOf(Uint8Array);
  });

  it('stops reading at the limit, and the whole body still streams on in order', async () => {
    const { stream, state } = chunked(['abc', 'def', 'ghi', 'jkl']);
    const head = await readHead(stream, 5);
    expect(Buffer.from(head.seen).toString()).toBe('abcdef');
    expect(state.pulled).toBeLessThanOrEqual(3);
    expect(await text(head.whole)).toBe('abcdefghijkl');
    expect(state.pulled).toBe(4);
  });

  it('takes no body as an empty one', async () => {
    const head = await readHead(null, 5);
    expect(head.seen.byteLength).toBe(0);
    expect(await text(head.whole)).toBe('');
  });
});
