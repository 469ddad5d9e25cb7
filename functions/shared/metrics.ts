import type { MetricName } from './metrics-names.ts';

/**
 * Emits one count of a Vend metric. On AWS a function that reports metrics passes Powertools Metrics' `addMetric`
 * (embedded metric format, published when its invocation ends); locally and in tests it is a no-op unless a test
 * passes its own to watch what would be emitted.
 */
export type EmitMetric = (name: MetricName, value: number) => void;

/** Emits nothing. */
export const noMetrics: EmitMetric = () => undefined;
