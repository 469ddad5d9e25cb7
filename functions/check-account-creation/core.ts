import {
  CreateAccountStatusNotFoundException,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Deps } from '../shared/deps.ts';
import { aws, VendFailureError } from '../shared/errors.ts';
import type { CreationState, VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface CheckAccountCreationInput {
  request: VendRequest;
  creation: CreationState;
}

/**
 * Looks once at the account creation (the state machine waits between looks, never a Lambda) and says how long
 * to wait before the next look: each wait is `backoffRate` times the last, up to `maxWaitSeconds`, so the number
 * of polls grows with the logarithm of the creation time. Past the deadline it answers TIMED_OUT.
 */
export async function checkAccountCreation(
  deps: Deps,
  { request, creation }: CheckAccountCreationInput,
): Promise<CreationState> {
  return runStep<CreationState>(deps, request.requestId, 'waitForAccount', async () => {
    let status: Awaited<ReturnType<typeof describe>>;
    try {
      status = await describe(deps, creation.createAccountRequestId);
    } catch (error) {
      if (error instanceof CreateAccountStatusNotFoundException) {
        throw new VendFailureError(
          `Organizations has no record of account creation ${creation.createAccountRequestId}`,
          'Ask again; if it happens again, tell the platform team the request id.',
          { cause: error },
        );
      }
      throw error;
    }
    const waitedSeconds = creation.waitedSeconds + creation.waitSeconds;
    const polls = creation.polls + 1;
    const base = { createAccountRequestId: creation.createAccountRequestId, waitedSeconds, polls };
    if (status.State === 'SUCCEEDED' && status.AccountId) {
      await deps.requests.update(request.requestId, { accountId: status.AccountId });
      return {
        result: { ...base, state: 'SUCCEEDED', accountId: status.AccountId, waitSeconds: 0 },
        detail: `account ${status.AccountId} exists`,
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
