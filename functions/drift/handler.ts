import { lambdaHandler } from '../shared/lambda.ts';
import { handleDrift } from './core.ts';

export const handler = lambdaHandler('drift', handleDrift);
