/**
 * CloudWatch Embedded Metric Format (EMF): metrics written as one JSON log line per invocation,
 * which CloudWatch Logs turns into metrics with no API call from the function. The document shape
 * is AWS's specification (CloudWatch_Embedded_Metric_Format_Specification):
 *
 *   { "_aws": { "Timestamp": <ms>, "CloudWatchMetrics": [{ "Namespace": …, "Dimensions": [["service", "route"]],
 *               "Metrics": [{ "Name": "Requests", "Unit": "Count" }, …] }] },
 *     "service": …, "route": …, "Requests": 1, "ConsumerLag": [5, 40], … }
 *
 * Why not Powertools Metrics (used until issue 17): 10 KB of every bundle (with Powertools commons,
 * which the logger shared) and ~11 ms of every cold start, against the ≤ 400 KB / ≤ 100 ms budget per
 * API function, for what is this one JSON shape. The documents are the ones Powertools wrote: same
 * namespace, dimension set (`service` always, then the dimensions added for the invocation, cleared
 * at each publish), metric names and units; a metric recorded several times is an array of values.
 */
/** The CloudWatch units the broker uses (the spec's names). */
export type MetricUnit = "Count" | "Milliseconds" | "Bytes";

/** The spec's limits: ≤ 100 metrics per directive, ≤ 100 values per metric. */
const MAX_METRICS = 100;
const MAX_VALUES = 100;

export interface EmfMetricsOptions {
  readonly namespace: string;
  /** The `service` dimension, on every document. */
  readonly serviceName: string;
}

export class EmfMetrics {
  private readonly values = new Map<string, { unit: MetricUnit; values: number[] }>();
  private dimensions: Record<string, string> = {};

  constructor(private readonly options: EmfMetricsOptions) {}

  /** A dimension for the metrics of this publish only (e.g. the invocation's route). */
  addDimension(name: string, value: string): void {
    this.dimensions[name] = value;
  }

  addMetric(name: string, unit: MetricUnit, value: number): void {
    const stored = this.values.get(name);
    // A full metric or document is published first, as the spec requires (Powertools too); the
    // invocation's dimensions stay for the rest of it.
    if ((stored && stored.values.length >= MAX_VALUES) || (!stored && this.values.size >= MAX_METRICS)) this.flush(false);
    const entry = this.values.get(name);
    if (entry) entry.values.push(value);
    else this.values.set(name, { unit, values: [value] });
  }

  /** Writes the stored metrics as one EMF document (nothing when none), then forgets them and the dimensions. */
  publishStoredMetrics(): void {
    this.flush(true);
  }

  private flush(clearDimensions: boolean): void {
    if (this.values.size > 0) {
      const dimensions = { service: this.options.serviceName, ...this.dimensions };
      const document: Record<string, unknown> = {
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [{ Namespace: this.options.namespace, Dimensions: [Object.keys(dimensions)], Metrics: [...this.values].map(([name, m]) => ({ Name: name, Unit: m.unit })) }],
        },
        ...dimensions,
      };
      for (const [name, m] of this.values) document[name] = m.values.length === 1 ? m.values[0] : m.values;
      // A line of its own on stdout, which Lambda ships to CloudWatch Logs.
      process.stdout.write(`${JSON.stringify(document)}\n`);
      this.values.clear();
    }
    if (clearDimensions) this.dimensions = {};
  }
}
