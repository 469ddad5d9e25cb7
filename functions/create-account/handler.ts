import { lambdaHandler } from '../shared/lambda.ts';
import { createAccount } from './core.ts';

export const handler = lambdaHandler('create-account', createAccount);
