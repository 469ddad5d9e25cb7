import type { Profile } from './config.ts';

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
  /**
   * The OU's profile as it was when the request was checked: the account is vended, and later kept, to it (absent
   * in requests stored before profiles existed: the configuration's profile for the OU applies).
   */
  profile?: Profile;
  submittedAt: string;
}

/**
 * Where a request stands. `awaiting-approval`: its name and email are reserved, nothing runs in AWS until an
 * approver decides; `denied` and `expired` end it without an account and free its reservations.
 */
export type RequestStatus =
  | 'awaiting-approval'
  | 'pending'
  | 'creating'
  | 'configuring'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'expired';

/** How a request's approval was decided. */
export interface ApprovalDecision {
  outcome: 'approved' | 'denied' | 'expired';
  /** Who decided: the caller's ARN, or `slack:<member id>` for Slack's buttons; absent for an expiry. */
  by?: string;
  /** The `access` entries the decider matched. */
  as?: string[];
  via: 'api' | 'slack' | 'expiry';
  at: string;
  reason?: string;
}

/** A request's approval: who may decide, until when, and the decision once made. */
export interface ApprovalRecord {
  /** The `access` entries whose principals may decide. */
  approvers: string[];
  requestedAt: string;
  /** When an undecided request expires. */
  expiresAt: string;
  decision?: ApprovalDecision;
}

/**
 * The steps in workflow order: the account is configured in the root under quarantine, then moved into its OU with
 * its guardrails (see README, "The workflow").
 */
export const STEP_NAMES = [
  'createAccount',
  'waitForAccount',
  'applyBaseline',
  'applyBudget',
  'connectDns',
  'grantAccess',
  'moveAccount',
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
  /** The account exists and `vend-quarantine` stays attached to it (nobody but Vend can act in it). */
  quarantined?: boolean;
}

export interface RequestRecord {
  requestId: string;
  status: RequestStatus;
  request: VendRequest;
  steps: Partial<Record<StepName, StepRecord>>;
  createAccountRequestId?: string;
  accountId?: string;
  failure?: RequestFailure;
  /** Present when the request's profile needs approval. */
  approval?: ApprovalRecord;
  /**
   * The last message to the requester: `skipped` when no Slack webhook is configured. `decision`: the request was
   * denied or expired (see `approval.decision`).
   */
  notification?: {
    kind: 'success' | 'failure' | 'decision';
    /** `pending`: in the outbox, not delivered yet (the deliverer retries it). */
    status: 'sent' | 'pending' | 'failed' | 'skipped';
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
  /** Who asked for it: the requester's ARN (absent on records from before it was kept). */
  requester?: string;
  requestId: string;
  /**
   * The profile the account was vended to, and is kept at: its baseline roles and alert floor. The sweep rolls a
   * later change of the OU's profile out and records the new one here. Absent in accounts recorded before
   * profiles were: the configuration's profile for the OU applies (`profileOfAccount`).
   */
  profile?: Profile;
  status: 'active' | 'closed' | 'removed';
  /**
   * Set while an administrator holds the account (incident response): drift is reported, never put back, until
   * the hold is released. Absent when the account is not on hold.
   */
  hold?: AccountHold;
  /** Every hold and release of the account, newest first (at most `HOLD_HISTORY_MAX`). */
  holdHistory?: HoldEvent[];
  createdAt: string;
  updatedAt: string;
}

/** An account on hold: who put it on hold (the signed caller), when, and why. */
export interface AccountHold {
  by: string;
  at: string;
  reason: string;
}

/** One entry of an account's hold history: a hold (with its reason) or the release of one. */
export interface HoldEvent {
  action: 'hold' | 'release';
  by: string;
  at: string;
  /** Why it was held (holds only). */
  reason?: string;
}

/** How many holds and releases an account record keeps. */
export const HOLD_HISTORY_MAX = 50;

/** Tags Vend puts on every account it vends, and owns (the drift fix restores them). */
export function vendTags(request: VendRequest): Record<string, string> {
  return { ...request.tags, 'vend:request-id': request.requestId, 'vend:owner': request.owner };
}

/**
 * What of a vended account can drift: where it sits and its tags (Organizations events tell of these), whether it
 * is still an open member of the organization, and what only the sweep sees (IAM baseline, budget, DNS).
 */
export const DRIFT_ASPECTS = [
  'organizationalUnit',
  'tags',
  'membership',
  'baseline',
  'budget',
  'dns',
  'identityCenter',
  'guardrails',
] as const;
export type DriftAspect = (typeof DRIFT_ASPECTS)[number];

/**
 * What became of a drift: `fixed` (Vend put it back), `reported` (told, not changed: report mode, or a change Vend
 * cannot undo such as a closed account), `failed` (putting it back failed: `reason` says why), `in-sync` (when
 * Vend looked, the account was already as it should be: someone or something had put it back), `held` and
 * `quarantined` (told, not changed: the account is on hold, or in one of `drift.quarantineOrganizationalUnits`,
 * for incident response).
 */
export type DriftOutcome = 'fixed' | 'reported' | 'failed' | 'in-sync' | 'held' | 'quarantined';

/** One entry of an account's drift history. */
export interface DriftRecord {
  /** The CloudTrail event id, or `sweep-<run>-<account>` for what a sweep found. */
  id: string;
  source: 'event' | 'sweep';
  /** The API call behind the event (MoveAccount, UntagResource ...). */
  eventName?: string;
  aspects: DriftAspect[];
  /** What drifted, in words. */
  what: string;
  /** Who did it: the event's `userIdentity.arn`. Unknown for what a sweep finds. */
  by?: string;
  /** When it happened (the event's time) or when the sweep found it. */
  at: string;
  outcome: DriftOutcome;
  /** What Vend did (fixed), or would do (reported), in words. */
  action?: string;
  /** Why the fix failed. */
  reason?: string;
  /** Whether Slack was told: absent for what is not announced (`in-sync`). */
  announcement?: 'sent' | 'pending' | 'skipped' | 'failed';
  recordedAt: string;
}

/** One account a sweep found drifted (or could not check). */
export interface SweepFinding {
  accountId: string;
  accountName: string;
  outcome: 'fixed' | 'reported' | 'failed';
  changes: string[];
  /** What could not be checked or fixed, `aspect: error` (the error stays out of Slack). */
  failures: string[];
}

/** An account's drift: how each aspect looked when last checked, and the recent history, newest first. */
export interface DriftState {
  accountId: string;
  aspects: Partial<Record<DriftAspect, { status: 'in-sync' | 'drifted'; checkedAt: string }>>;
  history: DriftRecord[];
  /** Optimistic-locking counter of the registry item. */
  version: number;
  updatedAt: string;
}

/** The account's drift in one word: `drifted` when any aspect was last seen drifted, `unknown` before any check. */
export function driftStatus(state: DriftState | undefined): 'in-sync' | 'drifted' | 'unknown' {
  const aspects = Object.values(state?.aspects ?? {});
  if (aspects.length === 0) return 'unknown';
  return aspects.some((aspect) => aspect?.status === 'drifted') ? 'drifted' : 'in-sync';
}

/** Where an account creation stands; the state machine's Wait and Choice read `waitSeconds` and `state`. */
export interface CreationState {
  createAccountRequestId: string;
  state: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  accountId?: string;
  failureReason?: string;
  /** How long the state machine waits before the next look. */
  waitSeconds: number;
  /** Simulated seconds waited so far, for the deadline. */
  waitedSeconds: number;
  polls: number;
}
