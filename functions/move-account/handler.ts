import { lambdaHandler } from '../shared/lambda.ts';
import { moveAccount } from './core.ts';

export const handler = lambdaHandler('move-account', moveAccount);
