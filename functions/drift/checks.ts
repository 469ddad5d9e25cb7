import { randomUUID } from 'node:crypto';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { accountContext, wouldDo } from '../domain/converger.ts';
import { guardrailsConverger, profileGuardrails } from '../domain/guardrails.ts';
import { currentParent, ouConverger } from '../domain/ou.ts';
import { type ProfileRollout, profileOfAccount } from '../domain/profile.ts';
import { tagsConverger } from '../domain/tags.ts';
import type { Deps } from '../shared/deps.ts';
import {
  AccountNotReadyError,
  aws,
  ConcurrentModificationError,
  isAwsError,
  ThrottledError,
  TransientError,
  VendFailureError,
} from '../shared/errors.ts';
import type { AccountDesiredState, DriftAspect, DriftRecord } from '../shared/model.ts';
import { type RetryPolicy, retry } from '../shared/retry.ts';
import { type SlackMessage, sendThroughOutbox } from '../shared/slack.ts';
import { ouIdForPath } from '../shared/submit.ts';

/**
 * What the drift function and the sweep share: checking (and putting back) an account's OU and tags, the
 * per-account lock both work under, recognizing Vend's own principals, and telling Slack.
 */

/** What checking one aspect of an account found, and what was (or, in a dry run, would be) done about it. */
export interface AspectCheck {
  aspect: DriftAspect;
  /** Whether the aspect differed from the desired state when checked. */
  drifted: boolean;
  /** What differed, in words (empty when nothing did). */
  found: string;
  /** Where the account was found, for the OU. */
  actual?: string;
  /** The changes made, or in a dry run the changes that would be made ("would ..."). */
  changes: string[];
}

/** Errors that a later attempt may not meet: the event is retried (EventBridge), the account swept again later. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ThrottledError ||
    error instanceof ConcurrentModificationError ||
    error instanceof TransientError ||
    error instanceof AccountNotReadyError
  );
}

/**
 * Why a check or fix failed, in words for the drift history and Slack: Vend's own failure reasons as they are,
 * AWS's refusals by exception name only. AWS's own message text (which can name internal ARNs and principals)
 * goes to the log (`errorText`), never here.
 */
export function failureWords(error: unknown): string {
  if (error instanceof VendFailureError) return error.message;
  if (error instanceof ThrottledError) return 'AWS kept asking Vend to slow down';
  if (error instanceof ConcurrentModificationError)
    return 'other changes to the same resources got in the way';
  if (error instanceof TransientError) return 'AWS failed on its side';
  if (error instanceof AccountNotReadyError) return 'Vend could not act in the account';
  if (error instanceof Error && '$metadata' in error) return `AWS refused a call (${error.name})`;
  return "an unexpected error (see the drift function's log)";
}

/** An error in a sentence for the log. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/**
 * Where an account stands in the organization, as DescribeAccount tells: its `State` (PENDING_ACTIVATION, ACTIVE,
 * SUSPENDED, PENDING_CLOSURE, CLOSED), else the `Status` AWS is retiring in its favour (ACTIVE, SUSPENDED,
 * PENDING_CLOSURE; Organizations API Reference, "Account"), or `REMOVED` when the organization no longer has it
 * (AccountNotFoundException: it left or was removed).
 */
export async function organizationState(deps: Deps, accountId: string): Promise<string> {
  try {
    const { Account } = await aws(
      deps.client(OrganizationsClient).send(new DescribeAccountCommand({ AccountId: accountId })),
    );
    return Account?.State ?? Account?.Status ?? 'ACTIVE';
  } catch (error) {
    if (isAwsError(error, 'AccountNotFoundException')) return 'REMOVED';
    throw error;
  }
}

/** The registry status an organization state means for a vended account; undefined while it is a member. */
export function departedStatus(state: string): 'closed' | 'removed' | undefined {
  if (state === 'REMOVED') return 'removed';
  return state === 'ACTIVE' || state === 'PENDING_ACTIVATION' ? undefined : 'closed';
}

/**
 * Why Vend must leave an account as it is (incident response): `held`, it is on hold (`POST
 * /accounts/{accountId}/hold`); `quarantined`, it sits directly in one of `drift.quarantineOrganizationalUnits`.
 * `why` says so in words for the drift history and Slack.
 */
export interface Incident {
  outcome: 'held' | 'quarantined';
  why: string;
}

/**
 * Whether the account is on hold or in a quarantine OU, now: the registry's hold first (no AWS call), then the
 * account's parent (ListParents) against the quarantine OUs' ids (paths looked up from the root, cached like the
 * request API's). A quarantine path that does not exist in the organization quarantines nothing.
 */
