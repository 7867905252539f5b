/**
 * How much of a refused body a server still reads and drops before it answers. A client that is
 * still sending when the answer comes gets its connection reset and never sees the 413; reading
 * the rest first lets it. Past this, the connection is cut: a refusal is not worth more bandwidth.
 */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/** Reads a web body to its end and drops it, up to DISCARD_LIMIT_BYTES. */
export async function discardBody(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body || body.locked) return;
  const reader = body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > DISCARD_LIMIT_BYTES) return void (await reader.cancel());
    }
  } catch {
    // The client went away: nothing left to answer.
  }
}
