import { randomUUID } from 'node:crypto';
import {
  ConstraintViolationException,
  CreateAccountCommand,
  type CreateAccountState,
  InvalidInputException,
  ListCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { requireServiceControlPolicies } from '../domain/guardrails.ts';
import type { Deps } from '../shared/deps.ts';
import {
  aws,
  ConcurrentModificationError,
  CreationSlotsFullError,
  ThrottledError,
  TransientError,
  VendFailureError,
} from '../shared/errors.ts';
import { type CreationState, type VendRequest, vendTags } from '../shared/model.ts';
import { retry } from '../shared/retry.ts';
import { runStep, type StepInput } from '../shared/steps.ts';

/** "Create account" gets the request id and the execution's identity only (see `StepInput`). */
export type CreateAccountInput = StepInput;

export type { CreationState };

/**
 * How long an attempt holds the lease on calling CreateAccount, in milliseconds: as long as the Task's
 * `TimeoutSeconds` (120), so longer than the function's own timeout (infra makes it 15 s shorter). Lambda ends an
 * attempt at its timeout, so a lease that expired belongs to an attempt that can no longer call CreateAccount.
 */
export const CREATION_LEASE_MS = 120_000;

/** Creations requested this long before the request was submitted are not ours (clock skew allowance). */
const ADOPTION_SKEW_MS = 5 * 60 * 1000;

/**
 * Asks Organizations for the account, exactly once per request. CreateAccount is called only under the request's
 * lease in the registry (`CREATION_LEASE_MS`): an attempt that finds another's lease live throws
 * ConcurrentModificationError for the state machine to retry. The CreateAccount request id is stored in the
 * registry before the lease is given back; a later attempt adopts it, and one that takes over a lease whose holder
 * may have called CreateAccount without recording the id (it crashed or timed out) first looks for that creation
 * among the organization's recent ones under the account's reserved name.
 */
export async function createAccount(deps: Deps, input: CreateAccountInput): Promise<CreationState> {
  return runStep(
    deps,
    input,
    'createAccount',
    async (record) => {
      const { request } = record;
      const recorded = (id: string, how: string) => {
        const result: CreationState = {
          createAccountRequestId: id,
          state: 'IN_PROGRESS',
          waitSeconds: deps.config.creation.firstWaitSeconds,
          waitedSeconds: 0,
          polls: 0,
        };
        return { result, detail: `CreateAccount ${id} (${how})` };
      };
      if (record.createAccountRequestId) return recorded(record.createAccountRequestId, 'recorded earlier');

      const owner = randomUUID();
      const taken = await deps.requests.takeCreationLease(
        request.requestId,
        { owner, expiresAt: deps.now() + CREATION_LEASE_MS },
        deps.now(),
      );
      if (!taken) {
        throw new ConcurrentModificationError(
          `another attempt holds the lease on creating the account of request ${request.requestId}`,
        );
      }
      const { previous } = taken;
      // Nothing certain about CreateAccount until it answers: an attempt that ends without knowing keeps
      // `creationCalled`, and the next holder looks before calling again.
      let nothingCreated = true;
      try {
        if (previous.createAccountRequestId) {
          await deps.requests.setCreateAccountRequestId(request.requestId, previous.createAccountRequestId);
          return recorded(previous.createAccountRequestId, 'recorded earlier');
        }
        if (previous.creationCalled || previous.creationLease) {
          nothingCreated = false;
          const found = await findEarlierCreation(deps, request);
          if (found) {
            await deps.requests.setCreateAccountRequestId(request.requestId, found);
            return recorded(found, 'found among recent creations');
          }
          nothingCreated = true;
        }
        // Before anything is created: the account is quarantined as soon as it exists, which needs SCPs enabled.
        await requireServiceControlPolicies(deps);
        if (!(await deps.requests.markCreationCalled(request.requestId, owner))) {
          throw new ConcurrentModificationError(
            `the lease on creating the account of request ${request.requestId} passed to another attempt`,
          );
        }
        nothingCreated = false;
        const id = await requestCreation(deps, request).catch((error: unknown) => {
          if (isRefusal(error)) nothingCreated = true;
          throw error;
        });
        await deps.requests.setCreateAccountRequestId(request.requestId, id);
        return recorded(id, 'requested');
      } finally {
        await deps.requests.releaseCreationLease(request.requestId, owner, nothingCreated);
      }
    },
    'creating',
  );
}

/** Organizations answered CreateAccount with a refusal: it created nothing. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof CreationSlotsFullError ||
    error instanceof VendFailureError ||
    error instanceof ThrottledError ||
    error instanceof ConcurrentModificationError
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
      if (error.Reason === 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED') throw await rateLimitError(deps, error);
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

/**
 * What ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED means this time. AWS's sources disagree on the limit behind it: the
 * JavaScript SDK's model (ConstraintViolationException) says "the number of accounts that can be in progress at a
 * time", the AWS SDK for Ruby and Java API references "the number of accounts that you can create in one day".
 * Both limits exist, so the organization's creations in progress tell them apart: with some in progress the slots
 * are full, and a wait of minutes frees one; with none it is the daily limit, and only tomorrow (or AWS Support)
 * helps, so the request fails now with that advice instead of retrying for hours.
 */
async function rateLimitError(deps: Deps, cause: ConstraintViolationException): Promise<Error> {
  const page = await readCreationsPage(deps, undefined, ['IN_PROGRESS']);
  if ((page.CreateAccountStatuses ?? []).length > 0 || page.NextToken) {
    return new CreationSlotsFullError('Organizations is creating as many accounts as it allows at once', {
      cause,
    });
  }
  return new VendFailureError(
    'the organization has created as many accounts as AWS allows in a day',
    'Ask again tomorrow, or ask the platform team to contact AWS Support about the account creation limit.',
    { cause },
  );
}

/**
 * The organization's creation of this request's account, if an earlier attempt made one. ListCreateAccountStatus
 * documents no order for its results (the SDK model and the API reference say nothing of one), so every page is
 * read; creations requested before the request was submitted (less a skew allowance) are never adopted.
 */
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
function readCreationsPage(
  deps: Deps,
  token: string | undefined,
  states: CreateAccountState[] = ['IN_PROGRESS', 'SUCCEEDED'],
) {
  return retry(
    () =>
      aws(
        deps.client(OrganizationsClient).send(
          new ListCreateAccountStatusCommand({
            States: states,
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
