import { lambdaHandler } from '../shared/lambda.ts';
import { grantAccess } from './core.ts';

export const handler = lambdaHandler('grant-access', grantAccess);
