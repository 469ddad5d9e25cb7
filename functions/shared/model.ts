/** A request as the workflow carries it: checked, with the OU resolved and defaults applied. */
export interface VendRequest {
  requestId: string;
  /** The name the requester asked for. */
  name: string;
  /** The account's name in Organizations: the name with its OU's prefix. */
  accountName: string;
  email: string;
  organizationalUnit: { id: string; path: string };
  /** Email of the account's owner: budget alerts go there. */
  owner: string;
  requester: { principal: string; slackUserId?: string };
  budget: { monthlyLimitUsd: number; thresholds: { percent: number; type: 'ACTUAL' | 'FORECASTED' }[] };
  tags: Record<string, string>;
  vpc?: { id: string; region: string };
  submittedAt: string;
}

export type RequestStatus = 'pending' | 'creating' | 'configuring' | 'succeeded' | 'failed';

export const STEP_NAMES = [
  'createAccount',
  'waitForAccount',
  'moveAccount',
  'applyBaseline',
  'applyBudget',
  'connectDns',
  'notify',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StepRecord {
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt?: string;
  /** What the step did or found, in a few words. */
  detail?: string;
  attempts: number;
  /** The error of the last failed attempt, `Name: message`, while the state machine retries. */
  lastError?: string;
}

export interface RequestFailure {
  step: StepName;
  /** What went wrong, for the requester. */
  reason: string;
  /** What to do about it. */
  advice: string;
  /** The error behind it, for operators. */
  error?: string;
}

export interface RequestRecord {
  requestId: string;
  status: RequestStatus;
  request: VendRequest;
  steps: Partial<Record<StepName, StepRecord>>;
  createAccountRequestId?: string;
  accountId?: string;
  failure?: RequestFailure;
  /** The last message to the requester: `skipped` when no Slack webhook is configured. */
  notification?: {
    kind: 'success' | 'failure';
    status: 'sent' | 'failed' | 'skipped';
    at: string;
    error?: string;
  };
  createdAt: string;
  updatedAt: string;
}

/** The vended account as Vend promised it: what the drift fix compares the real one against. */
export interface AccountDesiredState {
  accountId: string;
  accountName: string;
  email: string;
  organizationalUnit: { id: string; path: string };
  tags: Record<string, string>;
  baselineVersion: string;
  budget: VendRequest['budget'] & { name: string };
  dns?: { hostedZoneId: string; vpcId: string; region: string };
  alias?: string;
  owner: string;
  requestId: string;
  status: 'active' | 'closed' | 'removed';
  createdAt: string;
  updatedAt: string;
}

/** Tags Vend puts on every account it vends, and owns (the drift fix restores them). */
export function vendTags(request: VendRequest): Record<string, string> {
  return { ...request.tags, 'vend:request-id': request.requestId, 'vend:owner': request.owner };
}
