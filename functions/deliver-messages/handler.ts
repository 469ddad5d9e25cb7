import { lambdaHandler } from '../shared/lambda.ts';
import { deliverMessages } from './core.ts';

/** The outbox deliverer, run every minute by an EventBridge schedule: retries the Slack messages not delivered yet. */
export const handler = lambdaHandler('deliver-messages', deliverMessages);
