import {
  ConstraintViolationException,
  CreateAccountCommand,
  InvalidInputException,
  ListCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Deps } from '../shared/deps.ts';
import {
  aws,
  CreationSlotsFullError,
  ThrottledError,
  TransientError,
  VendFailureError,
} from '../shared/errors.ts';
import { type CreationState, type VendRequest, vendTags } from '../shared/model.ts';
import { retry } from '../shared/retry.ts';
import { runStep } from '../shared/steps.ts';

export interface CreateAccountInput {
  request: VendRequest;
}

export type { CreationState };

/** How a refusal for full creation slots is recorded as the step's last error (`Name: message`). */
const SLOTS_FULL = `${new CreationSlotsFullError('').name}:`;

/** Creations requested this long before the request was submitted are not ours (clock skew allowance). */
const ADOPTION_SKEW_MS = 5 * 60 * 1000;

/**
 * Asks Organizations for the account, exactly once per request. The CreateAccount request id is stored in the
 * registry before the step returns; a retried step (after a timeout or a crash) first looks for it there, then,
 * in case the crash came between CreateAccount and the registry write, among the organization's recent
 * creations under the account's reserved name, and adopts what it finds instead of calling again.
 */
export async function createAccount(deps: Deps, { request }: CreateAccountInput): Promise<CreationState> {
  return runStep(
    deps,
    request.requestId,
    'createAccount',
    async (record, attempt) => {
      let id = record.createAccountRequestId;
      let how = 'recorded earlier';
      // The attempt before this one ended with Organizations refusing CreateAccount for full creation slots,
      // after it had made sure (by looking, or by the same reasoning) that nothing was created before it: so
      // nothing was created since the last look, and this attempt need not read the organization's creations
      // again. Under a burst, most attempts are such retries. Each attempt's start clears the last error, so
      // one that crashed after CreateAccount leaves none, and the next attempt looks.
      const refusedLast = record.steps.createAccount?.lastError?.startsWith(SLOTS_FULL) === true;
      if (!id && attempt > 1 && !refusedLast) {
        id = await findEarlierCreation(deps, request);
        how = 'found among recent creations';
      }
      if (!id) {
        id = await requestCreation(deps, request);
        how = 'requested';
      }
      await deps.requests.setCreateAccountRequestId(request.requestId, id);
      const result: CreationState = {
        createAccountRequestId: id,
        state: 'IN_PROGRESS',
        waitSeconds: deps.config.creation.firstWaitSeconds,
        waitedSeconds: 0,
        polls: 0,
      };
      return { result, detail: `CreateAccount ${id} (${how})` };
    },
    'creating',
  );
}

async function requestCreation(deps: Deps, request: VendRequest): Promise<string> {
  try {
    // CreateAccount has no idempotency token: an SDK retry after a lost response could create a second account.
    // The state machine retries the whole step instead, and the step looks for its earlier creation first.
    const { CreateAccountStatus } = await deps.client(OrganizationsClient, { maxAttempts: 1 }).send(
      new CreateAccountCommand({
        AccountName: request.accountName,
        Email: request.email,
        RoleName: deps.config.organization.accessRoleName,
        IamUserAccessToBilling: 'ALLOW',
        Tags: Object.entries(vendTags(request)).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    if (!CreateAccountStatus?.Id) throw new Error('CreateAccount returned no request id');
    return CreateAccountStatus.Id;
  } catch (error) {
    if (error instanceof ConstraintViolationException) {
      if (error.Reason === 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED') {
        throw new CreationSlotsFullError('Organizations is creating as many accounts as it allows at once', {
          cause: error,
        });
      }
      if (error.Reason === 'ACCOUNT_NUMBER_LIMIT_EXCEEDED') {
        throw new VendFailureError(
          'the organization is at its account quota',
          'Ask your platform team to raise the "Default maximum number of accounts" quota of AWS Organizations (Service Quotas console, or AWS Support), then ask again.',
          { cause: error },
        );
      }
      throw new VendFailureError(
        `Organizations refused to create the account (${error.Reason ?? 'constraint violated'})`,
        'Ask your platform team: the organization has hit a limit.',
        {
          cause: error,
        },
      );
    }
    if (error instanceof InvalidInputException) {
      throw new VendFailureError(
        `Organizations refused the account's details (${error.Reason ?? 'invalid input'})`,
        'Check the account name and email, then ask again.',
        { cause: error },
      );
    }
    return aws(Promise.reject(error));
  }
}

async function findEarlierCreation(deps: Deps, request: VendRequest): Promise<string | undefined> {
  const since = Date.parse(request.submittedAt) - ADOPTION_SKEW_MS;
  let token: string | undefined;
  do {
    const page = await readCreationsPage(deps, token);
    for (const status of page.CreateAccountStatuses ?? []) {
      if (
        status.AccountName === request.accountName &&
        (status.RequestedTimestamp?.getTime() ?? 0) >= since &&
        status.Id
      )
        return status.Id;
    }
    token = page.NextToken;
  } while (token);
  return undefined;
}

/** Tries for one page of the search for an earlier creation. */
const PAGE_TRIES = 5;

/**
 * One page of the organization's recent creations. The search reads every page, so it grows with the
 * organization; a page throttled or failed on AWS's side is read again (reads are safe to repeat), so that one
 * of many reads does not fail the whole step.
 */
function readCreationsPage(deps: Deps, token: string | undefined) {
  return retry(
    () =>
      aws(
        deps.client(OrganizationsClient).send(
          new ListCreateAccountStatusCommand({
            States: ['IN_PROGRESS', 'SUCCEEDED'],
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      ),
    {
      retryable: (error) => error instanceof ThrottledError || error instanceof TransientError,
      maxAttempts: PAGE_TRIES,
      baseDelayMs: 400,
      random: deps.random,
      sleep: deps.sleep,
    },
  );
}
