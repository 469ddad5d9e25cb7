import * as z from 'zod';
import { checkPolicyContent } from '../domain/guardrails.ts';
import type { Deps } from '../shared/deps.ts';
import { DRIFT_EVENT_PATTERN } from '../shared/drift-pattern.ts';
import { matchesPattern } from '../shared/event-pattern.ts';
import { METRIC } from '../shared/metrics-names.ts';
import type { AccountDesiredState, DriftAspect, DriftOutcome, DriftRecord } from '../shared/model.ts';
import {
  type AspectCheck,
  announce,
  checkGuardrails,
  checkOrganizationalUnit,
  checkTags,
  errorText,
  failureWords,
  incidentOf,
  isOwnPrincipal,
  isRetryable,
  ownPrincipals,
  withAccountLock,
} from './checks.ts';
import { driftEventMessage, policyDriftMessage } from './messages.ts';
import { type SweepResult, sweepDrift } from './sweep.ts';

/** What became of one event. */
export interface DriftEventResult {
  /**
   * `dropped`: malformed or not an event Vend watches; `ignored`: nothing for Vend to do (a failed call, Vend's
   * own change, an account Vend did not vend ...); `duplicate`: another delivery of an event already acted on;
   * else what became of the drift.
   */
  outcome: 'dropped' | 'ignored' | 'duplicate' | DriftOutcome;
  reason?: string;
  eventId?: string;
  accountId?: string;
  what?: string;
  action?: string;
}

/** How long a claimed event stays this delivery's to act on: longer than the function may run. */
export const DRIFT_EVENT_LEASE_MS = 10 * 60_000;

const identitySchema = z.object({
  type: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  principalId: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: z.object({ sessionIssuer: z.object({ arn: z.string().optional() }).optional() }).optional(),
});

/** An EventBridge event carrying a CloudTrail record, as far as the drift function reads it. */
const driftEventSchema = z.object({
  id: z.string().min(1).max(256),
  'detail-type': z.string(),
  source: z.string(),
  time: z.string().optional(),
  detail: z.object({
    eventSource: z.string(),
    eventName: z.string(),
    eventTime: z.string().optional(),
    userIdentity: identitySchema.optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
    errorCode: z.string().optional(),
    recipientAccountId: z.string().optional(),
    serviceEventDetails: z.record(z.string(), z.unknown()).optional(),
  }),
});

type DriftEvent = z.output<typeof driftEventSchema>;

/** EventBridge's scheduled event: the drift rule's schedule sends it to run the sweep. */
function isScheduledEvent(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  const event = input as Record<string, unknown>;
  return event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';
}

/**
 * The drift function, an EventBridge target: an Organizations change matching `DRIFT_EVENT_PATTERN` is checked
 * and, in fix mode, put back (see `handleDriftEvent`); the schedule's event runs the sweep (`sweepDrift`).
 */
export async function handleDrift(
  deps: Deps,
  input: unknown,
  context?: { getRemainingTimeInMillis(): number },
): Promise<DriftEventResult | SweepResult> {
  if (isScheduledEvent(input)) {
    const result = await sweepDrift(
      deps,
      {},
      context ? { remainingTimeMs: () => context.getRemainingTimeInMillis() } : {},
    );
    return result;
  }
  return handleDriftEvent(deps, input);
}

/** What an event is about, once read. */
type Target =
  | { kind: 'move'; accountId: string; from?: string; to?: string }
  | { kind: 'tag'; accountId: string; keys?: string[]; tags?: Record<string, string> }
  | { kind: 'untag'; accountId: string; keys?: string[] }
  | { kind: 'policy'; accountId: string; attached: boolean; policyId?: string }
  | { kind: 'close'; accountId: string }
  | { kind: 'remove'; accountId: string }
  | { kind: 'leave'; accountId: string }
  | { kind: 'depart'; accountId: string; method?: string };

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Handles one Organizations change to an account (EventBridge delivers it at least once, possibly late and out
 * of order, possibly several at a time for one account):
 * - drops, with a log line and without failing, what is malformed or not an event Vend watches;
 * - ignores failed calls (`errorCode`), CreateAccountResult (a creation ending: nothing to fix), Vend's own
 *   principals' changes, and accounts Vend did not vend or that are no longer active;
 * - acts once per event id (a conditional write claims it), under the account's drift lock, on the account's
 *   state as it is now (read again), not as the event describes it: a MoveAccount puts the account back in its OU,
 *   a TagResource/UntagResource puts back the tags Vend owns (report mode: only tells), a CloseAccount,
 *   RemoveAccountFromOrganization, LeaveOrganization or AccountDepartedOrganization is membership drift: the
 *   account is marked closed or removed and it is reported;
 * - records it in the account's drift history (what, who, when, what was done) and tells Slack once.
 * What the account's profile decides (its baseline roles and alerts) lives in IAM and Budgets, which no
 * Organizations event tells of: the sweep keeps it at the recorded profile.
 * Throttling and other transient errors propagate after the claim is given up, so EventBridge retries the event.
 */
