import {
  CreateAccountStatusNotFoundException,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { accountContext, converge } from '../domain/converger.ts';
import { guardrailsConverger } from '../domain/guardrails.ts';
import type { Deps } from '../shared/deps.ts';
import { aws, VendFailureError } from '../shared/errors.ts';
import type { CreationState } from '../shared/model.ts';
import { runStep, type StepInput } from '../shared/steps.ts';

/** The request id, the execution's identity, and the creation's bookkeeping (its waits and polls so far). */
export interface CheckAccountCreationInput extends StepInput {
  creation: CreationState;
}

/**
 * Looks once at the account creation (the state machine waits between looks, never a Lambda) and says how long
 * to wait before the next look: each wait is `backoffRate` times the last, up to `maxWaitSeconds`, so the number
 * of polls grows with the logarithm of the creation time. Past the deadline it answers TIMED_OUT. Once the account
 * exists, before anything else happens in it, it attaches `vend-quarantine` (creating the policy when the
 * organization lacks it): until the request completes, nobody but Vend can act in the account.
 */
export async function checkAccountCreation(
  deps: Deps,
  input: CheckAccountCreationInput,
): Promise<CreationState> {
  const { creation } = input;
  return runStep<CreationState>(deps, input, 'waitForAccount', async (record) => {
    // The creation this request made is the registry's; the execution's state only counts the waits.
    const createAccountRequestId = record.createAccountRequestId;
    if (!createAccountRequestId) {
      throw new VendFailureError(
        `request ${record.requestId} records no account creation`,
        'Ask again; if it happens again, tell the platform team the request id.',
      );
    }
    let status: Awaited<ReturnType<typeof describe>>;
    try {
      status = await describe(deps, createAccountRequestId);
    } catch (error) {
      if (error instanceof CreateAccountStatusNotFoundException) {
        throw new VendFailureError(
          `Organizations has no record of account creation ${createAccountRequestId}`,
          'Ask again; if it happens again, tell the platform team the request id.',
          { cause: error },
        );
      }
      throw error;
    }
    const waitedSeconds = creation.waitedSeconds + creation.waitSeconds;
    const polls = creation.polls + 1;
    const base = { createAccountRequestId, waitedSeconds, polls };
    if (status.State === 'SUCCEEDED' && status.AccountId) {
      await deps.requests.update(record.requestId, { accountId: status.AccountId, status: 'configuring' });
      await converge(
        guardrailsConverger,
        { policies: [], quarantined: true },
        accountContext(deps, status.AccountId),
      );
      return {
        result: { ...base, state: 'SUCCEEDED', accountId: status.AccountId, waitSeconds: 0 },
        detail: `account ${status.AccountId} exists; quarantined until it is ready`,
      };
    }
    if (status.State === 'FAILED') {
      const reason = status.FailureReason ?? 'UNKNOWN';
      return {
        result: { ...base, state: 'FAILED', failureReason: reason, waitSeconds: 0 },
        detail: `creation failed: ${reason}`,
      };
    }
    const { backoffRate, maxWaitSeconds, deadlineMinutes } = deps.config.creation;
    const deadlineSeconds = deadlineMinutes * 60;
    if (waitedSeconds >= deadlineSeconds) {
      return {
        result: { ...base, state: 'TIMED_OUT', waitSeconds: 0 },
        detail: `not created after ${Math.round(waitedSeconds / 60)} minutes`,
      };
    }
    const next = Math.min(
      Math.ceil(creation.waitSeconds * backoffRate),
      maxWaitSeconds,
      deadlineSeconds - waitedSeconds,
    );
    return {
      result: { ...base, state: 'IN_PROGRESS', waitSeconds: Math.max(1, next) },
      detail: `still in progress after ${waitedSeconds} s`,
    };
  });
}

async function describe(deps: Deps, id: string) {
  try {
    const { CreateAccountStatus } = await deps
      .client(OrganizationsClient)
      .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id }));
    if (!CreateAccountStatus) throw new Error(`DescribeCreateAccountStatus ${id} returned nothing`);
    return CreateAccountStatus;
  } catch (error) {
    if (error instanceof CreateAccountStatusNotFoundException) throw error;
    return aws(Promise.reject(error));
  }
}
