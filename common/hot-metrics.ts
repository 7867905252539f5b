import { Counter, type Histogram, type MetricValueWithName, type Registry } from 'prom-client';

/**
 * Metrics on a request path. prom-client checks and hashes the labels on every inc() and
 * observe() and builds a few objects each time: the four a Morpheus call records took about a
 * tenth of its CPU per request under load (A/B of bench/morpheus.bench.ts's gateway at 100
 * connections), and the host's three counters 2 % of the reflex chain's throughput. These keep
 * their counts in a map by label values and give them to the registry when it is scraped, so a
 * scrape reads them as prom-client's own counters and histograms.
 */

type Labels<L extends string> = Readonly<Record<L, string>>;

/** One series' key: its label values in the order of the label names. */
function seriesKey<L extends string>(names: readonly L[], labels: Labels<L>): string {
  let key = labels[names[0]];
  for (let i = 1; i < names.length; i++) key += `\0${labels[names[i]]}`;
  return key;
}

/** A copy of the labels, so that a caller's object, changed later, changes no series. */
function ownLabels<L extends string>(names: readonly L[], labels: Labels<L>): Record<L, string> {
  const own = {} as Record<L, string>;
  for (const name of names) own[name] = labels[name];
  return own;
}

export class HotCounter<L extends string> {
  private readonly counts = new Map<string, { labels: Record<L, string>; value: number }>();

  constructor(registry: Registry, name: string, help: string, private readonly labelNames: readonly L[]) {
    const counts = this.counts;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of counts.values()) this.inc(labels, value);
      },
    });
  }

  inc(labels: Labels<L>, by = 1): void {
    const key = seriesKey(this.labelNames, labels);
    const entry = this.counts.get(key);
    if (entry) entry.value += by;
    else this.counts.set(key, { labels: ownLabels(this.labelNames, labels), value: by });
  }
}

interface Series {
  labels: Record<string, string>;
  /** Per bucket, not cumulative; the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with prom-client's output (cumulative `_bucket` series with `le`, then `_sum` and
 * `_count`), registered as a metric of the registry's own kind: the registry asks a metric only
 * for its name, `get()`, `reset()` and `aggregator`.
 */
export class HotHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
  ) {
    registry.registerMetric(this as unknown as Histogram);
  }

  observe(labels: Labels<L>, value: number): void {
    const key = seriesKey(this.labelNames, labels);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { labels: ownLabels(this.labelNames, labels), counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }));
    let bucket = 0;
    while (bucket < this.buckets.length && value > this.buckets[bucket]) bucket++;
    series.counts[bucket]++;
    series.sum += value;
    series.count++;
  }

  reset(): void {
    this.series.clear();
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValueWithName<string>[] }> {
    const values: MetricValueWithName<string>[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => values.push({ metricName: bucketName, labels: { le, ...labels }, value: (cumulative += counts[i]) }));
      values.push({ metricName: bucketName, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
