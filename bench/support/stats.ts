/** Small statistics and table printing shared by every benchmark. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export interface Summary {
  n: number;
  median: number;
  p99: number;
  mean: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
  return { n: sorted.length, median: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Times `fn` per call in microseconds, after a warm-up; returns one sample per batch of `batch` calls. */
export function timeSync(fn: () => unknown, { iterations = 20_000, batch = 100, warmup = 2_000 } = {}): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let done = 0; done < iterations; done += batch) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / batch);
  }
  return samples;
}

export async function timeAsync(fn: () => Promise<unknown>, { iterations = 2_000, warmup = 200 } = {}): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples;
}

export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  return value.toFixed(digits);
}

/** Prints a Markdown-style table so the output pastes straight into an issue note. */
export function printTable(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of cells) console.log(line(r));
}
