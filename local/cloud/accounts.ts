import type { Cloud } from './cloud.ts';
import { attachDefaultPolicies } from './policies.ts';
import type { AccountRecord, CreateAccountRequestRecord } from './state.ts';

export const ACCESS_ROLE_NAME = 'OrganizationAccountAccessRole';
export const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** A trust policy that lets principals of `accountId` assume the role. */
export function trustAccount(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' },
    ],
  });
}

/**
 * A new member account as AWS makes it: in the root, with the access role trusting the management account and
 * holding AdministratorAccess, and a default VPC in the home region.
 */
export function newAccount(
  cloud: Cloud,
  fields: {
    id?: string;
    name: string;
    email: string;
    roleName?: string;
    joinedMethod?: 'CREATED' | 'INVITED';
    parentId?: string;
    joinedAt?: number;
  },
): AccountRecord {
  const id = fields.id ?? cloud.ids.accountId();
  const now = cloud.clock.now();
  const account: AccountRecord = {
    id,
    name: fields.name,
    email: fields.email,
    status: 'ACTIVE',
    joinedMethod: fields.joinedMethod ?? 'CREATED',
    joinedAt: fields.joinedAt ?? now,
    parentId: fields.parentId ?? cloud.state.organization.rootId,
    iam: { roles: {} },
    budgets: {},
    vpcs: {},
  };
  if (fields.roleName !== undefined) {
    account.iam.roles[fields.roleName] = {
      roleName: fields.roleName,
      roleId: cloud.ids.roleId(),
      path: '/',
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: trustAccount(cloud.state.organization.managementAccountId),
      createdAt: now,
      tags: [],
      inlinePolicies: {},
      attachedPolicies: [ADMINISTRATOR_ACCESS],
    };
  }
  const vpcId = cloud.ids.vpcId();
  account.vpcs[vpcId] = { vpcId, region: cloud.state.region, cidrBlock: '172.31.0.0/16', isDefault: true };
  cloud.state.accounts[id] = account;
  attachDefaultPolicies(cloud.state, id);
  return account;
}

/** Finishes a creation whose time has come: the account appears, or the request fails with its reason. */
export function completeCreation(cloud: Cloud, request: CreateAccountRequestRecord): void {
  const { state } = cloud;
  const emailTaken = Object.values(state.accounts).some((account) => sameEmail(account.email, request.email));
  const accountCount = Object.values(state.accounts).filter((account) => !account.departed).length;
  request.completedAt = request.completesAt;
  if (request.outcome.state === 'FAILED') {
    request.state = 'FAILED';
    request.failureReason = request.outcome.failureReason ?? 'INTERNAL_FAILURE';
  } else if (emailTaken) {
    request.state = 'FAILED';
    request.failureReason = 'EMAIL_ALREADY_EXISTS';
  } else if (accountCount >= state.settings.maxAccounts) {
    request.state = 'FAILED';
    request.failureReason = 'ACCOUNT_LIMIT_EXCEEDED';
  } else {
    const account = newAccount(cloud, {
      name: request.accountName,
      email: request.email,
      roleName: request.roleName,
    });
    account.joinedAt = request.completesAt;
    if (request.tags.length > 0)
      state.tags[account.id] = Object.fromEntries(request.tags.map((tag) => [tag.Key, tag.Value]));
    request.state = 'SUCCEEDED';
    request.accountId = account.id;
  }
  recordServiceEvent(cloud, 'CreateAccountResult', {
    createAccountStatus: {
      id: request.id,
      state: request.state,
      accountName: request.accountName,
      ...(request.accountId ? { accountId: request.accountId } : {}),
      requestedTimestamp: new Date(request.requestedAt).toISOString(),
      completedTimestamp: new Date(request.completesAt).toISOString(),
      ...(request.failureReason ? { failureReason: request.failureReason } : {}),
    },
  });
}

/** The closure quota's window: a rolling 30 days (Organizations API Reference, CloseAccount). */
export const CLOSE_QUOTA_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** The closure quota's defaults (SDK model, CloseAccountCommand; see CloudSettings.closeAccountQuotaPercent). */
export const CLOSE_QUOTA_DEFAULTS = { percent: 20, minimum: 250, maximum: 1000 } as const;

