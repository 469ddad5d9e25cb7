import {
  CreateAccountStatusNotFoundException,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { isQuarantined } from '../domain/guardrails.ts';
import type { Deps } from '../shared/deps.ts';
import { aws } from '../shared/errors.ts';
import { explainCreationFailure } from '../shared/failure-reasons.ts';
import { METRIC, METRIC_DIMENSION } from '../shared/metrics-names.ts';
import { type RequestFailure, type RequestRecord, STEP_NAMES, type StepName } from '../shared/model.ts';
import { tellRequesterOfFailure } from '../shared/slack.ts';
import { checkExecution, type StepInput } from '../shared/steps.ts';

/** What a Catch puts in the state: the error's name and its cause (for a Lambda error, JSON with `errorMessage`). */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/** The account creation as the state carries it (see create-account), read defensively. */
interface CreationInState {
  createAccountRequestId?: string;
  state?: string;
  accountId?: string;
  failureReason?: string;
  waitedSeconds?: number;
}

/**
 * Both failure states pass the request id and the execution's identity. "Record failure" adds the whole execution
 * state (`state`: the caught error and the bookkeeping so far); "Record notification failure" the error and
 * `stage: 'notify'`. The request itself comes from the registry.
 */
export interface RecordFailureInput extends StepInput {
  stage?: 'notify';
  failure?: CaughtError;
  state?: { failure?: CaughtError; creation?: CreationInState; moved?: unknown; [key: string]: unknown };
}

/** What the execution knew when it failed, read from its state. */
export interface FailureView {
  requestId: string;
  failure?: CaughtError | undefined;
  creation?: CreationInState | undefined;
  moved?: unknown;
}

export type RecordFailureOutput = { status: 'failed'; step: StepName; reason: string } | { stage: 'notify' };

/**
 * The end of every unhappy path. After a failed request it works out at which step and why (the reason and advice
 * a step recorded, the reason AWS gave for a failed creation, the deadline, or the error that outlasted the
 * retries), records it, frees the name and email when no account was created, and tells the requester once.
 * After a failed "ready" message it records only that: the account is ready and the request stays succeeded.
 * Slack trouble never fails this step; it is recorded. An execution that is not the request's own (`checkExecution`)
 * records nothing: it fails with ExecutionRejectedError, so that no one can fail someone else's request.
 */
export async function recordFailure(deps: Deps, input: RecordFailureInput): Promise<RecordFailureOutput> {
  checkExecution(input);
  if (input.stage === 'notify') {
    await recordNotificationFailure(deps, input);
    return { stage: 'notify' };
  }
  return recordRequestFailure(deps, {
    requestId: input.requestId,
    failure: input.state?.failure,
    creation: input.state?.creation,
    moved: input.state?.moved,
  });
}

async function recordNotificationFailure(deps: Deps, input: RecordFailureInput): Promise<void> {
  const { requestId } = input;
  const error = describeCaught(input.failure);
  deps.log.error('the requester could not be told the account is ready', { requestId, error });
  const record = await deps.requests.get(requestId);
  if (!record) {
    deps.log.error('request not in the registry: notification failure not recorded', { requestId });
    return;
  }
  const now = new Date().toISOString();
  const step = record.steps.notify;
  if (step?.status === 'running') {
    await deps.requests.updateStep(requestId, 'notify', {
      ...step,
      status: 'failed',
      endedAt: now,
      detail: `Slack: ${error}`,
    });
  }
  // A message in the outbox (pending) is the deliverer's to deliver: only a message that never got there failed.
  const inHand =
    record.notification?.kind === 'success' &&
    (record.notification.status === 'sent' || record.notification.status === 'pending');
  if (!inHand) {
    await deps.requests.update(requestId, {
      notification: { kind: 'success', status: 'failed', at: now, error },
      // "Announce ready" runs only after the account was configured: it is ready, whatever became of the message.
      ...(record.status !== 'succeeded' ? { status: 'succeeded' as const } : {}),
    });
  }
  if (!(await deps.accounts.get(record.accountId ?? ''))) {
    deps.log.error('the account is ready but its desired state was not recorded', {
      requestId,
      accountId: record.accountId,
    });
  }
}

async function recordRequestFailure(deps: Deps, input: FailureView): Promise<RecordFailureOutput> {
  const { requestId } = input;
  const record = await deps.requests.get(requestId);
  if (!record) {
    const failure = explainUnexpected(deps, input, 'createAccount', undefined);
    deps.log.error('request not in the registry: failure not recorded', { requestId, failure });
    return { status: 'failed', step: failure.step, reason: failure.reason };
  }

  const { request } = record;
  const creation = await creationNow(deps, record, input.creation);
  const accountId = record.accountId ?? creation.accountId;
  const quarantined = accountId ? await quarantineHolds(deps, accountId) : false;
  const explained = record.failure ?? explain(deps, input, record, accountId);
  const failure = quarantined ? { ...explained, quarantined: true } : explained;
  const now = new Date().toISOString();

  const step = record.steps[failure.step];
  if (step?.status !== 'failed') {
    await deps.requests.updateStep(requestId, failure.step, {
      status: 'failed',
      startedAt: step?.startedAt ?? now,
      endedAt: now,
      attempts: step?.attempts ?? 0,
      detail: failure.reason.slice(0, 1000),
    });
  }
  if (
    record.status !== 'failed' ||
    !record.failure ||
    record.failure.quarantined !== failure.quarantined ||
    (accountId && record.accountId !== accountId)
  ) {
    await deps.requests.update(requestId, { status: 'failed', failure, ...(accountId ? { accountId } : {}) });
  }
  if (record.status !== 'failed') {
    deps.metrics.count(METRIC.vendsFailed, 1, { [METRIC_DIMENSION.reason]: failureCode(input, failure) });
  }
  if (!accountId && !creation.mayStillCreate) {
    // Nothing was created: free the name and email, so that the requester can ask again.
    await deps.requests.releaseReservations(record);
  }

  const told = record.notification?.kind === 'failure' && record.notification.status === 'sent';
  if (!told) {
    await tellRequesterOfFailure(deps, {
      request,
      step: failure.step,
      reason: failure.reason,
      advice: failure.advice,
      ...(accountId ? { accountId } : {}),
      ...(quarantined ? { quarantined } : {}),
    });
  }
  return { status: 'failed', step: failure.step, reason: failure.reason };
}

/**
 * Whether `vend-quarantine` holds the failed request's account: it stays attached (nobody but Vend can act in the
 * account) and the requester and the status are told so. A failure to look is logged and told as not quarantined.
 */
async function quarantineHolds(deps: Deps, accountId: string): Promise<boolean> {
  try {
    return await isQuarantined(deps, accountId);
  } catch (error) {
    deps.log.warn('could not tell whether the account is quarantined', { accountId, error: String(error) });
    return false;
  }
}

/**
 * What we know of the account creation now. The state can be stale or missing (a crash after CreateAccount),
 * so when the registry has a CreateAccount request id and no account, Organizations is asked: an account that is
 * still on its way keeps its name and email reserved.
 */
async function creationNow(
  deps: Deps,
  record: RequestRecord,
  creation: CreationInState | undefined,
): Promise<{ accountId?: string; mayStillCreate: boolean }> {
  const accountId = record.accountId ?? (creation?.state === 'SUCCEEDED' ? creation.accountId : undefined);
  if (accountId) return { accountId, mayStillCreate: false };
  const id = record.createAccountRequestId ?? creation?.createAccountRequestId;
  if (!id) return { mayStillCreate: false };
  if (creation?.state === 'FAILED') return { mayStillCreate: false };
  try {
    const { CreateAccountStatus: status } = await aws(
      deps
        .client(OrganizationsClient)
        .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id })),
    );
    if (status?.State === 'SUCCEEDED' && status.AccountId)
      return { accountId: status.AccountId, mayStillCreate: false };
    return { mayStillCreate: status?.State === 'IN_PROGRESS' };
  } catch (error) {
    if (error instanceof CreateAccountStatusNotFoundException) return { mayStillCreate: false };
    throw error;
  }
}

