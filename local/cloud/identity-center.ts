import { createHash } from 'node:crypto';
import type { Cloud } from './cloud.ts';
import { HEX } from './random.ts';
import type { CloudState } from './state.ts';

/**
 * IAM Identity Center in the local cloud: the instance (sso-admin) and its identity store (identitystore) share
 * one record, since an organization instance has exactly one identity store (Identity Center User Guide,
 * "Identity Center instances"). Timestamps are epoch milliseconds on the cloud's clock.
 */
export interface IdentityCenterState {
  instances: IdentityCenterInstanceRecord[];
  /**
   * How the next account assignment creations end, first in first out (the control API queues them); when empty,
   * the outcome follows from the account and the principal.
   */
  nextAssignmentOutcomes?: AssignmentOutcome[];
}

/** A queued outcome for the next CreateAccountAssignment. */
export interface AssignmentOutcome {
  state: 'SUCCEEDED' | 'FAILED';
  failureReason?: string;
  /** Overrides `identityCenterDelayMs` for this creation. */
  delayMs?: number;
}

export interface IdentityCenterInstanceRecord {
  /** `arn:aws:sso:::instance/ssoins-` and 16 hexadecimal characters. */
  instanceArn: string;
  /** `d-` and 10 hexadecimal characters; the access portal is `https://<id>.awsapps.com/start`. */
  identityStoreId: string;
  ownerAccountId: string;
  name?: string;
  createdAt: number;
  /** Permission sets by ARN, in the order they were created. */
  permissionSets: Record<string, PermissionSetRecord>;
  /** Account assignments that exist (creation SUCCEEDED, no deletion since). */
  assignments: AssignmentRecord[];
  /** Which permission sets are provisioned to which accounts, and whether with their latest version. */
  provisioned: ProvisionedRecord[];
  /** Assignment creations and deletions and permission set provisionings, by request id. */
  operations: Record<string, OperationRecord>;
  users: Record<string, UserRecord>;
  groups: Record<string, GroupRecord>;
  memberships: Record<string, MembershipRecord>;
}

export interface PermissionSetRecord {
  arn: string;
  name: string;
  description?: string;
  /** ISO-8601 duration; PT1H when not given (API Reference, CreatePermissionSet). */
  sessionDuration: string;
  relayState?: string;
  createdAt: number;
  /** Attached AWS managed policy ARNs, in the order attached. */
  managedPolicies: string[];
  tags: { Key: string; Value: string }[];
}

export type PrincipalType = 'USER' | 'GROUP';

export interface AssignmentRecord {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export interface ProvisionedRecord {
  permissionSetArn: string;
  accountId: string;
  /** False once the permission set changed after it was provisioned here (LATEST_PERMISSION_SET_NOT_PROVISIONED). */
  latest: boolean;
}

export type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface OperationRecord {
  requestId: string;
  kind: 'CREATE_ASSIGNMENT' | 'DELETE_ASSIGNMENT' | 'PROVISION';
  status: OperationStatus;
  createdAt: number;
  completesAt: number;
  failureReason?: string;
  permissionSetArn: string;
  /** The account; absent for a provisioning to ALL_PROVISIONED_ACCOUNTS. */
  targetId?: string;
  principalType?: PrincipalType;
  principalId?: string;
  /** A failure queued through the control API, decided when the operation started. */
  forcedFailure?: string;
}

/** A user as the Identity Store API shapes it, without UserId and IdentityStoreId (added when answering). */
export interface UserRecord {
  userId: string;
  userName: string;
  /** The other attributes as given to CreateUser: Name, DisplayName, Emails, Title, ... */
  attributes: Record<string, unknown>;
  createdAt: number;
}

export interface GroupRecord {
  groupId: string;
  displayName: string;
  description?: string;
  createdAt: number;
}

export interface MembershipRecord {
  membershipId: string;
  groupId: string;
  userId: string;
  createdAt: number;
}

/** The access portal URL of an instance (Identity Center User Guide, "Using the AWS access portal"). */
export function accessPortalUrl(identityStoreId: string): string {
  return `https://${identityStoreId}.awsapps.com/start`;
}

/** The Identity Center state; states saved before Identity Center existed have none yet. */
export function identityCenterOf(state: CloudState): IdentityCenterState {
  state.identityCenter ??= { instances: [] };
  return state.identityCenter;
}

/** A UUID (lower-case hex, version 4 layout) from the cloud's seeded random source. */
export function randomUuid(cloud: Cloud): string {
  const hex = cloud.random.string(32, HEX);
  return formatUuid(hex);
}

/**
 * A UUID derived from `parts`: seeded users and groups get the same ids on every start without drawing from the
 * random source (which would shift every id generated after them).
 */
export function derivedUuid(...parts: string[]): string {
  return formatUuid(createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32));
}

function formatUuid(hex: string): string {
  const variant = '89ab'[Number.parseInt(hex[16]!, 16) % 4]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * An identity store resource id: the store id's ten digits, a dash and a UUID (Identity Store API Reference,
 * ResourceNotFoundException.ResourceId: "either UUID or 1234567890-UUID").
 */
