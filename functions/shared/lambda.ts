import { randomInt } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
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
export function depsFromEnv(env: NodeJS.ProcessEnv, log: Deps['log']): Deps {
  const tableName = env[ENV.tableName];
  if (!tableName) throw new Error(`${ENV.tableName} is not set`);
  // Checked at init, and never allowed on a loopback address: that is for the local pipeline, which sets it in code.
  const configured = env[ENV.slackWebhookUrl];
  const webhook = configured ? checkWebhookUrl(configured) : undefined;
  const secretArn = env[ENV.slackWebhookSecretArn];
  return buildDeps({
    config: configFromEnv(env),
    aws: { region: env.AWS_REGION ?? 'us-east-1' },
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
  });
}

/**
 * A step's Lambda handler: Powertools logging around the step's core function, with its dependencies built
 * once at cold start. `handler.ts` files only call this; the logic lives in `core.ts`.
 */
export function lambdaHandler<I, O>(service: string, core: (deps: Deps, input: I) => Promise<O>) {
  const logger = new Logger({ serviceName: `vend-${service}` });
  const log: Deps['log'] = {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  const deps = depsFromEnv(process.env, log);
  return middy<I, O>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .handler((input: I) => core(deps, input));
}
