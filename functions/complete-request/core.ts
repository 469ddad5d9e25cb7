import { budgetName as defaultBudgetName } from '../domain/budget.ts';
import { accountContext, converge } from '../domain/converger.ts';
import { guardrailsConverger, profileGuardrails } from '../domain/guardrails.ts';
import { profileOfRequest, profileRoles } from '../domain/profile.ts';
import type { Deps } from '../shared/deps.ts';
import { METRIC } from '../shared/metrics-names.ts';
import type { AccountDesiredState, VendRequest } from '../shared/model.ts';
import { vendTags } from '../shared/model.ts';
import {
  type IdentityCenterAccess,
  NO_WEBHOOK,
  type RoleAccess,
  type SuccessDetails,
  sendThroughOutbox,
  successMessage,
} from '../shared/slack.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';
import { canonicalJson } from '../shared/text.ts';

/**
 * What "Announce ready" gets: the request id, the execution's identity, and the three results of "Configure
 * account". The request and its account come from the registry.
 */
export interface CompleteRequestInput extends StepInput {
  /** The Parallel state's results: each has `step` ('applyBaseline' | 'applyBudget' | 'connectDns' | 'grantAccess'). */
  configured?: unknown[];
}

export interface CompleteRequestOutput {
  /** Whether the requester has been told the account is ready (by this run or an earlier one). */
  notified: boolean;
  /** The message is in the outbox and not delivered yet: the deliverer keeps trying. */
  pending?: boolean;
}

/**
 * Ends a request that succeeded: makes sure the profile's guardrails are attached and only then detaches
 * `vend-quarantine` (the account is ready), records the account's desired state (what the drift fix keeps it at, with the
 * profile it was vended to), marks the request succeeded, and tells the requester on Slack, once, through the outbox (its id is the request id and
 * `ready`). A re-run after the message went out changes nothing and sends nothing. When Slack does not take it, the
 * step still succeeds (the account is ready either way): the message stays pending and the deliverer retries it.
 */
export async function completeRequest(
  deps: Deps,
  input: CompleteRequestInput,
): Promise<CompleteRequestOutput> {
  return runStep<CompleteRequestOutput>(deps, input, 'notify', async (record) => {
    const { request } = record;
    const accountId = accountOf(record);
    const configured = readConfigured(input.configured);
    const now = new Date().toISOString();

    const policies = profileGuardrails(deps.config, profileOfRequest(deps.config, request).policies);
    await converge(guardrailsConverger, { policies, quarantined: false }, accountContext(deps, accountId));

    const existing = await deps.accounts.get(accountId);
    const desired = desiredState(deps, request, accountId, configured, existing, now);
    if (!existing || !sameState(existing, desired)) await deps.accounts.put(desired);
    if (record.status !== 'succeeded' || record.accountId !== accountId) {
      await deps.requests.update(request.requestId, { status: 'succeeded', accountId });
      if (record.status !== 'succeeded') {
        deps.metrics.count(METRIC.vendsSucceeded);
        const seconds = (Date.parse(now) - Date.parse(record.request.submittedAt)) / 1000;
        if (Number.isFinite(seconds) && seconds >= 0) deps.metrics.count(METRIC.timeToReadySeconds, seconds);
      }
    }

    if (record.notification?.kind === 'success' && record.notification.status === 'sent') {
      return { result: { notified: true }, detail: 'the requester was already told' };
    }
    const message = successMessage(successDetails(deps, request, accountId, configured));
    const outcome = await sendThroughOutbox(deps, {
      id: `${request.requestId}#ready`,
      kind: 'ready',
      message,
      context: { requestId: request.requestId, accountId },
    });
    const at = new Date().toISOString();
    if (outcome === 'skipped') {
      await deps.requests.update(request.requestId, {
        notification: { kind: 'success', status: 'skipped', at, error: NO_WEBHOOK },
      });
      return { result: { notified: false }, detail: `account ${accountId} ready; ${NO_WEBHOOK}` };
    }
    if (outcome !== 'delivered') {
      const status = outcome === 'refused' ? 'failed' : 'pending';
      await deps.requests.update(request.requestId, { notification: { kind: 'success', status, at } });
      return {
        result: { notified: false, ...(status === 'pending' ? { pending: true } : {}) },
        detail:
          status === 'pending'
            ? `account ${accountId} ready; the Slack message waits in the outbox`
            : `account ${accountId} ready; Slack refused the message`,
      };
    }
    await deps.requests.update(request.requestId, { notification: { kind: 'success', status: 'sent', at } });
    return {
      result: { notified: true },
      detail: `account ${accountId} ready; the requester was told on Slack`,
    };
  });
}

