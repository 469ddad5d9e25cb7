import type { Grants } from './access.ts';
import type { Deps } from './deps.ts';
import type { RequestRecord } from './model.ts';
import type { WorkflowStarter } from './submit.ts';

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

export const decideApproval: DecideApproval = async () => {
  throw new Error('decideApproval is not built yet');
};
