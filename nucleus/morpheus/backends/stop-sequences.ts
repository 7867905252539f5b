/**
 * Stop sequences applied by Morpheus, for a backend that cannot apply them itself (the claude
 * CLI has no such option): the answer ends where the first of them begins, without it.
 */

/** Where the earliest of `stops` begins in `text`, and which one; null when none does. */
export function firstStop(text: string, stops: readonly string[]): { at: number; sequence: string } | null {
  let found: { at: number; sequence: string } | null = null;
  for (const sequence of stops) {
    if (!sequence) continue;
    const at = text.indexOf(sequence);
    if (at >= 0 && (found === null || at < found.at)) found = { at, sequence };
  }
  return found;
}

/**
 * Cuts streamed text at the first stop sequence, which may span pieces: the last characters of
 * what came, as many as the longest sequence has less one, wait for the next piece to tell
 * whether they begin one.
 */
export class StopScanner {
  private held = '';
  private readonly holdBack: number;

  constructor(private readonly stops: readonly string[]) {
    this.holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  /** The text that can go out now; with `stopped`, the sequence found, after which nothing goes out. */
  push(text: string): { out: string; stopped?: string } {
    const seen = this.held + text;
    const stop = firstStop(seen, this.stops);
    if (stop) {
      this.held = '';
      return { out: seen.slice(0, stop.at), stopped: stop.sequence };
    }
    const cut = Math.max(0, seen.length - this.holdBack);
    this.held = seen.slice(cut);
    return { out: seen.slice(0, cut) };
  }

  /** What was held back, once the answer has ended with no stop sequence in it. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}