export function resourceId(identityStoreId: string, uuid: string): string {
  return `${identityStoreId.slice(2)}-${uuid}`;
}

/** Finishes the operations whose time has come; true when something changed. */
export function settleIdentityCenter(cloud: Cloud): boolean {
  const now = cloud.clock.now();
  let changed = false;
  for (const instance of cloud.state.identityCenter?.instances ?? []) {
    for (const operation of Object.values(instance.operations)) {
      if (operation.status !== 'IN_PROGRESS' || operation.completesAt > now) continue;
      completeOperation(cloud.state, instance, operation);
      changed = true;
    }
  }
  return changed;
}

/** Operations still in progress, with when they complete, so that the cloud can wake up for them. */
export function pendingIdentityCenterOperations(state: CloudState): { key: string; at: number }[] {
  return (state.identityCenter?.instances ?? []).flatMap((instance) =>
    Object.values(instance.operations)
      .filter((operation) => operation.status === 'IN_PROGRESS')
      .map((operation) => ({ key: operation.requestId, at: operation.completesAt })),
  );
}

/**
 * An assignment creation, deletion or provisioning finishes. The outcome is decided now, as AWS decides it when the
 * asynchronous workflow runs: an account that is not (or no longer) in the organization, or a principal that does
 * not exist in the identity store, makes the operation FAILED with a FailureReason.
 */
function completeOperation(
  state: CloudState,
  instance: IdentityCenterInstanceRecord,
  operation: OperationRecord,
): void {
  const failure = operation.forcedFailure ?? failureOf(state, instance, operation);
  if (failure) {
    operation.status = 'FAILED';
    operation.failureReason = failure;
    return;
  }
  operation.status = 'SUCCEEDED';
  const { permissionSetArn, targetId } = operation;
  if (operation.kind === 'CREATE_ASSIGNMENT' && targetId) {
    const assignment: AssignmentRecord = {
      accountId: targetId,
      permissionSetArn,
      principalType: operation.principalType!,
      principalId: operation.principalId!,
    };
    if (!instance.assignments.some((existing) => sameAssignment(existing, assignment)))
      instance.assignments.push(assignment);
    // "As part of a successful CreateAccountAssignment call, the specified permission set will automatically be
    // provisioned to the account" (API Reference, CreateAccountAssignment).
    markProvisioned(instance, permissionSetArn, targetId);
  } else if (operation.kind === 'DELETE_ASSIGNMENT' && targetId) {
    instance.assignments = instance.assignments.filter(
      (existing) =>
        !sameAssignment(existing, {
          accountId: targetId,
          permissionSetArn,
          principalType: operation.principalType!,
          principalId: operation.principalId!,
        }),
    );
    // The permission set's role leaves the account with its last assignment there.
    const stillUsed = instance.assignments.some(
      (existing) => existing.accountId === targetId && existing.permissionSetArn === permissionSetArn,
    );
    if (!stillUsed)
      instance.provisioned = instance.provisioned.filter(
        (entry) => !(entry.accountId === targetId && entry.permissionSetArn === permissionSetArn),
      );
  } else if (operation.kind === 'PROVISION') {
    for (const entry of instance.provisioned) {
      if (entry.permissionSetArn === permissionSetArn && (!targetId || entry.accountId === targetId))
        entry.latest = true;
    }
    if (targetId) markProvisioned(instance, permissionSetArn, targetId);
  }
}

function failureOf(
  state: CloudState,
  instance: IdentityCenterInstanceRecord,
  operation: OperationRecord,
): string | undefined {
  if (!Object.hasOwn(instance.permissionSets, operation.permissionSetArn))
    return `Permission set ${operation.permissionSetArn} does not exist.`;
  const { targetId } = operation;
  if (targetId !== undefined) {
    const account = Object.hasOwn(state.accounts, targetId) ? state.accounts[targetId] : undefined;
    if (!account || account.departed || account.status !== 'ACTIVE')
      return `Account ${targetId} is not an active member of the organization.`;
  }
  if (operation.kind === 'CREATE_ASSIGNMENT') {
    const exists =
      operation.principalType === 'USER'
        ? Object.hasOwn(instance.users, operation.principalId!)
        : Object.hasOwn(instance.groups, operation.principalId!);
    if (!exists)
      return `The ${operation.principalType === 'USER' ? 'user' : 'group'} ${operation.principalId} does not exist in identity store ${instance.identityStoreId}.`;
  }
  return undefined;
}

function markProvisioned(
  instance: IdentityCenterInstanceRecord,
  permissionSetArn: string,
  accountId: string,
) {
  const entry = instance.provisioned.find(
    (candidate) => candidate.permissionSetArn === permissionSetArn && candidate.accountId === accountId,
  );
  if (entry) entry.latest = true;
  else instance.provisioned.push({ permissionSetArn, accountId, latest: true });
}

export function sameAssignment(a: AssignmentRecord, b: AssignmentRecord): boolean {
  return (
    a.accountId === b.accountId &&
    a.permissionSetArn === b.permissionSetArn &&
    a.principalType === b.principalType &&
    a.principalId === b.principalId
  );
}
