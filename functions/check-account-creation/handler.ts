import { lambdaHandler } from '../shared/lambda.ts';
import { checkAccountCreation } from './core.ts';

export const handler = lambdaHandler('check-account-creation', checkAccountCreation);
