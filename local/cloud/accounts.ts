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
