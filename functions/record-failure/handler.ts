import { lambdaHandler } from '../shared/lambda.ts';
import { recordFailure } from './core.ts';

/** "Record failure" and "Record notification failure": records what went wrong and tells the requester. */
export const handler = lambdaHandler('record-failure', recordFailure);
