import { lambdaHandler } from '../shared/lambda.ts';
import { sweepDrift } from './core.ts';

export const handler = lambdaHandler('drift-sweep', sweepDrift);
