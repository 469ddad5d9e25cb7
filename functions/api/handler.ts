import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV } from '../shared/env.ts';
import { powertools } from '../shared/lambda.ts';
import { stepFunctionsStarter } from '../shared/step-functions.ts';
import { createApiHandler } from './core.ts';

const { logger, tracer, metrics, deps } = powertools('api');
const stateMachineArn = process.env[ENV.stateMachineArn];
if (!stateMachineArn) throw new Error(`${ENV.stateMachineArn} is not set`);

/** The request API's Lambda: dependencies from the environment, executions started in Step Functions. */
export const handler = createApiHandler({
  ...deps,
  starter: stepFunctionsStarter(
    tracer.captureAWSv3Client(new SFNClient({ region: process.env.AWS_REGION })),
    stateMachineArn,
  ),
  logger,
})
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics));
