import { type Grants, whoMayApprove } from './access.ts';
import { approvalRequestMessage, decisionMessage } from './approval-messages.ts';
import { approversFor, grants, type Profile, resolveProfile, type VendConfig } from './config.ts';
import type { Deps } from './deps.ts';
import { HttpError } from './errors.ts';
import type { ApprovalDecision, ApprovalRecord, RequestRecord, VendRequest } from './model.ts';
import { API_POST, type PostOptions, sendThroughOutbox } from './slack.ts';
import type { WorkflowStarter } from './submit.ts';
import { errorText } from './text.ts';

/** Who decides a request awaiting approval, and through what. */
export interface Decider {
  /** The caller's ARN (API), or `slack:<member id>` (Slack's buttons). */
  by: string;
  via: 'api' | 'slack';
  /** What the decider may do: `grantsFor` (API) or `grantsForSlackUser` (Slack). */
  grants: Grants;
  /** The Slack member id of a decider through Slack, to refuse a requester deciding their own request. */
  slackUserId?: string;
}

export interface DecisionInput {
  requestId: string;
  decision: 'approve' | 'deny';
  /** Why: required to deny, optional to approve. */
  reason?: string;
  decider: Decider;
}

/**
 * Decides a request awaiting approval: approve starts its workflow, deny ends it as `denied` and frees its name and
 * email. Only a decider granted approval for the request's OU (and named by its profile's approvers) may decide,
 * and never its requester. Refusals are HttpError (403 not allowed, 404 no such request, 409 already decided or
 * not awaiting approval) naming the fix; nothing is written then. Returns the request as it now stands.
 */
export type DecideApproval = (
  deps: Deps & { starter: WorkflowStarter },
  input: DecisionInput,
) => Promise<RequestRecord>;

const HOUR_MS = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The profile a request is held to: the one recorded with it, else the configuration's for its OU. */
export function profileOf(config: VendConfig, request: VendRequest): Profile {
  return request.profile ?? resolveProfile(config, request.organizationalUnit.path);
}

/**
 * The approval a new request waits for, when its profile requires one: the `access` entries that may decide, and
 * its expiry `approval.expiresAfterHours` from now (`deps.now()`, the simulated clock locally). Undefined when the
 * request needs no approval.
 */
export function approvalFor(deps: Deps, request: VendRequest): ApprovalRecord | undefined {
  const profile = profileOf(deps.config, request);
  if (!profile.approval.required) return undefined;
  const now = deps.now();
  return {
    approvers: approversFor(deps.config, request.organizationalUnit.path),
    requestedAt: iso(now),
    expiresAt: iso(now + profile.approval.expiresAfterHours * HOUR_MS),
  };
}

/**
 * Tells the approvers of a request awaiting approval (`approvalRequestMessage`), in the profile's Slack channel,
 * through the outbox under `<requestId>#approval`: a retried submission finds the message there and sends nothing
 * again. Trouble is logged, never thrown: the request is stored, and the deliverer retries the message.
 */
export async function askApprovers(deps: Deps, record: RequestRecord): Promise<void> {
  const { requestId } = record;
  const approvers = (record.approval?.approvers ?? []).map((name) => ({
    name,
    slackUserIds: deps.config.access[name]?.slackUserIds ?? [],
  }));
  const channel = profileOf(deps.config, record.request).slackChannel;
  try {
    await sendThroughOutbox(
      deps,
      {
        id: `${requestId}#approval`,
        kind: 'approval',
        message: approvalRequestMessage(record, approvers, channel),
        context: { requestId },
      },
      API_POST,
    );
  } catch (error) {
    deps.log.error('the approvers could not be told of a request', { requestId, error: errorText(error) });
  }
}

/**
 * Tells the requester how their request was decided (`decisionMessage`), through the outbox under
 * `<requestId>#decision` (a request is decided once, so it is sent once). A denial or an expiry is the request's
 * last message, recorded as its notification; an approval is followed by the ready or failure message. Trouble is
 * logged and recorded, never thrown: the decision stands.
 */
export async function tellRequesterOfDecision(
  deps: Deps,
  record: RequestRecord,
  post?: PostOptions,
): Promise<void> {
  const { requestId } = record;
  const outcome = record.approval?.decision?.outcome;
  const channel = profileOf(deps.config, record.request).slackChannel;
  let notification: NonNullable<RequestRecord['notification']>;
  try {
    const delivery = await sendThroughOutbox(
      deps,
      {
        id: `${requestId}#decision`,
        kind: 'decision',
        message: decisionMessage(record, channel),
        context: { requestId, outcome },
      },
      post,
    );
    notification = {
      kind: 'decision',
      status: delivery === 'delivered' ? 'sent' : delivery === 'refused' ? 'failed' : delivery,
      at: new Date().toISOString(),
    };
  } catch (error) {
    deps.log.error('the requester could not be told of the decision', { requestId, error: errorText(error) });
    notification = {
      kind: 'decision',
      status: 'failed',
      at: new Date().toISOString(),
      error: errorText(error),
    };
  }
  if (outcome !== 'approved') await deps.requests.update(requestId, { notification });
}

/**
 * Ends an undecided request whose approval expired: `expired` in one conditional write from `awaiting-approval`
 * (a decision made meanwhile wins), its name and email freed, the requester told. True when this call expired it.
 */