export async function incidentOf(deps: Deps, account: AccountDesiredState): Promise<Incident | undefined> {
  if (account.hold) return { outcome: 'held', why: `the account is on hold (${account.hold.reason})` };
  const quarantine = deps.config.drift.quarantineOrganizationalUnits;
  if (quarantine.length === 0) return undefined;
  const parent = await currentParent(accountContext(deps, account.accountId));
  for (const ou of quarantine) {
    const id = ou.startsWith('ou-') ? ou : await ouIdForPath(deps, ou);
    if (id === parent) {
      return {
        outcome: 'quarantined',
        why: `the account is in the quarantine OU ${ou === id ? id : `${ou} (${id})`}`,
      };
    }
  }
  return undefined;
}

const ouName = (desired: AccountDesiredState) =>
  `${desired.organizationalUnit.path} (${desired.organizationalUnit.id})`;

/**
 * The account's OU against the desired one (`ouConverger`); moved back unless `dryRun`. The plan reads the
 * parent right before the move, and MoveAccount names the parent it moves from, so of two concurrent fixes only
 * one moves: the other finds it back in place (no change recorded). Someone moving it again in between is met
 * by planning again.
 */
export async function checkOrganizationalUnit(
  deps: Deps,
  desired: AccountDesiredState,
  dryRun: boolean,
): Promise<AspectCheck> {
  const aspect = 'organizationalUnit';
  const account = accountContext(deps, desired.accountId);
  const target = { organizationalUnitId: desired.organizationalUnit.id };
  const planned = await ouConverger.plan(target, account);
  const first = planned[0];
  if (!first) return { aspect, drifted: false, found: '', changes: [] };
  const found = `it is in ${first.from}, not in ${ouName(desired)}`;
  if (dryRun)
    return {
      aspect,
      drifted: true,
      found,
      actual: first.from,
      changes: [`would move it back to ${ouName(desired)}`],
    };
  const moved = await retry(
    async (attempt) => {
      const changes = attempt === 1 ? planned : await ouConverger.plan(target, account);
      const applied = await ouConverger.apply(changes, account);
      return applied.done.length > 0 ? changes[0]?.from : undefined;
    },
    {
      retryable: (error) => error instanceof ConcurrentModificationError,
      maxAttempts: 3,
      baseDelayMs: 100,
      random: deps.random,
      sleep: deps.sleep,
    },
  );
  return {
    aspect,
    drifted: true,
    found,
    actual: first.from,
    changes: moved !== undefined ? [`moved it from ${moved} back to ${ouName(desired)}`] : [],
  };
}

/**
 * The account's tags against the ones Vend owns (`tagsConverger`): missing or changed ones are put back with one
 * TagResource unless `dryRun`. Tags Vend does not own are left alone.
 */
export async function checkTags(
  deps: Deps,
  desired: AccountDesiredState,
  dryRun: boolean,
): Promise<AspectCheck> {
  const aspect = 'tags';
  const account = accountContext(deps, desired.accountId);
  const planned = await tagsConverger.plan({ tags: desired.tags }, account);
  const first = planned[0];
  if (!first) return { aspect, drifted: false, found: '', changes: [] };
  if (dryRun) return { aspect, drifted: true, found: first.found, changes: wouldDo(planned) };
  const applied = await tagsConverger.apply(planned, account);
  return { aspect, drifted: true, found: first.found, changes: applied.done };
}

/**
 * The account's service control policies against its profile's (`guardrailsConverger`): a profile policy detached
 * is attached again, the content of a policy Vend keeps is restored, and `vend-quarantine` on a ready account is
 * detached, unless `dryRun`. Policies Vend does not name are left alone.
 */
export async function checkGuardrails(
  deps: Deps,
  desired: AccountDesiredState,
  dryRun: boolean,
  rollout?: Pick<ProfileRollout, 'to' | 'retirePolicies'>,
): Promise<AspectCheck> {
  const aspect = 'guardrails';
  const account = accountContext(deps, desired.accountId);
  // A changed profile being rolled out: its policies now, and the ones it dropped detached.
  const profile = rollout?.to ?? profileOfAccount(deps, desired);
  const policies = profileGuardrails(deps.config, profile.policies);
  const planned = await guardrailsConverger.plan(
    { policies, quarantined: false, retired: rollout?.retirePolicies ?? [] },
    account,
  );
  if (planned.length === 0) return { aspect, drifted: false, found: '', changes: [] };
  const found = `its service control policies differ (${planned.map((change) => change.summary).join('; ')})`;
  if (dryRun) return { aspect, drifted: true, found, changes: wouldDo(planned) };
  const applied = await guardrailsConverger.apply(planned, account);
  return { aspect, drifted: true, found, changes: applied.done };
}

/** How long a drift lock is held at most: longer than the drift function may run (its timeout). */
export const DRIFT_LOCK_LEASE_MS = 10 * 60_000;

/** How long to wait for an account's drift lock: attempts, with doubling pauses (full jitter) between them. */
export type LockWait = Required<Pick<RetryPolicy, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>>;