/** The failure of a request whose steps recorded none: from the creation's state, or from the caught error. */
function explain(
  deps: Deps,
  input: FailureView,
  record: RequestRecord,
  accountId: string | undefined,
): RequestFailure {
  const { creation } = input;
  if (creation?.state === 'FAILED') {
    const { reason, advice } = explainCreationFailure(creation.failureReason ?? '');
    return {
      step: 'waitForAccount',
      reason,
      advice,
      error: `CreateAccount failed: ${creation.failureReason ?? 'no reason given'}`,
    };
  }
  if (creation?.state === 'TIMED_OUT') {
    const minutes = deps.config.creation.deadlineMinutes;
    return {
      step: 'waitForAccount',
      reason: `AWS had not finished creating the account after ${minutes} minutes, the longest Vend waits.`,
      advice:
        'AWS may still create it. Ask the platform team to look up the account creation ' +
        `${creation.createAccountRequestId ? `${creation.createAccountRequestId} ` : ''}in AWS Organizations before you ask ` +
        'again: a second request with the same email fails while the first account exists.',
      error: `creation not finished after ${creation.waitedSeconds ?? minutes * 60} s`,
    };
  }
  return explainUnexpected(deps, input, runningStep(record, input), accountId);
}

/**
 * A failure as a short, bounded code for the `Reason` dimension: AWS's FailureReason of a failed creation
 * (an enum), CREATION_TIMED_OUT, or the failed step (`CONNECT_DNS_FAILED`); never the reason's text.
 */