export async function handleDriftEvent(deps: Deps, input: unknown): Promise<DriftEventResult> {
  const parsed = driftEventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return dropped(
      deps,
      `not an EventBridge event carrying a CloudTrail record (${issue?.path.join('.') || 'event'}: ${issue?.message})`,
    );
  }
  const event = parsed.data;
  const { detail } = event;
  if (!matchesPattern(DRIFT_EVENT_PATTERN, input)) {
    return dropped(
      deps,
      `not an Organizations change Vend watches (${event.source}, ${event['detail-type']}, ${detail.eventName})`,
      event.id,
    );
  }
  if (detail.errorCode) return ignored(deps, event, `the call failed (${detail.errorCode}): nothing changed`);
  if (detail.eventName === 'CreateAccountResult') {
    deps.log.info('an account creation ended: nothing to fix', {
      eventId: event.id,
      createAccountStatus: detail.serviceEventDetails?.createAccountStatus,
    });
    return ignored(deps, event, 'an account creation ended: nothing to fix');
  }
  if (detail.eventName === 'UpdatePolicy') return handlePolicyUpdate(deps, event);
  const target = targetOf(detail);
  if (typeof target === 'string') {
    return target.startsWith('not an account')
      ? ignored(deps, event, target)
      : dropped(deps, `${detail.eventName} without ${target}`, event.id);
  }
  const { accountId } = target;
  if (isOwnPrincipal(detail.userIdentity, await ownPrincipals(deps))) {
    return ignored(deps, event, "Vend's own change", accountId);
  }
  const known = await deps.accounts.get(accountId);
  if (!known) return ignored(deps, event, 'an account Vend did not vend', accountId);
  if (known.status !== 'active') return ignored(deps, event, `the account is ${known.status}`, accountId);
  const irrelevant = irrelevance(target, known);
  if (irrelevant) return ignored(deps, event, irrelevant, accountId);

  const claim = await deps.drift.claimEvent(event.id, DRIFT_EVENT_LEASE_MS);
  if (claim !== 'claimed') {
    deps.log.info('drift event already acted on', { eventId: event.id, accountId, claim });
    return {
      outcome: 'duplicate',
      eventId: event.id,
      accountId,
      reason: claim === 'done' ? 'acted on' : 'being acted on',
    };
  }
  let acted: { record: DriftRecord; account: AccountDesiredState } | undefined;
  try {
    acted = await withAccountLock(deps, accountId, () => act(deps, event, target));
  } catch (error) {
    // Throttled, a concurrent change, the lock held elsewhere ...: EventBridge delivers the event again.
    await deps.drift.releaseEvent(event.id).catch(() => undefined);
    deps.log.warn('drift event not handled yet: it will be retried', {
      eventId: event.id,
      accountId,
      error: errorText(error),
    });
    throw error;
  }
  if (!acted) {
    await deps.drift.finishEvent(event.id);
    return ignored(deps, event, 'the account was closed or removed meanwhile', accountId);
  }
  const { record, account } = acted;
  if (record.outcome !== 'in-sync') deps.metrics.count(METRIC.driftDetected);
  if (record.outcome === 'fixed') deps.metrics.count(METRIC.driftFixed);
  if (record.outcome !== 'in-sync') {
    await announce(deps, { id: `drift#${event.id}`, kind: 'drift' }, driftEventMessage(record, account), [
      { accountId, recordId: record.id },
    ]);
  }
  await deps.drift.finishEvent(event.id);
  deps.log.info('drift event handled', {
    eventId: event.id,
    accountId,
    outcome: record.outcome,
    what: record.what,
  });
  return {
    outcome: record.outcome,
    eventId: event.id,
    accountId,
    what: record.what,
    ...(record.action ? { action: record.action } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
  };
}

