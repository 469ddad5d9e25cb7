/**
 * The metrics Vend's functions emit with Powertools Metrics (CloudWatch embedded metric format), and their
 * dimensions. The stack's dashboard and alarms read the same names (infra/ imports this module), so the two sides
 * cannot drift apart.
 */

/** The CloudWatch namespace of every Vend metric (Powertools `POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'Vend';

/** Metric names. Counts unless the name says otherwise. */
export const METRIC = {
  /** A request was accepted and its execution started (the API). */
  vendsRequested: 'VendsRequested',
  /** A request ended with a ready account (complete-request). */
  vendsSucceeded: 'VendsSucceeded',
  /** A request failed (record-failure), with dimension `Reason`. */
  vendsFailed: 'VendsFailed',
  /** Seconds from the request to the ready account (complete-request). */
  timeToReadySeconds: 'TimeToReadySeconds',
  /** A step was attempted again after a retryable failure, with dimension `Step`. */
  stepRetries: 'StepRetries',
  /** The drift function found an account away from its desired state. */
  driftDetected: 'DriftDetected',
  /** The drift function put an account back. */
  driftFixed: 'DriftFixed',
  /** A Slack message could not be delivered after its retries. */
  slackUndelivered: 'SlackUndelivered',
} as const;

/** Dimension names. */
export const METRIC_DIMENSION = {
  /** Why a vend failed: the mapped failure reason (never raw AWS text). */
  reason: 'Reason',
  /** Which workflow step was retried (its function folder). */
  step: 'Step',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
