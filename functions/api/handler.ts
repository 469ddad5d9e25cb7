import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV } from '../shared/env.ts';
import { depsFromEnv } from '../shared/lambda.ts';
import { stepFunctionsStarter } from '../shared/step-functions.ts';
import { createApiHandler } from './core.ts';

const logger = new Logger({ serviceName: 'vend-api' });
const stateMachineArn = process.env[ENV.stateMachineArn];
if (!stateMachineArn) throw new Error(`${ENV.stateMachineArn} is not set`);

/** The request API's Lambda: dependencies from the environment, executions started in Step Functions. */
export const handler = createApiHandler({
  ...depsFromEnv(process.env, {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  }),
  starter: stepFunctionsStarter(new SFNClient({ region: process.env.AWS_REGION }), stateMachineArn),
  logger,
});