/** Checks the aspect the event is about, on the account as it is now, and records what it found and did. */
async function act(
  deps: Deps,
  event: DriftEvent,
  target: Target,
): Promise<{ record: DriftRecord; account: AccountDesiredState } | undefined> {
  const { accountId } = target;
  // Read again under the lock: another event may have closed it meanwhile.
  const account = await deps.accounts.get(accountId);
  if (account?.status !== 'active') return undefined;
  // On hold or quarantined (incident response): what differs is reported, never put back.
  const incident = isMembershipEvent(target) ? undefined : await incidentOf(deps, account);
  const dryRun = deps.config.drift.mode === 'report' || incident !== undefined;
  const base = {
    id: event.id,
    source: 'event' as const,
    eventName: event.detail.eventName,
    what: describeEvent(target),
    ...(whoDidIt(event) ? { by: whoDidIt(event) } : {}),
    at: isoTime(event.detail.eventTime ?? event.time),
  };
  let record: DriftRecord;
  let aspects: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>>;

  if (isMembershipEvent(target)) {
    const status = membershipStatus(target);
    if (account.status === 'active') await deps.accounts.setStatus(accountId, status);
    aspects = { membership: 'drifted' };
    record = {
      ...base,
      aspects: ['membership'],
      outcome: 'reported',
      action: `the registry now shows the account ${status}`,
      recordedAt: new Date().toISOString(),
    };
  } else {
    const aspect: DriftAspect =
      target.kind === 'move' ? 'organizationalUnit' : target.kind === 'policy' ? 'guardrails' : 'tags';
    let check: AspectCheck | undefined;
    let failure: string | undefined;
    try {
      check =
        target.kind === 'move'
          ? await checkOrganizationalUnit(deps, account, dryRun)
          : target.kind === 'policy'
            ? await checkGuardrails(deps, account, dryRun)
            : await checkTags(deps, account, dryRun);
    } catch (error) {
      if (isRetryable(error)) throw error;
      deps.log.warn('drift fix failed', { eventId: event.id, accountId, error: errorText(error) });
      failure = failureWords(error);
    }
    let outcome: DriftOutcome;
    if (failure !== undefined) outcome = 'failed';
    else if (!check!.drifted) outcome = 'in-sync';
    else if (dryRun) outcome = incident?.outcome ?? 'reported';
    // Drifted, yet nothing to change when fixing: put back meanwhile (by another delivery, or by hand).
    else outcome = check!.changes.length > 0 ? 'fixed' : 'in-sync';
    aspects = { [aspect]: outcome === 'in-sync' || outcome === 'fixed' ? 'in-sync' : 'drifted' };
    const action =
      outcome === 'in-sync'
        ? 'nothing: when Vend looked, the account was already as it should be'
        : check?.changes.join('; ');
    record = {
      ...base,
      aspects: [aspect],
      what:
        whatDrifted(base.what, target, check) +
        (incident && outcome === incident.outcome ? `; ${incident.why}` : ''),
      outcome,
      ...(action ? { action } : {}),
      ...(failure !== undefined ? { reason: failure } : {}),
      recordedAt: new Date().toISOString(),
    };
  }
  await deps.drift.record(accountId, { aspects, record });
  return { record, account };
}

/** A membership event (closed, removed, left, departed): reported whatever the account's state, never put back. */
function isMembershipEvent(target: Target): boolean {
  return (
    target.kind !== 'move' && target.kind !== 'tag' && target.kind !== 'untag' && target.kind !== 'policy'
  );
}

/** The event in words, and what Vend found when it is more than the event says (a later move, other tags). */
function whatDrifted(described: string, target: Target, check: AspectCheck | undefined): string {
  if (!check?.drifted) return described;
  if (target.kind === 'move')
    return check.actual === target.to ? described : `${described}; now ${check.found}`;
  if (target.kind === 'policy') return `${described}: ${check.found}`;
  return `${described} (${check.found})`;
}