/** The Parallel results, read defensively: each found by its `step`, or else by its position. */
interface Configured {
  baseline: Record<string, unknown>;
  budget: Record<string, unknown>;
  dns: Record<string, unknown>;
  access: Record<string, unknown>;
}

const BRANCHES = ['applyBaseline', 'applyBudget', 'connectDns', 'grantAccess'] as const;

function readConfigured(results: unknown[] | undefined): Configured {
  const list = Array.isArray(results) ? results.map((result) => (isObject(result) ? result : {})) : [];
  const find = (step: (typeof BRANCHES)[number]) =>
    list.find((result) => result.step === step) ??
    (list.some((result) => typeof result.step === 'string') ? undefined : list[BRANCHES.indexOf(step)]) ??
    {};
  return {
    baseline: find('applyBaseline'),
    budget: find('applyBudget'),
    dns: find('connectDns'),
    access: find('grantAccess'),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function dnsAssociation(
  deps: Deps,
  request: VendRequest,
  dns: Record<string, unknown>,
): AccountDesiredState['dns'] {
  const hostedZoneId = str(dns.hostedZoneId);
  const vpcId = str(dns.vpcId);
  if (!hostedZoneId || !vpcId) return undefined;
  return {
    hostedZoneId,
    vpcId,
    region: str(dns.region) ?? request.vpc?.region ?? deps.config.organization.homeRegion,
  };
}

function desiredState(
  deps: Deps,
  request: VendRequest,
  accountId: string,
  configured: Configured,
  existing: AccountDesiredState | undefined,
  now: string,
): AccountDesiredState {
  const { baseline, budget } = configured;
  const budgetName = str(budget.budgetName);
  if (!budgetName)
    deps.log.warn('the budget step returned no budget name', { requestId: request.requestId, accountId });
  const limit =
    typeof budget.monthlyLimitUsd === 'number' ? budget.monthlyLimitUsd : request.budget.monthlyLimitUsd;
  const dns = dnsAssociation(deps, request, configured.dns);
  const alias = str(baseline.alias);
  return {
    accountId,
    accountName: request.accountName,
    email: request.email,
    organizationalUnit: request.organizationalUnit,
    tags: vendTags(request),
    baselineVersion: str(baseline.version) ?? deps.config.baseline.version,
    budget: {
      ...request.budget,
      monthlyLimitUsd: limit,
      name: budgetName ?? defaultBudgetName(request.accountName),
    },
    ...(dns ? { dns } : {}),
    ...(alias ? { alias } : {}),
    owner: request.owner,
    requester: request.requester.principal,
    requestId: request.requestId,
    profile: profileOfRequest(deps.config, request),
    status: 'active',
    createdAt: existing?.createdAt ?? now,
    updatedAt: existing?.updatedAt ?? now,
  };
}

/** Whether the stored state already says what we would write (so a re-run writes nothing). */
function sameState(a: AccountDesiredState, b: AccountDesiredState): boolean {
  return canonicalJson({ ...a, updatedAt: '' }) === canonicalJson({ ...b, updatedAt: '' });
}

/** What the message says was set up: the profile's roles (how to reach them), and what each step did. */
function successDetails(
  deps: Deps,
  request: VendRequest,
  accountId: string,
  configured: Configured,
): SuccessDetails {
  const { baseline, budget, dns } = configured;
  const results = Array.isArray(baseline.roles) ? baseline.roles.filter(isObject) : [];
  const profile = profileOfRequest(deps.config, request);
  const roles: RoleAccess[] = profileRoles(deps.config, profile.baselineRoles).map((role) => {
    const arn = str(results.find((result) => result.name === role.name)?.arn);
    return {
      name: role.name,
      ...(arn ? { arn } : {}),
      trustedAccountId: role.trustedAccountId,
      requireMfa: role.requireMfa,
      externalIdRequired: role.externalId !== undefined,
    };
  });
  for (const result of results) {
    const name = str(result.name);
    if (name && !roles.some((role) => role.name === name)) {
      const arn = str(result.arn);
      roles.push({ name, ...(arn ? { arn } : {}) });
    }
  }
  const association = dnsAssociation(deps, request, dns);
  const alias = str(baseline.alias);
  const version = str(baseline.version);
  return {
    request,
    accountId,
    roles,
    ...(alias ? { alias } : {}),
    passwordPolicy: deps.config.baseline.passwordPolicy !== undefined,
    guardrails: profile.policies ?? [],
    securityDefaults: securityDefaultsWords(baseline.securityDefaults),
    ...(version ? { baselineVersion: version } : {}),
    budget: {
      ...(str(budget.budgetName) ? { name: str(budget.budgetName) } : {}),
      monthlyLimitUsd:
        typeof budget.monthlyLimitUsd === 'number' ? budget.monthlyLimitUsd : request.budget.monthlyLimitUsd,
      thresholds: request.budget.thresholds,
      subscribers: deps.config.budget.subscribers,
    },
    ...(association ? { dns: association } : { dnsNote: noDnsNote(deps, dns) }),
    ...identityCenterAccess(configured.access),
  };
}

/** The grant-access step's output, read defensively: nothing when it assigned nothing. */
function identityCenterAccess(access: Record<string, unknown>): { identityCenter?: IdentityCenterAccess } {
  const portalUrl = str(access.portalUrl);
  if (access.configured !== true || !portalUrl) return {};
  const list = (value: unknown) => (Array.isArray(value) ? value.filter(isObject) : []);
  return {
    identityCenter: {
      portalUrl,
      permissionSets: Array.isArray(access.permissionSets)
        ? access.permissionSets.filter((name): name is string => typeof name === 'string')
        : [],
      granted: list(access.granted).map((grant) => ({
        permissionSet: str(grant.permissionSet) ?? '',
        principal: str(grant.principal) ?? '',
      })),
      unassigned: list(access.unassigned).map((person) => ({
        role: person.role === 'requester' ? 'requester' : 'owner',
        who: str(person.who) ?? '',
        permissionSet: str(person.permissionSet) ?? '',
        reason: str(person.reason) ?? '',
      })),
    },
  };
}

function noDnsNote(deps: Deps, dns: Record<string, unknown>): string {
  if (!deps.config.dns) return 'no shared private DNS is configured';
  const why = str(dns.reason) ?? str(dns.detail);
  return `no VPC was associated with the private hosted zone${why ? ` (${why})` : ''}`;
}

/** The apply-baseline step's account security defaults (its recorded output), in words for the ready message. */
function securityDefaultsWords(outcome: unknown): string[] {
  if (!isObject(outcome)) return [];
  const words: string[] = [];
  const regions = Array.isArray(outcome.ebsEncryptionRegions)
    ? outcome.ebsEncryptionRegions.filter((item): item is string => typeof item === 'string')
    : [];
  if (regions.length > 0) words.push(`EBS encryption by default in ${regions.join(', ')}`);
  if (outcome.s3BlockPublicAccess === 'on') words.push('S3 Block Public Access on');
  const contacts = Array.isArray(outcome.alternateContacts)
    ? outcome.alternateContacts.filter((item): item is string => typeof item === 'string')
    : [];
  if (contacts.length > 0) words.push(`alternate contacts: ${contacts.join(', ')}`);
  return words;
}
