import { approvalExpired, expireApproval } from '../shared/approval.ts';
import { MAX_APPROVAL_HOURS } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { ConcurrentModificationError, isAwsError, ThrottledError, TransientError } from '../shared/errors.ts';
import type { RequestFailure, RequestRecord } from '../shared/model.ts';
import { tellRequesterOfFailure } from '../shared/slack.ts';
import type { WorkflowExecutions } from '../shared/step-functions.ts';
import { errorText } from '../shared/text.ts';

/** A request pending this long is looked at: its execution should have moved it on well before. */
export const REAP_AFTER_MS = 5 * 60_000;
/** A request pending this long with no execution is failed rather than started: its requester has moved on. */
export const GIVE_UP_AFTER_MS = 60 * 60_000;
/**
 * How far back the reaper looks. A run reads only the requests created in this window, so it stays small however
 * many requests the registry holds; with a run every five minutes, a request would have to outlast a week of
 * missed runs to be missed.
 */
export const LOOK_BACK_MS = 7 * 24 * 60 * 60_000;
/**
 * How much further back the reaper looks for requests that waited for approval: an undecided request may wait up to
 * `MAX_APPROVAL_HOURS` (then expires), and an approved one starts when it is decided, however old it is.
 */
export const APPROVAL_LOOK_BACK_MS = MAX_APPROVAL_HOURS * 60 * 60_000;

/** The reaper's dependencies: the steps' and the state machine's executions. */
export interface ReapDeps extends Deps {
  executions: WorkflowExecutions;
}

/** Overrides of the reaper's ages (milliseconds) and of the time (epoch milliseconds, real time: `createdAt`'s). */
export interface ReapInput {
  reapAfterMs?: number;
  giveUpAfterMs?: number;
  now?: number;
}

/** What a run did, by request id. */
export interface ReapResult {
  /** Awaiting approval past its expiry: ended as `expired`, its name and email freed, the requester told. */
  expired: string[];
  /** Pending with no execution: started now. */
  started: string[];
  /** Could not start, or waited too long: failed, with the reason recorded and the requester told. */
  failed: string[];
  /** StartExecution failed for a while (throttled, AWS down, too many executions running): left for the next run. */
  retryLater: string[];
}

/** Errors of StartExecution that a later run may not meet: throttling, AWS's side, the running-executions limit. */
function isPassing(error: unknown): boolean {
  return (
    error instanceof ThrottledError ||
    error instanceof TransientError ||
    error instanceof ConcurrentModificationError ||
    isAwsError(error, 'ExecutionLimitExceeded')
  );
}

const NEVER_STARTED: Omit<RequestFailure, 'error'> = {
  step: 'createAccount',
  reason: 'Vend accepted the request but could not start working on it, and nothing was created',
  advice: 'Send the request again; if it fails the same way, ask your platform team.',
};

/**
 * Mends requests left `pending` with no execution: StartExecution failed (or the API stopped) after the request
 * and its reservations were written, or after an approver approved it. Each pending request waiting longer than
 * `REAP_AFTER_MS` (since it was created, or approved) whose execution does not exist is started under its own name
 * (Step Functions starts a name once: a start racing with another is the same execution). One that cannot start (a
 * permanent error) or has waited `GIVE_UP_AFTER_MS` is failed instead: the reason is recorded, its name and email
 * are released and the requester is told. Safe to run twice at once: a request is failed only while it is still
 * pending, and told only by the run that failed it.
 *
 * It also ends the requests awaiting approval past their expiry (`approval.expiresAt`, against `deps.now()`: the
 * simulated clock locally) as `expired` (`expireApproval`: a conditional write, so a decision made meanwhile wins).
 *
 * One query finds both: the list index over the requests created in the last `LOOK_BACK_MS` +
 * `APPROVAL_LOOK_BACK_MS`, filtered on the two statuses (DynamoDB reads the window, returns only those).
 */
export async function reapRequests(deps: ReapDeps, input: ReapInput = {}): Promise<ReapResult> {
  const now = input.now ?? Date.now();
  const reapAfter = input.reapAfterMs ?? REAP_AFTER_MS;
  const giveUpAfter = input.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
  const result: ReapResult = { expired: [], started: [], failed: [], retryLater: [] };
  const open = await deps.requests.listByStatus(
    ['pending', 'awaiting-approval'],
    new Date(now - LOOK_BACK_MS - APPROVAL_LOOK_BACK_MS).toISOString(),
    `${new Date(now).toISOString()}#\uffff`,
  );
  for (const record of open) {
    const { requestId } = record;
    if (record.status === 'awaiting-approval') {
      if (approvalExpired(record, deps.now()) && (await expireApproval(deps, record))) {
        result.expired.push(requestId);
      }
      continue;
    }
    const waited = waitedMs(deps, record, now);
    if (waited < reapAfter) continue;
    if (await deps.executions.exists(requestId)) continue;
    if (waited >= giveUpAfter) {
      if (await fail(deps, record, 'it waited too long to start')) result.failed.push(requestId);
      continue;
    }
    try {
      await deps.executions.start(requestId, { requestId });
      deps.log.info('started a request left pending', { requestId });
      result.started.push(requestId);
    } catch (error) {
      if (isPassing(error)) {
        deps.log.warn('could not start a request left pending; the next run tries again', {
          requestId,
          error: errorText(error),
        });
        result.retryLater.push(requestId);
      } else if (await fail(deps, record, errorText(error))) result.failed.push(requestId);
    }
  }
  return result;
}

/**
 * How long a pending request has waited to start: since it was approved (on `deps.now()`'s clock, as the decision
 * was recorded), or since it was created (`createdAt`, real time, as `now`).
 */
function waitedMs(deps: Deps, record: RequestRecord, now: number): number {
  const approvedAt = Date.parse(record.approval?.decision?.at ?? '');
  if (record.approval?.decision?.outcome === 'approved' && Number.isFinite(approvedAt)) {
    return deps.now() - approvedAt;
  }
  return now - Date.parse(record.createdAt);
}

/**
 * Fails a request that never started, if it is still pending: records Vend's reason (the cause stays in the
 * internal `error` field), frees its name and email (nothing was created) and tells the requester once.
 */
async function fail(deps: ReapDeps, record: RequestRecord, cause: string): Promise<boolean> {
  const { requestId, request } = record;
  const failure: RequestFailure = { ...NEVER_STARTED, error: cause };
  if (!(await deps.requests.failPending(requestId, failure))) return false;
  deps.log.error('failed a request that never started', { requestId, error: cause });
  await deps.requests.releaseReservations(record);
  await tellRequesterOfFailure(deps, { request, ...NEVER_STARTED });
  return true;
}
