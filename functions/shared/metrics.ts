import type { MetricName } from './metrics-names.ts';

/**
 * Where the functions' metrics go: Powertools Metrics (CloudWatch embedded metric format) on AWS, an in-memory
 * recorder locally and in tests. Names and dimension names come from `metrics-names.ts`, which the stack's
 * dashboard and alarms read too.
 */
export interface MetricsRecorder {
  /**
   * Adds `value` to metric `name` (a count; seconds for a name ending in `Seconds`), with `dimensions` when given.
   * Dimension values are short codes (a failure reason, a step name), never free text.
   */
  count(name: MetricName, value?: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** One metric value as emitted. */
export interface EmittedMetric {
  name: MetricName;
  value: number;
  dimensions: Record<string, string>;
}

/** Keeps what is emitted in `emitted`, oldest first: the local runtime's and the tests' metrics. */
export class MemoryMetrics implements MetricsRecorder {
  readonly emitted: EmittedMetric[] = [];

  count(name: MetricName, value = 1, dimensions: Readonly<Record<string, string>> = {}): void {
    this.emitted.push({ name, value, dimensions: { ...dimensions } });
  }

  /** The sum of metric `name` over the values whose dimensions include `dimensions`. */
  total(name: MetricName, dimensions: Readonly<Record<string, string>> = {}): number {
    return this.emitted
      .filter(
        (metric) =>
          metric.name === name &&
          Object.entries(dimensions).every(([key, value]) => metric.dimensions[key] === value),
      )
      .reduce((sum, metric) => sum + metric.value, 0);
  }
}
