/** A request body as reflexes see it (its first bytes) and as the upstream gets it (all of it). */
export interface BodyHead {
  /** At least `limit` bytes when the body is that long; all of it otherwise. */
  seen: Uint8Array;
  /** The whole body: `seen` when that was all, else a stream that replays `seen` and then reads on. */
  whole: Uint8Array | ReadableStream<Uint8Array>;
}

/**
 * Reads a body until `limit` bytes or its end, whichever comes first. The rest is never held:
 * a forward streams it on, so a body of any size costs the host at most `limit` plus a chunk.
 */
export async function readHead(body: ReadableStream<Uint8Array> | null, limit: number): Promise<BodyHead> {
  if (!body) return { seen: new Uint8Array(0), whole: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) {
      const seen = Buffer.concat(chunks, size);
      return { seen, whole: seen };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const seen = Buffer.concat(chunks, size);
  const whole = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(seen),
    pull: async (controller) => {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { seen, whole };
}
