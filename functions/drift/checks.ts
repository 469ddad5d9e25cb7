import { randomUUID } from 'node:crypto';
import {
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { moveAccountToOu } from '../move-account/core.ts';
import type { Deps } from '../shared/deps.ts';
import {
  AccountNotReadyError,
  aws,
  ConcurrentModificationError,
  ThrottledError,
  TransientError,
} from '../shared/errors.ts';
import type { AccountDesiredState, DriftAspect, DriftRecord } from '../shared/model.ts';
import { type RetryPolicy, retry } from '../shared/retry.ts';
import { type SlackMessage, sendToRequester } from '../shared/slack.ts';

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

/** An error in a sentence for the drift history. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

const ouName = (desired: AccountDesiredState) =>
  `${desired.organizationalUnit.path} (${desired.organizationalUnit.id})`;

/**
 * The account's OU against the desired one; moved back unless `dryRun`. The parent is read again right before
 * the move, and MoveAccount names the parent it moves from, so of two concurrent fixes only one moves: the other
 * finds it back in place (no change recorded). Someone moving it again in between is met by looking again.
 */
export async function checkOrganizationalUnit(
  deps: Deps,
  desired: AccountDesiredState,
  dryRun: boolean,
): Promise<AspectCheck> {
  const aspect = 'organizationalUnit';
  const parent = await currentParent(deps, desired.accountId);
  if (parent === desired.organizationalUnit.id) return { aspect, drifted: false, found: '', changes: [] };
  const found = `it is in ${parent}, not in ${ouName(desired)}`;
  if (dryRun)
    return {
      aspect,
      drifted: true,
      found,
      actual: parent,
      changes: [`would move it back to ${ouName(desired)}`],
    };
  for (let attempt = 1; ; attempt++) {
    try {
      const moved = await moveAccountToOu(deps, desired.accountId, desired.organizationalUnit.id);
      return {
        aspect,
        drifted: true,
        found,
        actual: parent,
        changes: moved.action === 'moved' ? [`moved it from ${moved.from} back to ${ouName(desired)}`] : [],
      };
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= 3) throw error;
    }
  }
}

async function currentParent(deps: Deps, accountId: string): Promise<string> {
  const { Parents } = await aws(
    deps.client(OrganizationsClient).send(new ListParentsCommand({ ChildId: accountId })),
  );
  const parent = Parents?.[0]?.Id;
  if (!parent) throw new Error(`ListParents gave no parent for ${accountId}`);
  return parent;
}

/**
 * The account's tags against the ones Vend owns (the desired state's `tags`, `vendTags(request)`): missing or
 * changed ones are put back with one TagResource unless `dryRun`. Tags Vend does not own are left alone.
 */
export async function checkTags(
  deps: Deps,
  desired: AccountDesiredState,
  dryRun: boolean,
): Promise<AspectCheck> {
  const aspect = 'tags';
  const actual = await accountTags(deps, desired.accountId);
  const wrong = Object.entries(desired.tags).filter(([key, value]) => actual.get(key) !== value);
  if (wrong.length === 0) return { aspect, drifted: false, found: '', changes: [] };
  const found = wrong
    .map(([key]) =>
      actual.has(key)
        ? `tag ${key} is "${actual.get(key)}", not "${desired.tags[key]}"`
        : `tag ${key} is missing`,
    )
    .join('; ');
  const keys = wrong.map(([key]) => key).join(', ');
  if (dryRun) return { aspect, drifted: true, found, changes: [`would restore the tag(s) ${keys}`] };
  await aws(
    deps.client(OrganizationsClient).send(
      new TagResourceCommand({
        ResourceId: desired.accountId,
        Tags: wrong.map(([Key, Value]) => ({ Key, Value })),
      }),
    ),
  );
  return { aspect, drifted: true, found, changes: [`restored the tag(s) ${keys}`] };
}

async function accountTags(deps: Deps, accountId: string): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await aws(
      deps
        .client(OrganizationsClient)
        .send(
          new ListTagsForResourceCommand({ ResourceId: accountId, ...(token ? { NextToken: token } : {}) }),
        ),
    );
    for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? '');
    token = page.NextToken;
  } while (token);
  return tags;
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
 * caller's ARN, equals one of `patterns`, or starts with one ending in `*`.
 */
export function isOwnPrincipal(identity: UserIdentity | undefined, patterns: readonly string[]): boolean {
  if (!identity) return false;
  const candidates = [identity.sessionContext?.sessionIssuer?.arn, identity.arn].filter(
    (arn): arn is string => typeof arn === 'string' && arn !== '',
  );
  if (identity.arn) candidates.push(roleArnOf(identity.arn));
  return candidates.some((arn) =>
    patterns.some((pattern) =>
      pattern.endsWith('*') ? arn.startsWith(pattern.slice(0, -1)) : arn === pattern,
    ),
  );
}

/**
 * Posts a drift message and records in the history whether Slack got it. Never throws: the drift is handled
 * (and recorded) whatever Slack does.
 */
export async function announce(
  deps: Deps,
  message: SlackMessage,
  records: { accountId: string; recordId: string }[],
): Promise<DriftRecord['announcement']> {
  let announcement: DriftRecord['announcement'];
  try {
    announcement = await sendToRequester(deps, message, { records: records.map((r) => r.recordId) });
  } catch (error) {
    deps.log.warn('Slack did not take the drift message', { error: errorText(error) });
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