/** The organization's closure quota as it stands on the cloud's clock. */
export interface CloseAccountQuota {
  /** Closures allowed in any 30 days: max(minimum, floor(percent% of member accounts)), at most `maximum`. */
  limit: number;
  /** CloseAccount calls in the last 30 days. */
  used: number;
  /** No closure is possible now: `used` has reached `limit`. */
  exhausted: boolean;
  /** Member accounts (the management account aside) the limit is computed from. */
  memberAccounts: number;
  percent: number;
  minimum: number;
  maximum: number;
  windowMs: number;
  /** When exhausted: when one more closure becomes possible (epoch ms); absent when the limit is 0. */
  nextAvailableAt?: number;
}

/**
 * The closure quota: CloseAccount calls of the last 30 days against the higher of the minimum and the percentage
 * of the organization's member accounts, capped at the maximum. The member accounts counted are those in the
 * organization other than the management account, closed ones included (they stay members until AWS purges them).
 */
export function closeAccountQuota(cloud: Cloud): CloseAccountQuota {
  const { state } = cloud;
  const percent = state.settings.closeAccountQuotaPercent ?? CLOSE_QUOTA_DEFAULTS.percent;
  const minimum = state.settings.closeAccountQuotaMinimum ?? CLOSE_QUOTA_DEFAULTS.minimum;
  const maximum = state.settings.closeAccountQuotaMaximum ?? CLOSE_QUOTA_DEFAULTS.maximum;
  const management = state.organization.managementAccountId;
  const memberAccounts = Object.values(state.accounts).filter(
    (account) => !account.departed && account.id !== management,
  ).length;
  const limit = Math.min(maximum, Math.max(minimum, Math.floor((memberAccounts * percent) / 100)));
  const since = cloud.clock.now() - CLOSE_QUOTA_WINDOW_MS;
  const counted = Object.values(state.accounts)
    .map((account) => account.closeRequestedAt)
    .filter((at): at is number => at !== undefined && at > since)
    .sort((a, b) => a - b);
  const used = counted.length;
  const exhausted = used >= limit;
  const quota = {
    limit,
    used,
    exhausted,
    memberAccounts,
    percent,
    minimum,
    maximum,
    windowMs: CLOSE_QUOTA_WINDOW_MS,
  };
  const leaving = counted[used - limit];
  if (!exhausted || leaving === undefined) return quota;
  return { ...quota, nextAvailableAt: leaving + CLOSE_QUOTA_WINDOW_MS };
}

/**
 * Finishes a closure whose time has come: `Status` SUSPENDED (`State` CLOSED). When the management account asked
 * for it with CloseAccount, Organizations records a `CloseAccountResult` service event "after the account closes
 * successfully" (API Reference, CloseAccount). AWS names the event but does not document its details: here they
 * mirror CreateAccountResult's `createAccountStatus` as `closeAccountStatus` (accountId, state, requested and
 * completed timestamps). An account closed from inside (its root user) has no such event.
 */
export function completeClosure(cloud: Cloud, account: AccountRecord): void {
  const completedAt = account.closesAt ?? cloud.clock.now();
  account.status = 'SUSPENDED';
  delete account.closesAt;
  if (account.closeRequestedAt === undefined) return;
  recordServiceEvent(cloud, 'CloseAccountResult', {
    closeAccountStatus: {
      accountId: account.id,
      state: 'SUCCEEDED',
      requestedTimestamp: new Date(account.closeRequestedAt).toISOString(),
      completedTimestamp: new Date(completedAt).toISOString(),
    },
  });
}

/**
 * Records an Organizations service event in the management account's trail, as AWS records its own events
 * (`eventType: AwsServiceEvent`, invoked by AWS, the outcome in `serviceEventDetails`).
 */
export function recordServiceEvent(cloud: Cloud, eventName: string, details: Record<string, unknown>): void {
  const management = cloud.state.organization.managementAccountId;
  cloud.record({
    eventType: 'AwsServiceEvent',
    eventSource: 'organizations.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    userIdentity: { accountId: management, invokedBy: 'AWS Internal' },
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: null,
    responseElements: null,
    recipientAccountId: management,
    serviceEventDetails: details,
  });
}

/** AWS treats email addresses as case-insensitive when it checks that one is unused. */
export function sameEmail(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
