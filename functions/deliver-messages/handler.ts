import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler } from '../shared/lambda.ts';
import { METRICS_NAMESPACE } from '../shared/metrics-names.ts';
import { deliverMessages } from './core.ts';

const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: 'vend-deliver-messages',
});

/** The outbox deliverer, run every minute by an EventBridge schedule: retries the Slack messages not delivered yet. */
export const handler = lambdaHandler('deliver-messages', async (deps, input: unknown) => {
  try {
    return await deliverMessages(
      { ...deps, metric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value) },
      input,
    );
  } finally {
    metrics.publishStoredMetrics();
  }
});
