import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { decideApproval } from '../shared/approval.ts';
import { ENV } from '../shared/env.ts';
import { powertools } from '../shared/lambda.ts';
import { slackSigningSecretFromSecret } from '../shared/slack-secret.ts';
import { stepFunctionsStarter } from '../shared/step-functions.ts';
import { createSlackInteractionsHandler } from './core.ts';

const { logger, tracer, metrics, deps } = powertools('slack-interactions');
const stateMachineArn = process.env[ENV.stateMachineArn];
if (!stateMachineArn) throw new Error(`${ENV.stateMachineArn} is not set`);
const signingSecretArn = process.env[ENV.slackSigningSecretArn];
if (!signingSecretArn) throw new Error(`${ENV.slackSigningSecretArn} is not set`);

const interactions = createSlackInteractionsHandler({
  deps: {
    ...deps,
    starter: stepFunctionsStarter(
      tracer.captureAWSv3Client(new SFNClient({ region: process.env.AWS_REGION })),
      stateMachineArn,
    ),
  },
  signingSecret: slackSigningSecretFromSecret(signingSecretArn, {
    onUnset: () =>
      logger.warn('the Slack signing secret holds no signing secret yet: every callback is refused', {
        secretArn: signingSecretArn,
      }),
  }),
  decide: decideApproval,
});

/** `POST /slack/interactions` behind API Gateway (no IAM authorization: Slack's signature is checked instead). */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event: APIGatewayProxyEvent) => interactions(event));