/** About 100 s of waiting in all, on average. */
export const DEFAULT_LOCK_WAIT: LockWait = { maxAttempts: 40, baseDelayMs: 400, maxDelayMs: 6000 };

/**
 * Runs `work` holding the account's drift lock (see DriftStore.acquireLock), waiting for it while another
 * check of the account holds it. Still held by another after the wait: ConcurrentModificationError, which the
 * event's retry (or the next sweep) gets past.
 */
export async function withAccountLock<T>(
  deps: Deps,
  accountId: string,
  work: () => Promise<T>,
  wait: LockWait = DEFAULT_LOCK_WAIT,
): Promise<T> {
  const owner = randomUUID();
  await retry(
    async () => {
      if (!(await deps.drift.acquireLock(accountId, owner, DRIFT_LOCK_LEASE_MS))) {
        throw new ConcurrentModificationError(`another drift check of account ${accountId} is under way`);
      }
    },
    {
      ...wait,
      retryable: (error) => error instanceof ConcurrentModificationError,
      random: deps.random,
      sleep: deps.sleep,
    },
  );
  try {
    return await work();
  } finally {
    await deps.drift.releaseLock(accountId, owner).catch((error: unknown) =>
      deps.log.warn('could not release the drift lock (its lease ends it)', {
        accountId,
        error: errorText(error),
      }),
    );
  }
}

/** CloudTrail's `userIdentity`, as far as telling who acted goes. */
export interface UserIdentity {
  type?: string | undefined;
  arn?: string | undefined;
  principalId?: string | undefined;
  sessionContext?: { sessionIssuer?: { arn?: string | undefined } | undefined } | undefined;
}

const ownRoles = new WeakMap<Deps, Promise<string | undefined>>();

/**
 * Vend's own principals: `config.drift.ownPrincipalArns` (the configuration, plus `VEND_OWN_PRINCIPAL_ARNS` on
 * AWS) and, always, the role this code runs as (STS GetCallerIdentity, asked once per `deps`).
 */
export async function ownPrincipals(deps: Deps): Promise<string[]> {
  let own = ownRoles.get(deps);
  if (!own) {
    own = aws(deps.client(STSClient).send(new GetCallerIdentityCommand({})))
      .then(({ Arn }) => (Arn ? roleArnOf(Arn) : undefined))
      .catch((error: unknown) => {
        deps.log.warn('could not ask STS who Vend runs as', { error: errorText(error) });
        ownRoles.delete(deps);
        return undefined;
      });
    ownRoles.set(deps, own);
  }
  const role = await own;
  return [...deps.config.drift.ownPrincipalArns, ...(role ? [role] : [])];
}

/** The IAM role behind an assumed-role session ARN (without its path, which the session ARN does not carry). */
export function roleArnOf(arn: string): string {
  const match = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : arn;
}

/**
 * Whether one of Vend's principals made the call: the session's role (`sessionContext.sessionIssuer.arn`), or the
 * caller's ARN, equals one of `roleArns` exactly. Never a prefix: any role named like Vend's would pass for Vend.
 */
export function isOwnPrincipal(identity: UserIdentity | undefined, roleArns: readonly string[]): boolean {
  if (!identity) return false;
  const candidates = [identity.sessionContext?.sessionIssuer?.arn, identity.arn].filter(
    (arn): arn is string => typeof arn === 'string' && arn !== '',
  );
  if (identity.arn) candidates.push(roleArnOf(identity.arn));
  return candidates.some((arn) => roleArns.includes(arn));
}

/**
 * Posts a drift message through the outbox under `outbox.id` (from the drift event's id, or the sweep run's), so a retried
 * event or sweep never announces twice, and records in the history whether Slack got it (`pending`: the deliverer
 * retries it). Never throws: the drift is handled (and recorded) whatever Slack does.
 */
export async function announce(
  deps: Deps,
  outbox: { id: string; kind: 'drift' | 'sweep' },
  message: SlackMessage,
  records: { accountId: string; recordId: string }[],
): Promise<DriftRecord['announcement']> {
  let announcement: DriftRecord['announcement'];
  try {
    const outcome = await sendThroughOutbox(deps, {
      ...outbox,
      message,
      context: { records },
    });
    announcement = outcome === 'delivered' ? 'sent' : outcome === 'refused' ? 'failed' : outcome;
  } catch (error) {
    deps.log.warn('the drift message could not be put in the outbox', { error: errorText(error) });
    announcement = 'failed';
  }
  for (const { accountId, recordId } of records) {
    await deps.drift
      .record(accountId, { patch: { id: recordId, fields: { announcement } } })
      .catch((error: unknown) =>
        deps.log.warn('could not record the announcement', { accountId, recordId, error: errorText(error) }),
      );
  }
  return announcement;
}