export async function expireApproval(
  deps: Deps,
  record: RequestRecord,
  post?: PostOptions,
): Promise<boolean> {
  const decision: ApprovalDecision = { outcome: 'expired', via: 'expiry', at: iso(deps.now()) };
  const expired = await deps.requests.decide(record.requestId, 'expired', decision);
  if (!expired) return false;
  deps.log.info('a request awaiting approval expired', {
    requestId: record.requestId,
    expiresAt: record.approval?.expiresAt,
  });
  await deps.requests.releaseReservations(expired);
  await tellRequesterOfDecision(deps, expired, post);
  return true;
}

/** Whether an undecided request's approval has expired at `now` (epoch milliseconds). */
export function approvalExpired(record: RequestRecord, now: number): boolean {
  const expiresAt = Date.parse(record.approval?.expiresAt ?? '');
  return Number.isFinite(expiresAt) && now >= expiresAt;
}

export const decideApproval: DecideApproval = async (deps, input) => {
  const { requestId, decision, decider } = input;
  const reason = input.reason?.trim() || undefined;
  if (decision === 'deny' && reason === undefined) {
    throw new HttpError(400, 'a denial needs a reason: the requester is told why', {
      field: 'reason',
      fix: 'Say why, e.g. {"decision": "deny", "reason": "use Workloads/Dev for load tests"}.',
    });
  }
  const record = await deps.requests.get(requestId);
  if (!record) {
    throw new HttpError(404, `there is no request ${requestId}`, {
      field: 'requestId',
      fix: 'Use the requestId of the request to decide, as the approval message or POST /accounts gave it.',
    });
  }
  const as = deciderEntries(deps.config, record, decider);
  if (record.status !== 'awaiting-approval') throw notAwaiting(record);
  if (approvalExpired(record, deps.now())) {
    await expireApproval(deps, record, API_POST);
    throw notAwaiting((await deps.requests.get(requestId)) ?? record);
  }

  const outcome = decision === 'approve' ? 'approved' : 'denied';
  const made: ApprovalDecision = {
    outcome,
    by: decider.by,
    as,
    via: decider.via,
    at: iso(deps.now()),
    ...(reason !== undefined ? { reason } : {}),
  };
  const decided = await deps.requests.decide(requestId, outcome === 'approved' ? 'pending' : 'denied', made);
  if (!decided) throw notAwaiting((await deps.requests.get(requestId)) ?? record);
  deps.log.info(`request ${outcome}`, { requestId, by: decider.by, as, via: decider.via });

  if (outcome === 'approved') {
    try {
      await deps.starter.start(requestId, { requestId });
    } catch (error) {
      // The decision stands and the request is pending: the reaper starts it (functions/reap-requests).
      deps.log.warn('an approved request could not be started now; the reaper starts it', {
        requestId,
        error: errorText(error),
      });
    }
    await tellRequesterOfDecision(deps, decided, API_POST);
    return decided;
  }
  await deps.requests.releaseReservations(decided);
  await tellRequesterOfDecision(deps, decided, API_POST);
  return (await deps.requests.get(requestId)) ?? decided;
};

/**
 * The `access` entries through which `decider` decides `record`: those it matched that are granted `approve` for
 * the request's OU and, when the profile names approvers, named there. Refuses (403, naming who may decide) a
 * decider with none, and the request's own requester, whatever their grants.
 */
function deciderEntries(config: VendConfig, record: RequestRecord, decider: Decider): string[] {
  const { request } = record;
  const ou = request.organizationalUnit.path;
  const named = profileOf(config, request).approval.approvers;
  const who = whoMayApprove(config, ou, named);
  const ownRequest =
    decider.by === request.requester.principal ||
    (decider.slackUserId !== undefined && decider.slackUserId === request.requester.slackUserId);
  if (ownRequest) {
    throw new HttpError(403, `${decider.by} asked for request ${record.requestId}, so may not decide it`, {
      field: 'Authorization',
      fix: `Ask someone else who may decide requests in ${ou}: ${who}.`,
    });
  }
  const entries = decider.grants.entries.filter((name) => {
    const entry = config.access[name];
    return entry !== undefined && grants(entry.approve, ou) && (named.length === 0 || named.includes(name));
  });
  if (!decider.grants.mayApprove(ou) || entries.length === 0) {
    throw new HttpError(403, `${decider.by} may not decide requests in ${ou}`, {
      field: 'Authorization',
      fix: `Ask one who may: ${who}.`,
    });
  }
  return entries;
}

/** The 409 for a request that is not awaiting approval: its status and, when decided, how, by whom and when. */
function notAwaiting(record: RequestRecord): HttpError {
  const decision = record.approval?.decision;
  const how = !decision
    ? ''
    : decision.outcome === 'expired'
      ? `; it expired at ${decision.at}`
      : `; ${decision.outcome} by ${decision.by ?? 'an approver'} at ${decision.at}`;
  const ended = record.status === 'denied' || record.status === 'expired';
  const fix = ended
    ? 'Nothing is left to decide. The requester may ask again with a new request: its name and email are free.'
    : decision
      ? `Nothing is left to decide: follow it with GET /accounts/requests/${record.requestId}.`
      : `It needs no approval: follow it with GET /accounts/requests/${record.requestId}.`;
  return new HttpError(
    409,
    `request ${record.requestId} is not awaiting approval: its status is ${record.status}${how}`,
    { field: 'requestId', fix },
  );
}
