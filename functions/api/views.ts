import type { APIGatewayProxyResult } from 'aws-lambda';
import { accountAlias } from '../domain/alias.ts';
import {
  approversFor,
  type Profile,
  resolveProfile,
  securityDefaultsOf,
  type VendConfig,
} from '../shared/config.ts';
import {
  type AccountDesiredState,
  type ApprovalRecord,
  type DriftState,
  driftStatus,
  type RequestRecord,
  STEP_NAMES,
  type StepName,
  type VendRequest,
  vendTags,
} from '../shared/model.ts';
import { json } from './http.ts';
import type {
  AccountView,
  ApprovalView,
  DriftView,
  DryRunPlan,
  RequestAccepted,
  RequestView,
} from './schemas.ts';

/**
 * The 202 answer to a POST: the request's summary and its link; `replayed` when it is a request stored earlier
 * (the `Idempotent-Replayed` header).
 */
export function acceptedAnswer(record: RequestRecord, replayed: boolean): APIGatewayProxyResult {
  const { request, status } = record;
  const self = `/accounts/requests/${request.requestId}`;
  const body: RequestAccepted = {
    requestId: request.requestId,
    status,
    accountName: request.accountName,
    email: request.email,
    organizationalUnit: { id: request.organizationalUnit.id, path: request.organizationalUnit.path },
    ...(record.approval ? { approval: approvalView(record.approval) } : {}),
    links: { self },
  };
  return json(202, body, { location: self, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
}

/** What a failed step says in the view: Vend's reason when it is the request's failure, never an error's text. */
function failedStepDetail(record: RequestRecord, name: StepName): string {
  if (record.failure?.step === name) return record.failure.reason;
  if (name === 'notify') return 'Slack did not take the message; the account is ready';
  return 'the step failed';
}

/** The name of the error in a step's `lastError` (`Name: message`); the message may be AWS's and stays internal. */
function errorName(lastError: string): string {
  const name = lastError.split(':', 1)[0]!.trim();
  return /^[A-Za-z][\w.-]{0,99}$/.test(name) ? name : 'error';
}

/**
 * A request as its requester may see it: no operator detail. The failure's `error`, a step's `lastError` message
 * and a failed step's recorded detail can hold what AWS or Slack said; the view shows Vend's reason and advice, and
 * of a retried error only its name.
 */
export function requestView(record: RequestRecord): RequestView {
  const { request } = record;
  const steps = STEP_NAMES.flatMap((name) => {
    const step = record.steps[name];
    if (!step) return [];
    const detail = step.status === 'failed' ? failedStepDetail(record, name) : step.detail;
    return [
      {
        name,
        status: step.status,
        startedAt: step.startedAt,
        ...(step.endedAt ? { endedAt: step.endedAt } : {}),
        attempts: step.attempts,
        ...(detail ? { detail } : {}),
        ...(step.status === 'running' && step.lastError ? { lastError: errorName(step.lastError) } : {}),
      },
    ];
  });
  return {
    requestId: record.requestId,
    status: record.status,
    ...(record.accountId ? { accountId: record.accountId } : {}),
    accountName: request.accountName,
    email: request.email,
    organizationalUnit: { id: request.organizationalUnit.id, path: request.organizationalUnit.path },
    requester: {
      principal: request.requester.principal,
      ...(request.requester.slackUserId ? { slackUserId: request.requester.slackUserId } : {}),
    },
    owner: request.owner,
    steps,
    ...(record.failure
      ? {
          failure: {
            step: record.failure.step,
            reason: record.failure.reason,
            advice: record.failure.advice,
            ...(record.failure.quarantined ? { quarantined: true } : {}),
          },
        }
      : {}),
    ...(request.profile ? { guardrails: [...(request.profile.policies ?? [])] } : {}),
    ...(record.approval ? { approval: approvalView(record.approval) } : {}),
    ...(record.notification
      ? {
          notification: {
            kind: record.notification.kind,
            status: record.notification.status,
            at: record.notification.at,
          },
        }
      : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** A request's approval, field by field. */
export function approvalView(approval: ApprovalRecord): ApprovalView {
  const { decision } = approval;
  return {
    approvers: [...approval.approvers],
    requestedAt: approval.requestedAt,
    expiresAt: approval.expiresAt,
    ...(decision
      ? {
          decision: {
            outcome: decision.outcome,
            ...(decision.by ? { by: decision.by } : {}),
            ...(decision.as ? { as: [...decision.as] } : {}),
            via: decision.via,
            at: decision.at,
            ...(decision.reason ? { reason: decision.reason } : {}),
          },
        }
      : {}),
  };
}

/** Why a drift fix failed, as the API tells it: the recorded reason is AWS's error, which stays internal. */
export const DRIFT_FIX_FAILED =
  "An AWS call failed while Vend checked or put back the account; the platform team finds the error in the drift functions' logs under this entry's id.";

/** How many drift history entries each account of the list shows (one account shows all the registry keeps). */
export const LIST_DRIFT_HISTORY = 5;

/** An account's drift: its status in one word, each aspect as last checked, and the history, newest first. */
export function driftView(drift: DriftState | undefined, maxHistory = Number.POSITIVE_INFINITY): DriftView {
  const aspects: DriftView['aspects'] = {};
  for (const [aspect, value] of Object.entries(drift?.aspects ?? {})) {
    if (value)
      aspects[aspect as keyof DriftView['aspects']] = { status: value.status, checkedAt: value.checkedAt };
  }
  return {
    status: driftStatus(drift),
    aspects,
    history: (drift?.history ?? []).slice(0, maxHistory).map((entry) => ({
      id: entry.id,
      source: entry.source,
      ...(entry.eventName ? { eventName: entry.eventName } : {}),
      aspects: [...entry.aspects],
      what: entry.what,
      ...(entry.by ? { by: entry.by } : {}),
      at: entry.at,
      outcome: entry.outcome,
      ...(entry.action ? { action: entry.action } : {}),
      ...(entry.reason ? { reason: DRIFT_FIX_FAILED } : {}),
      ...(entry.announcement ? { announcement: entry.announcement } : {}),
      recordedAt: entry.recordedAt,
    })),
  };
}

/** An account's desired state and its drift, field by field (so nothing the registry adds leaks). */
export function accountView(
  account: AccountDesiredState,
  drift?: DriftState,
  maxHistory?: number,
): AccountView {
  return {
    accountId: account.accountId,
    accountName: account.accountName,
    email: account.email,
    organizationalUnit: { id: account.organizationalUnit.id, path: account.organizationalUnit.path },
    tags: account.tags,
    baselineVersion: account.baselineVersion,
    budget: {
      name: account.budget.name,
      monthlyLimitUsd: account.budget.monthlyLimitUsd,
      thresholds: account.budget.thresholds.map((t) => ({ percent: t.percent, type: t.type })),
    },
    ...(account.dns
      ? {
          dns: {
            hostedZoneId: account.dns.hostedZoneId,
            vpcId: account.dns.vpcId,
            region: account.dns.region,
          },
        }
      : {}),
    ...(account.alias ? { alias: account.alias } : {}),
    guardrails: [...(account.profile?.policies ?? [])],
    owner: account.owner,
    requestId: account.requestId,
    status: account.status,
    ...(account.hold
      ? { hold: { by: account.hold.by, at: account.hold.at, reason: account.hold.reason } }
      : {}),
    holdHistory: (account.holdHistory ?? []).map((entry) => ({
      action: entry.action,
      by: entry.by,
      at: entry.at,
      ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    })),
    drift: driftView(drift, maxHistory),
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
  };
}

/** The security defaults a request's account would get, as the dry run shows them. */
function securityDefaultsPlan(config: VendConfig, profile: Profile) {
  const defaults = securityDefaultsOf(config, profile);
  return {
    ebsEncryptionRegions: defaults.ebsEncryption ? [...config.organization.allowedRegions] : [],
    s3BlockPublicAccess: defaults.s3BlockPublicAccess,
    alternateContacts: (['security', 'billing', 'operations'] as const).filter(
      (kind) => defaults.alternateContacts[kind] !== undefined,
    ),
  };
}

/** What a checked request would do, as POST /accounts?dryRun=true answers it. */
export function dryRunPlan(config: VendConfig, request: VendRequest): DryRunPlan {
  const profile = request.profile ?? resolveProfile(config, request.organizationalUnit.path);
  const roles = profile.baselineRoles.flatMap((name) => {
    const role = config.baseline.roles.find((candidate) => candidate.name === name);
    return role ? [{ name: role.name, trustedAccountId: role.trustedAccountId }] : [];
  });
  const { 'vend:request-id': _id, ...tags } = vendTags(request);
  const alias = config.baseline.accountAliasTemplate;
  return {
    dryRun: true,
    plan: {
      accountName: request.accountName,
      email: request.email,
      organizationalUnit: { id: request.organizationalUnit.id, path: request.organizationalUnit.path },
      profile: { name: profile.name, ...(profile.description ? { description: profile.description } : {}) },
      owner: request.owner,
      approval: {
        required: profile.approval.required,
        approvers: profile.approval.required
          ? approversFor(config, profile.organizationalUnit).map((entry) => ({
              entry,
              principals: [...(config.access[entry]?.principals ?? [])],
            }))
          : [],
        ...(profile.approval.required ? { expiresAfterHours: profile.approval.expiresAfterHours } : {}),
      },
      baseline: {
        roles,
        passwordPolicy: config.baseline.passwordPolicy !== undefined,
        ...(alias ? { alias: accountAlias(alias, request.accountName) } : {}),
        securityDefaults: securityDefaultsPlan(config, profile),
      },
      budget: {
        monthlyLimitUsd: request.budget.monthlyLimitUsd,
        thresholds: request.budget.thresholds.map((t) => ({ percent: t.percent, type: t.type })),
        subscribers: [request.owner, ...config.budget.subscribers],
      },
      tags,
      ...(config.dns
        ? {
            dns: {
              hostedZoneId: config.dns.hostedZoneId,
              ...(request.vpc ? { vpc: { id: request.vpc.id, region: request.vpc.region } } : {}),
            },
          }
        : {}),
      guardrails: [...profile.policies],
    },
  };
}
