import { lambdaHandler } from '../shared/lambda.ts';
import { connectDns } from './core.ts';

export const handler = lambdaHandler('connect-dns', connectDns);
