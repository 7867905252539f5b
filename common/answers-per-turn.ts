/**
 * Hands a turn's answers to the HTTP server together, once the event loop has run out of other
 * work for that turn (setImmediate runs after the poll phase that read the requests).
 *
 * Why: on loopback, the dearest part of answering is the socket write that wakes a client
 * waiting for it. Written as each answer is ready, writes alternate with request work, and
 * nearly every write wakes a sleeping client. Written back to back, the first wakes it and the
 * rest find it awake. Measured on the reflex host under 50 connections: the write took 28 µs a
 * response, and 9 µs with this; the chain served a quarter more requests a second. An answer
 * waits at most for the rest of its turn's requests to be handled.
 */
export function answersPerTurn<A extends unknown[], R>(handler: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
  let waiting: (() => void)[] = [];
  const releaseAll = () => {
    const released = waiting;
    waiting = [];
    for (const release of released) release();
  };
  return async (...args) => {
    const answer = await handler(...args);
    await new Promise<void>((release) => {
      if (waiting.push(release) === 1) setImmediate(releaseAll);
    });
    return answer;
  };
}
