import { lambdaHandler } from '../shared/lambda.ts';
import { applyBaseline } from './core.ts';

export const handler = lambdaHandler('apply-baseline', applyBaseline);
