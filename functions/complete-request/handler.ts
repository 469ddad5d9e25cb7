import { lambdaHandler } from '../shared/lambda.ts';
import { completeRequest } from './core.ts';

/** "Announce ready": records the vended account and tells the requester. */
export const handler = lambdaHandler('complete-request', completeRequest);
