import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

export type MetricsJson = ReadonlyArray<MetricObjectWithValues<MetricValue<string>>>;

/**
 * One registry of the metrics of every thread (main, each SIP worker, TURN, media), as
 * `registry.getMetricsAsJSON()` gave them: samples of one name and label set are combined by the
 * metric's `aggregator` (counters summed; gauges as each declares: `sum`, or `max` for
 * replicated figures; per-thread gauges carry a `thread` label and so stay apart).
 */
export function aggregateMetrics(parts: readonly MetricsJson[]): Registry {
  // prom-client's aggregate() reads each metric's name, type, help and aggregator
  return AggregatorRegistry.aggregate(parts.filter((p) => p.length > 0) as MetricObjectWithValues<MetricValue<string>>[][]);
}

/** The sum of a metric's samples whose labels include `labels` (0 when absent). */
export function sumOf(metrics: MetricsJson, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const m = metrics.find((x) => x.name === name);
  if (m === undefined) return 0;
  let n = 0;
  for (const v of m.values) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) n += v.value;
  }
  return n;
}
