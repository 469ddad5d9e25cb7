import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV } from '../shared/env.ts';
import { lambdaHandler } from '../shared/lambda.ts';
import { stepFunctionsStarter } from '../shared/step-functions.ts';
import { reapRequests } from './core.ts';

const stateMachineArn = process.env[ENV.stateMachineArn];
if (!stateMachineArn) throw new Error(`${ENV.stateMachineArn} is not set`);
const executions = stepFunctionsStarter(new SFNClient({ region: process.env.AWS_REGION }), stateMachineArn);

/** The reaper's Lambda, run by an EventBridge schedule: the steps' dependencies and the state machine's executions. */
export const handler = lambdaHandler('reap-requests', (deps) => reapRequests({ ...deps, executions }));