export function failureCode(input: FailureView, failure: RequestFailure): string {
  if (failure.step === 'waitForAccount' && input.creation?.state === 'FAILED') {
    const reason = input.creation.failureReason ?? '';
    return /^[A-Z_]{1,64}$/.test(reason) ? reason : 'CREATION_FAILED';
  }
  if (failure.step === 'waitForAccount' && input.creation?.state === 'TIMED_OUT') return 'CREATION_TIMED_OUT';
  return `${failure.step.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}_FAILED`;
}

/**
 * The step that was running when the execution failed: among the steps that did not finish, the one whose last
 * attempt failed with the error the state machine caught (parallel branches cancelled alongside it did not
 * fail), else the last one started.
 */
function runningStep(record: RequestRecord, input: FailureView): StepName {
  const running = STEP_NAMES.map((step) => ({ step, record: record.steps[step] }))
    .filter((entry) => entry.record?.status === 'running')
    .sort((a, b) =>
      a.record!.startedAt < b.record!.startedAt ? 1 : a.record!.startedAt > b.record!.startedAt ? -1 : 0,
    );
  const caught = input.failure?.Error;
  const failedWithIt = caught
    ? running.find((entry) => entry.record?.lastError?.startsWith(`${caught}:`))
    : undefined;
  if (failedWithIt) return failedWithIt.step;
  if (running[0]) return running[0].step;
  // No step recorded a start (the function never ran, or failed before runStep): guess from the state.
  if (!input.creation) return 'createAccount';
  if (input.creation.state !== 'SUCCEEDED') return 'waitForAccount';
  return (
    STEP_NAMES.find((step) => step !== 'notify' && record.steps[step]?.status !== 'succeeded') ?? 'notify'
  );
}

const ERROR_WORDS: Record<string, string> = {
  'Vend.Throttled': 'AWS kept asking Vend to slow down',
  'Vend.ConcurrentModification': 'other changes to the same resources kept getting in the way',
  'Vend.Transient': 'AWS kept failing on its side',
  'Vend.CreationSlotsFull': 'the organization had too many account creations in progress for too long',
  'Vend.AccountNotReady':
    "the new account's services (IAM, EC2, its default VPC) did not become usable in time",
  'Vend.SlackUnavailable': 'Slack was unavailable',
  'Vend.Failed': 'the step failed',
  'States.Timeout': 'the step took too long',
  'States.TaskFailed': 'the step failed',
  'States.Runtime': 'the workflow hit an internal error',
};

function explainUnexpected(
  deps: Deps,
  input: FailureView,
  step: StepName,
  accountId: string | undefined,
): RequestFailure {
  const name = input.failure?.Error ?? 'unknown error';
  const message = causeMessage(input.failure?.Cause);
  const words = Object.hasOwn(ERROR_WORDS, name)
    ? ERROR_WORDS[name]
    : name.startsWith('Lambda.')
      ? "the step's function could not run"
      : 'the step failed unexpectedly';
  // The caught error's message may be AWS's own text: it goes to the internal `error` field and the log only.
  const reason = `${capitalize(words!)}.`;
  const advice = accountId
    ? `The account ${accountId} exists but is not fully set up. Do not ask for another one: tell the platform ` +
      `team the request id (${input.requestId}) so that they can finish it.`
    : 'This is most likely temporary: submit the request again later. If it fails again, tell the platform team ' +
      `the request id (${input.requestId}).`;
  deps.log.warn('request failed outside its steps', {
    requestId: input.requestId,
    step,
    error: name,
  });
  return { step, reason, advice, error: `${name}${message ? `: ${message}` : ''}`.slice(0, 2000) };
}

/** The message in a Catch's Cause: Lambda sends JSON with `errorMessage`; others send text. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  const text = cause.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { errorMessage?: unknown; message?: unknown; errorType?: unknown };
      const message = parsed.errorMessage ?? parsed.message;
      if (typeof message === 'string') return message.trim().slice(0, 500);
    } catch {
      // not JSON after all: use the text
    }
  }
  return text.slice(0, 500);
}

function describeCaught(failure: CaughtError | undefined): string {
  if (!failure) return 'unknown error';
  const message = causeMessage(failure.Cause);
  return `${failure.Error ?? 'unknown error'}${message ? `: ${message}` : ''}`.slice(0, 1000);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
