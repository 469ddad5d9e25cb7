import { randomInt } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { configFromEnv } from './config.ts';
import { buildDeps, type Deps } from './deps.ts';
import { ENV } from './env.ts';
import { checkWebhookUrl, slackWebhookFromSecret } from './slack-secret.ts';

/** The resolution of the jitter's random source (the largest range `randomInt` takes). */
const RANDOM_RANGE = 2 ** 48 - 1;

/**
 * Builds a step's dependencies from a Lambda environment; throws at init when the configuration is invalid. The
 * Slack webhook comes from the secret named by `ENV.slackWebhookSecretArn` when set (AWS), else from
 * `ENV.slackWebhookUrl` (local).
 */
export function depsFromEnv(
  env: NodeJS.ProcessEnv,
  log: Deps['log'],
  observability: { metrics?: Deps['metrics']; instrument?: <C>(client: C) => C } = {},
): Deps {
  const tableName = env[ENV.tableName];
  if (!tableName) throw new Error(`${ENV.tableName} is not set`);
  // Checked at init, and never allowed on a loopback address: that is for the local pipeline, which sets it in code.
  const configured = env[ENV.slackWebhookUrl];
  const webhook = configured ? checkWebhookUrl(configured) : undefined;
  const secretArn = env[ENV.slackWebhookSecretArn];
  return buildDeps({
    config: configFromEnv(env),
    aws: {
      region: env.AWS_REGION ?? 'us-east-1',
      ...(observability.instrument ? { instrument: observability.instrument } : {}),
    },
    tableName,
    // On AWS the URL lives in a secret that only the notifying functions may read; locally it is given directly.
    slackWebhookUrl: secretArn
      ? slackWebhookFromSecret(secretArn, {
          onUnset: () => log.warn('the Slack webhook secret holds no https URL yet', { secretArn }),
        })
      : async () => webhook,
    // Each Lambda instance jitters on its own: a seed shared by instances would make their retries collide.
    random: () => randomInt(RANDOM_RANGE) / RANDOM_RANGE,
    log,
    ...(observability.metrics ? { metrics: observability.metrics } : {}),
  });
}

/**
 * Vend's metrics through Powertools Metrics (embedded metric format, namespace from
 * `POWERTOOLS_METRICS_NAMESPACE`). A metric without dimensions joins the invocation's batch, which the `logMetrics`
 * middleware flushes; one with dimensions goes out at once as a single metric, so its dimensions stay its own.
 */
export function powertoolsMetrics(metrics: Metrics): Deps['metrics'] {
  return {
    count(name, value = 1, dimensions = {}) {
      const unit = name.endsWith('Seconds') ? MetricUnit.Seconds : MetricUnit.Count;
      const entries = Object.entries(dimensions);
      if (entries.length === 0) {
        metrics.addMetric(name, unit, value);
        return;
      }
      const single = metrics.singleMetric();
      for (const [key, dimension] of entries) single.addDimension(key, dimension);
      single.addMetric(name, unit, value);
    },
  };
}

/**
 * A function's Powertools objects (Logger, Tracer, Metrics) and its dependencies built from the environment, with
 * every AWS client traced and metrics going to Powertools Metrics. Built once, at module scope.
 */
export function powertools(service: string) {
  const logger = new Logger({ serviceName: `vend-${service}` });
  const tracer = new Tracer({ serviceName: `vend-${service}` });
  const metrics = new Metrics({ serviceName: `vend-${service}` });
  const log: Deps['log'] = {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  const deps = depsFromEnv(process.env, log, {
    metrics: powertoolsMetrics(metrics),
    instrument: (client) => tracer.captureAWSv3Client(client),
  });
  return { logger, tracer, metrics, deps };
}

/**
 * A step's Lambda handler: Powertools tracing, logging and metrics around the step's core function, with its
 * dependencies built once at cold start (every AWS client traced). The core gets the Lambda context too (the
 * sweep reads its remaining time). `handler.ts` files only call this; the logic lives in `core.ts`.
 */
export function lambdaHandler<I, O>(
  service: string,
  core: (deps: Deps, input: I, context: Context) => Promise<O>,
) {
  const { logger, tracer, metrics, deps } = powertools(service);
  return middy<I, O>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .handler((input: I, context: Context) => core(deps, input, context));
}
