import { lambdaHandler } from '../shared/lambda.ts';
import { applyBudget } from './core.ts';

export const handler = lambdaHandler('apply-budget', applyBudget);
