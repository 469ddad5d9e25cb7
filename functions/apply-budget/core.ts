import { type ApplyBudgetOutput, convergeBudget } from '../domain/budget.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and what to set up come from the registry. */
export type ApplyBudgetInput = StepInput;

export type { ApplyBudgetOutput };

/**
 * Gives the new account its monthly cost budget, with an alert per threshold to the owner and the
 * organization's subscribers. Safe to run again: it converges, changing only what differs; the first attempt
 * creates first.
 */
export async function applyBudget(deps: Deps, input: ApplyBudgetInput): Promise<ApplyBudgetOutput> {
  return runStep(deps, input, 'applyBudget', async (record, attempt) => {
    const { request } = record;
    const accountId = accountOf(record);
    const { output, changeLog } = await convergeBudget(
      deps,
      accountId,
      { accountName: request.accountName, owner: request.owner, budget: request.budget },
      { writeFirst: attempt === 1 },
    );
    const detail =
      output.action === 'unchanged'
        ? `budget ${output.budgetName} already in place`
        : `budget ${output.budgetName} ${output.action}: ${changeLog.join('; ')}`;
    return { result: output, detail: detail.length > 1000 ? `${detail.slice(0, 997)}...` : detail };
  });
}
