/**
 * Resolves after the first SIGTERM or SIGINT, once `shutdown` has finished: long-running
 * commands drain and exit 0 on either signal.
 */
export function untilStopped(shutdown: (signal: NodeJS.Signals) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void shutdown(signal).then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