/** What a membership event leaves the account as in the registry. */
function membershipStatus(target: Target): 'closed' | 'removed' {
  if (target.kind === 'close') return 'closed';
  return target.kind === 'depart' && target.method?.toUpperCase() === 'CLEANED' ? 'closed' : 'removed';
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The departed account of an AccountDepartedOrganization service event. Organizations documents its fields
 * `departureMethod` (LEFT, REMOVED, CLEANED) and `departureTime` (API Reference, LeaveOrganization), not their
 * nesting: they are read from `serviceEventDetails` itself or from the one object it wraps them in.
 */
function departure(details: Record<string, unknown> | undefined): { accountId?: string; method?: string } {
  if (!details) return {};
  const nested = Object.values(details).find(
    (value): value is Record<string, unknown> => typeof value === 'object' && value !== null,
  );
  const read = (key: string) => text(details[key]) ?? text(nested?.[key]);
  const accountId = read('accountId');
  const method = read('departureMethod');
  return { ...(accountId ? { accountId } : {}), ...(method ? { method } : {}) };
}

/** The account (and what else matters) an event is about; a string says what is missing, or why it is no account. */
function targetOf(detail: DriftEvent['detail']): Target | string {
  const { eventName } = detail;
  const params = detail.requestParameters ?? {};
  if (eventName === 'LeaveOrganization') {
    // No parameters: the account leaving is the caller's own, where CloudTrail records the call.
    const accountId = detail.userIdentity?.accountId ?? detail.recipientAccountId;
    if (!accountId || !ACCOUNT_ID.test(accountId)) return "the caller's 12-digit userIdentity.accountId";
    return { kind: 'leave', accountId };
  }
  if (eventName === 'AccountDepartedOrganization') {
    const { accountId, method } = departure(detail.serviceEventDetails);
    if (!accountId || !ACCOUNT_ID.test(accountId)) return 'a 12-digit serviceEventDetails accountId';
    return { kind: 'depart', accountId, ...(method ? { method } : {}) };
  }
  if (eventName === 'TagResource' || eventName === 'UntagResource') {
    const resourceId = text(params.resourceId);
    if (!resourceId) return 'requestParameters.resourceId';
    if (!ACCOUNT_ID.test(resourceId)) return `not an account: ${resourceId}`;
    if (eventName === 'UntagResource') {
      const keys = Array.isArray(params.tagKeys)
        ? params.tagKeys.filter((k) => typeof k === 'string')
        : undefined;
      return { kind: 'untag', accountId: resourceId, ...(keys ? { keys } : {}) };
    }
    const tags = Array.isArray(params.tags)
      ? Object.fromEntries(
          params.tags.flatMap((tag) => {
            const entry = tag as Record<string, unknown>;
            const key = text(entry?.key ?? entry?.Key);
            return key ? [[key, String(entry?.value ?? entry?.Value ?? '')]] : [];
          }),
        )
      : undefined;
    return { kind: 'tag', accountId: resourceId, ...(tags ? { tags, keys: Object.keys(tags) } : {}) };
  }
  if (eventName === 'AttachPolicy' || eventName === 'DetachPolicy') {
    const targetId = text(params.targetId);
    if (!targetId) return 'requestParameters.targetId';
    if (!ACCOUNT_ID.test(targetId)) return `not an account: ${targetId}`;
    const policyId = text(params.policyId);
    return {
      kind: 'policy',
      accountId: targetId,
      attached: eventName === 'AttachPolicy',
      ...(policyId ? { policyId } : {}),
    };
  }
  const accountId = text(params.accountId);
  if (!accountId || !ACCOUNT_ID.test(accountId)) return 'a 12-digit requestParameters.accountId';
  if (eventName === 'MoveAccount') {
    const from = text(params.sourceParentId);
    const to = text(params.destinationParentId);
    return { kind: 'move', accountId, ...(from ? { from } : {}), ...(to ? { to } : {}) };
  }
  if (eventName === 'CloseAccount') return { kind: 'close', accountId };
  return { kind: 'remove', accountId };
}

/** Why an event about a vended account is no drift: it put the account in its own OU, or touched no tag Vend owns. */
function irrelevance(target: Target, account: AccountDesiredState): string | undefined {
  if (target.kind === 'move' && target.to === account.organizationalUnit.id) return 'moved into its own OU';
  if ((target.kind === 'tag' || target.kind === 'untag') && target.keys) {
    const owned = target.keys.filter((key) => Object.hasOwn(account.tags, key));
    if (owned.length === 0) return 'touches no tag Vend owns';
    if (target.kind === 'tag' && target.tags && owned.every((key) => target.tags![key] === account.tags[key]))
      return 'sets the tags Vend owns to their own values';
  }
  return undefined;
}

function describeEvent(target: Target): string {
  switch (target.kind) {
    case 'move':
      return `moved from ${target.from ?? 'its OU'} to ${target.to ?? 'another parent'}`;
    case 'tag':
      return target.tags
        ? `tagged ${Object.entries(target.tags)
            .map(([key, value]) => `${key}=${value}`)
            .join(', ')}`
        : 'tagged';
    case 'untag':
      return target.keys ? `untagged ${target.keys.join(', ')}` : 'untagged';
    case 'policy':
      return `policy ${target.policyId ?? '(unknown)'} ${target.attached ? 'attached' : 'detached'}`;
    case 'close':
      return 'closed';
    case 'remove':
      return 'removed from the organization';
    case 'leave':
      return 'left the organization';
    case 'depart':
      return target.method
        ? `departed from the organization (${target.method})`
        : 'departed from the organization';
  }
}

/**
 * UpdatePolicy: the content of a policy changed, for every account it is attached to. A policy Vend keeps
 * (vend-quarantine, a configured policy with a document) is put back to what Vend renders (report mode: told
 * only); any other policy is none of Vend's business. Acted on once per event id; told on Slack, not recorded in
 * an account's drift history (the policy is the organization's, not one account's): the sweep records what it finds
 * per account.
 */
async function handlePolicyUpdate(deps: Deps, event: DriftEvent): Promise<DriftEventResult> {
  const policyId = text(event.detail.requestParameters?.policyId);
  if (!policyId) return dropped(deps, 'UpdatePolicy without requestParameters.policyId', event.id);
  if (isOwnPrincipal(event.detail.userIdentity, await ownPrincipals(deps)))
    return ignored(deps, event, "Vend's own change");
  const claim = await deps.drift.claimEvent(event.id, DRIFT_EVENT_LEASE_MS);
  if (claim !== 'claimed')
    return {
      outcome: 'duplicate',
      eventId: event.id,
      reason: claim === 'done' ? 'acted on' : 'being acted on',
    };
  const dryRun = deps.config.drift.mode === 'report';
  let checked: Awaited<ReturnType<typeof checkPolicyContent>>;
  let failure: string | undefined;
  try {
    checked = await checkPolicyContent(deps, policyId, dryRun);
  } catch (error) {
    if (isRetryable(error)) {
      await deps.drift.releaseEvent(event.id).catch(() => undefined);
      throw error;
    }
    deps.log.warn('drift fix failed', { eventId: event.id, policyId, error: errorText(error) });
    failure = failureWords(error);
  }
  if (failure === undefined && !checked) {
    await deps.drift.finishEvent(event.id);
    return ignored(deps, event, 'a policy Vend does not keep');
  }
  const outcome: DriftOutcome =
    failure !== undefined
      ? 'failed'
      : !checked!.drifted
        ? 'in-sync'
        : dryRun
          ? 'reported'
          : checked!.changes.length > 0
            ? 'fixed'
            : 'in-sync';
  const what = `the content of the policy ${checked?.name ?? policyId} was changed`;
  const action = checked?.changes.join('; ');
  if (outcome !== 'in-sync') {
    deps.metrics.count(METRIC.driftDetected);
    if (outcome === 'fixed') deps.metrics.count(METRIC.driftFixed);
    await announce(
      deps,
      { id: `drift#${event.id}`, kind: 'drift' },
      policyDriftMessage({
        eventId: event.id,
        what,
        by: whoDidIt(event),
        at: isoTime(event.detail.eventTime ?? event.time),
        outcome,
        ...(action ? { action } : {}),
      }),
      [],
    );
  }
  await deps.drift.finishEvent(event.id);
  deps.log.info('drift event handled', { eventId: event.id, policyId, outcome, what });
  return {
    outcome,
    eventId: event.id,
    what,
    ...(action ? { action } : {}),
    ...(failure ? { reason: failure } : {}),
  };
}

/** The event's time as ISO 8601 (CloudTrail's own form, without milliseconds, is kept); now when it has none. */
function isoTime(value: string | undefined): string {
  const time = value === undefined ? Number.NaN : Date.parse(value);
  return Number.isNaN(time) ? new Date().toISOString() : new Date(time).toISOString();
}

function whoDidIt(event: DriftEvent): string | undefined {
  const identity = event.detail.userIdentity;
  return identity?.arn ?? identity?.principalId ?? identity?.invokedBy ?? identity?.type;
}

function dropped(deps: Deps, reason: string, eventId?: string): DriftEventResult {
  deps.log.warn('drift event dropped', { reason, ...(eventId ? { eventId } : {}) });
  return { outcome: 'dropped', reason, ...(eventId ? { eventId } : {}) };
}

function ignored(deps: Deps, event: DriftEvent, reason: string, accountId?: string): DriftEventResult {
  deps.log.info('drift event ignored', {
    reason,
    eventId: event.id,
    eventName: event.detail.eventName,
    ...(accountId ? { accountId } : {}),
  });
  return { outcome: 'ignored', reason, eventId: event.id, ...(accountId ? { accountId } : {}) };
}
