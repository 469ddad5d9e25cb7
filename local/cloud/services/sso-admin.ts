import { AwsError } from '../errors.ts';
import {
  type AssignmentRecord,
  type IdentityCenterInstanceRecord,
  identityCenterOf,
  type OperationRecord,
  type PermissionSetRecord,
  type PrincipalType,
  randomUuid,
  sameAssignment,
} from '../identity-center.ts';
import { jsonProtocol } from '../protocols/json.ts';
import { HEX } from '../random.ts';
import type { CallContext, Input, OperationDefinition, ServiceDefinition } from '../service.ts';
import { DEFAULT_SETTINGS } from '../state.ts';
import { decodeToken, paginate } from '../validate.ts';
import { AWS_MANAGED_POLICIES } from './iam-policies.ts';

/**
 * IAM Identity Center's administration API (SDK: @aws-sdk/client-sso-admin; AWS JSON 1.1, `X-Amz-Target:
 * SWBExternalService.<Operation>`, signing name `sso`). Shapes and errors follow the SDK model (models_0.d.ts,
 * errors.d.ts, enums.d.ts); lengths and patterns the service model (sso-admin 2020-07-20, the one the SDKs are
 * generated from, as the IAM Identity Center API Reference prints it). Only the instance's owner, the management
 * account, may call it: a member account is AccessDeniedException (delegated administration is not modelled).
 */

const INSTANCE_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const PERMISSION_SET_ARN =
  /^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
const PERMISSION_SET_NAME = /^[\w+=,.@-]+$/;
const DESCRIPTION = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;
const DURATION =
  /^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const RELAY_STATE = /^[a-zA-Z0-9&$@#\\/%?=~\-_'"|!:,.;*+[\] (){}]+$/;
const MANAGED_POLICY_ARN =
  /^arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy((\/[A-Za-z0-9.,+@=_-]+)*)\/([A-Za-z0-9.,+=@_-]+)$/;
const ACCOUNT_ID = /^\d{12}$/;
const PRINCIPAL_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN = /^[-a-zA-Z0-9+=/_]*$/;

/**
 * Permission sets one instance may have; AWS managed policies one permission set may have attached (IAM Identity
 * Center User Guide, "IAM Identity Center quotas": 2,000 permission sets per instance, 20 AWS managed and customer
 * managed policies per permission set). Beyond them: ServiceQuotaExceededException.
 */
export const MAX_PERMISSION_SETS = 2_000;
export const MAX_MANAGED_POLICIES_PER_PERMISSION_SET = 20;
/** Session duration bounds (User Guide, "Set session duration": 1 to 12 hours); the default is PT1H. */
const MIN_SESSION_SECONDS = 3_600;
const MAX_SESSION_SECONDS = 12 * 3_600;
const DEFAULT_SESSION_DURATION = 'PT1H';

const notFound = (message: string) => new AwsError('ResourceNotFoundException', message);
/** HTTP status of Identity Center's errors (sso-admin and identitystore alike). */
export const JSON_ERROR_STATUS: Record<string, number> = {
  AccessDeniedException: 400,
  ConflictException: 400,
  ResourceNotFoundException: 400,
  ServiceQuotaExceededException: 400,
  ThrottlingException: 400,
  ValidationException: 400,
  InternalServerException: 500,
};

const conflict = (message: string) => new AwsError('ConflictException', message);
const quotaExceeded = (message: string) => new AwsError('ServiceQuotaExceededException', message);

/** The modelled description of AccessDeniedException (errors.d.ts). */
function requireOwner({ cloud, caller }: CallContext): void {
  if (caller.accountId !== cloud.state.organization.managementAccountId)
    throw new AwsError('AccessDeniedException', 'You do not have sufficient access to perform this action.');
}

/** Reads `InstanceArn` and finds the instance (ResourceNotFoundException otherwise). */
function existingInstance(context: CallContext, input: Input): IdentityCenterInstanceRecord {
  requireOwner(context);
  const arn = context.params.string(input, 'InstanceArn', {
    required: true,
    min: 10,
    max: 1224,
    pattern: INSTANCE_ARN,
  });
  const instance = identityCenterOf(context.cloud.state).instances.find(
    (candidate) => candidate.instanceArn === arn,
  );
  if (!instance) throw notFound(`Could not find Identity Center instance ${arn}.`);
  return instance;
}

/** Reads `PermissionSetArn` and finds it in the instance (ResourceNotFoundException otherwise). */
function existingPermissionSet(
  context: CallContext,
  input: Input,
  instance: IdentityCenterInstanceRecord,
): PermissionSetRecord {
  const arn = context.params.string(input, 'PermissionSetArn', {
    required: true,
    min: 10,
    max: 1224,
    pattern: PERMISSION_SET_ARN,
  });
  const permissionSet = Object.hasOwn(instance.permissionSets, arn)
    ? instance.permissionSets[arn]
    : undefined;
  if (!permissionSet) throw notFound(`Could not find PermissionSet with PermissionSetArn ${arn}.`);
  return permissionSet;
}

/** Paginates a listing as sso-admin does: MaxResults 1-100, an opaque NextToken bound to the query. */
function page<T>(context: CallContext, input: Input, items: readonly T[], scope: string) {
  const maxResults = context.params.number(input, 'MaxResults', { integer: true, min: 1, max: 100 }) ?? 100;
  const token = context.params.string(input, 'NextToken', { max: 2048, pattern: TOKEN });
  const offset = decodeToken(token === '' ? undefined : token, scope, context.params);
  const { page: entries, next } = paginate(items, offset, maxResults, scope);
  return { entries, ...(next ? { NextToken: next } : {}) };
}

function instanceShape(instance: IdentityCenterInstanceRecord) {
  return {
    InstanceArn: instance.instanceArn,
    IdentityStoreId: instance.identityStoreId,
    IdentityStoreArn: `arn:aws:identitystore::${instance.ownerAccountId}:identitystore/${instance.identityStoreId}`,
    OwnerAccountId: instance.ownerAccountId,
    ...(instance.name ? { Name: instance.name } : {}),
    CreatedDate: new Date(instance.createdAt),
    Status: 'ACTIVE',
  };
}

function permissionSetShape(permissionSet: PermissionSetRecord) {
  return {
    Name: permissionSet.name,
    PermissionSetArn: permissionSet.arn,
    ...(permissionSet.description !== undefined ? { Description: permissionSet.description } : {}),
    CreatedDate: new Date(permissionSet.createdAt),
    SessionDuration: permissionSet.sessionDuration,
    ...(permissionSet.relayState !== undefined ? { RelayState: permissionSet.relayState } : {}),
  };
}

/** AccountAssignmentOperationStatus (models_0.d.ts). */
function assignmentStatusShape(operation: OperationRecord) {
  return {
    Status: operation.status,
    RequestId: operation.requestId,
    ...(operation.failureReason ? { FailureReason: operation.failureReason } : {}),
    TargetId: operation.targetId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: operation.permissionSetArn,
    PrincipalType: operation.principalType,
    PrincipalId: operation.principalId,
    CreatedDate: new Date(operation.createdAt),
  };
}

/** PermissionSetProvisioningStatus (models_0.d.ts). */
function provisioningStatusShape(operation: OperationRecord) {
  return {
    Status: operation.status,
    RequestId: operation.requestId,
    ...(operation.targetId ? { AccountId: operation.targetId } : {}),
    PermissionSetArn: operation.permissionSetArn,
    ...(operation.failureReason ? { FailureReason: operation.failureReason } : {}),
    CreatedDate: new Date(operation.createdAt),
  };
}

/** Reads a SessionDuration: the model's ISO-8601 pattern, then AWS's 1 to 12 hours. */
function sessionDuration(context: CallContext, input: Input): string | undefined {
  const value = context.params.string(input, 'SessionDuration', { min: 1, max: 100, pattern: DURATION });
  if (value === undefined) return undefined;
  const [, sign, years, months, days, unit, hours, minutes, seconds] = DURATION.exec(value)!;
  const n = (text: string | undefined) => Number(text ?? 0);
  const total =
    (n(years) * 365 + n(months) * 30 + n(days) * (unit === 'W' ? 7 : 1)) * 86_400 +
    n(hours) * 3_600 +
    n(minutes) * 60 +
    n(seconds);
  if (sign === '-' || total < MIN_SESSION_SECONDS || total > MAX_SESSION_SECONDS)
    context.params.fail(
      `SessionDuration '${value}' is out of range: a session lasts from 1 hour (PT1H) to 12 hours (PT12H).`,
    );
  return value;
}

function optionalText(context: CallContext, input: Input) {
  return {
    description: context.params.string(input, 'Description', { min: 1, max: 700, pattern: DESCRIPTION }),
    relayState: context.params.string(input, 'RelayState', { min: 1, max: 240, pattern: RELAY_STATE }),
  };
}

/** After a change to a permission set, the accounts it is provisioned to hold an older version. */
function markOutdated(instance: IdentityCenterInstanceRecord, permissionSetArn: string): void {
  for (const entry of instance.provisioned) {
    if (entry.permissionSetArn === permissionSetArn) entry.latest = false;
  }
}

/** Reads the target, permission set and principal of CreateAccountAssignment / DeleteAccountAssignment. */
function readAssignment(
  context: CallContext,
  input: Input,
  instance: IdentityCenterInstanceRecord,
): AssignmentRecord {
  const { params } = context;
  const accountId = params.string(input, 'TargetId', {
    required: true,
    min: 12,
    max: 12,
    pattern: ACCOUNT_ID,
  });
  params.string(input, 'TargetType', { required: true, values: ['AWS_ACCOUNT'] });
  const principalType = params.string(input, 'PrincipalType', {
    required: true,
    values: ['USER', 'GROUP'],
  }) as PrincipalType;
  const principalId = params.string(input, 'PrincipalId', {
    required: true,
    min: 1,
    max: 47,
    pattern: PRINCIPAL_ID,
  });
  const permissionSet = existingPermissionSet(context, input, instance);
  return { accountId, permissionSetArn: permissionSet.arn, principalType, principalId };
}

/**
 * A creation racing a deletion of the same assignment (or the other way round) is ConflictException, which the
 * API Reference tells callers to retry with back-off (CreateAccountAssignment; aws-samples/iam-identity-center-team
 * retries it for exactly this race).
 */
function refuseRace(
  instance: IdentityCenterInstanceRecord,
  assignment: AssignmentRecord,
  other: OperationRecord['kind'],
): void {
  const racing = Object.values(instance.operations).some(
    (operation) =>
      operation.kind === other &&
      operation.status === 'IN_PROGRESS' &&
      operation.targetId === assignment.accountId &&
      operation.permissionSetArn === assignment.permissionSetArn &&
      operation.principalType === assignment.principalType &&
      operation.principalId === assignment.principalId,
  );
  if (racing)
    throw conflict(
      `An account assignment ${other === 'DELETE_ASSIGNMENT' ? 'deletion' : 'creation'} for this principal, permission set and account is in progress; retry later.`,
    );
}

/**
 * Starts an asynchronous operation that completes after `identityCenterDelayMs` of the simulated clock (or as the
 * next queued assignment outcome says).
 */
function startOperation(
  context: CallContext,
  instance: IdentityCenterInstanceRecord,
  fields: Omit<OperationRecord, 'requestId' | 'status' | 'createdAt' | 'completesAt'>,
): OperationRecord {
  const { cloud } = context;
  const now = cloud.clock.now();
  let requestId = randomUuid(cloud);
  while (Object.hasOwn(instance.operations, requestId)) requestId = randomUuid(cloud);
  const queued =
    fields.kind === 'CREATE_ASSIGNMENT'
      ? identityCenterOf(cloud.state).nextAssignmentOutcomes?.shift()
      : undefined;
  const delay =
    queued?.delayMs ?? cloud.settings.identityCenterDelayMs ?? DEFAULT_SETTINGS.identityCenterDelayMs ?? 0;
  const operation: OperationRecord = {
    requestId,
    status: 'IN_PROGRESS',
    createdAt: now,
    completesAt: now + delay,
    ...fields,
    ...(queued?.state === 'FAILED'
      ? { forcedFailure: queued.failureReason ?? 'Request failed due to an internal error.' }
      : {}),
  };
  instance.operations[requestId] = operation;
  cloud.wakeAt(requestId, operation.completesAt);
  return operation;
}

/** Reads a request id and finds the operation of that kind (ResourceNotFoundException otherwise). */
function existingOperation(
  context: CallContext,
  input: Input,
  instance: IdentityCenterInstanceRecord,
  name: string,
  kind: OperationRecord['kind'],
): OperationRecord {
  const id = context.params.string(input, name, { required: true, min: 36, max: 36, pattern: REQUEST_ID });
  const operation = Object.hasOwn(instance.operations, id) ? instance.operations[id] : undefined;
  if (!operation || operation.kind !== kind) throw notFound(`Could not find a request with ${name} ${id}.`);
  return operation;
}

const operations: Record<string, OperationDefinition> = {
  ListInstances: {
    mutating: false,
    run(context, input) {
      requireOwner(context);
      const instances = identityCenterOf(context.cloud.state).instances.map(instanceShape);
      const { entries, ...rest } = page(context, input, instances, 'ListInstances');
      return { Instances: entries, ...rest };
    },
  },

  DescribeInstance: {
    mutating: false,
    run(context, input) {
      requireOwner(context);
      const arn = context.params.string(input, 'InstanceArn', {
        required: true,
        min: 10,
        max: 1224,
        pattern: INSTANCE_ARN,
      });
      const instance = identityCenterOf(context.cloud.state).instances.find(
        (candidate) => candidate.instanceArn === arn,
      );
      // DescribeInstance models no ResourceNotFoundException: an instance the caller does not own is refused.
      if (!instance)
        throw new AwsError(
          'AccessDeniedException',
          'You do not have sufficient access to perform this action.',
        );
      return instanceShape(instance);
    },
  },

  CreatePermissionSet: {
    mutating: true,
    run(context, input) {
      const { params, cloud } = context;
      const instance = existingInstance(context, input);
      const name = params.string(input, 'Name', {
        required: true,
        min: 1,
        max: 32,
        pattern: PERMISSION_SET_NAME,
      });
      const { description, relayState } = optionalText(context, input);
      const duration = sessionDuration(context, input) ?? DEFAULT_SESSION_DURATION;
      const tags = params.tags(input, 'Tags', 75);
      const existing = Object.values(instance.permissionSets);
      if (existing.some((permissionSet) => permissionSet.name === name))
        // AWS's wording, as callers have reported it (e.g. hashicorp/terraform-provider-aws and
        // avlcloudtechnologies/terraform-aws-sso issues): "PermissionSet with name X already exists."
        throw conflict(`PermissionSet with name ${name} already exists.`);
      if (existing.length >= MAX_PERMISSION_SETS)
        throw quotaExceeded(`An instance may have at most ${MAX_PERMISSION_SETS} permission sets.`);
      const instanceId = instance.instanceArn.split('/').pop()!;
      let arn: string;
      do {
        arn = `arn:aws:sso:::permissionSet/${instanceId}/ps-${cloud.random.string(16, HEX)}`;
      } while (Object.hasOwn(instance.permissionSets, arn));
      const permissionSet: PermissionSetRecord = {
        arn,
        name,
        ...(description !== undefined ? { description } : {}),
        sessionDuration: duration,
        ...(relayState !== undefined ? { relayState } : {}),
        createdAt: cloud.clock.now(),
        managedPolicies: [],
        tags,
      };
      instance.permissionSets[arn] = permissionSet;
      return { PermissionSet: permissionSetShape(permissionSet) };
    },
  },

  DescribePermissionSet: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      return { PermissionSet: permissionSetShape(existingPermissionSet(context, input, instance)) };
    },
  },

  ListPermissionSets: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const arns = Object.keys(instance.permissionSets);
      const { entries, ...rest } = page(context, input, arns, `ListPermissionSets:${instance.instanceArn}`);
      return { PermissionSets: entries, ...rest };
    },
  },

  UpdatePermissionSet: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const { description, relayState } = optionalText(context, input);
      const duration = sessionDuration(context, input);
      if (description !== undefined) permissionSet.description = description;
      if (relayState !== undefined) permissionSet.relayState = relayState;
      if (duration !== undefined) permissionSet.sessionDuration = duration;
      markOutdated(instance, permissionSet.arn);
      return {};
    },
  },

  DeletePermissionSet: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const inUse =
        instance.assignments.some((assignment) => assignment.permissionSetArn === permissionSet.arn) ||
        instance.provisioned.some((entry) => entry.permissionSetArn === permissionSet.arn);
      if (inUse)
        // "AWS SSO admin API does not allow deleting a permission set that already has account assignments"
        // (aws-samples/aws-iam-identity-center-extensions#89; ConflictException, hashicorp/terraform-provider-aws#26757).
        throw conflict(
          `Could not delete because permission set ${permissionSet.name} is assigned or provisioned to accounts; delete its account assignments first.`,
        );
      delete instance.permissionSets[permissionSet.arn];
      return {};
    },
  },

  AttachManagedPolicyToPermissionSet: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const policyArn = managedPolicyArn(context, input);
      if (!AWS_MANAGED_POLICIES.has(policyArn)) throw notFound(`Policy ${policyArn} does not exist.`);
      if (permissionSet.managedPolicies.includes(policyArn))
        throw conflict(`Policy ${policyArn} is already attached to permission set ${permissionSet.name}.`);
      if (permissionSet.managedPolicies.length >= MAX_MANAGED_POLICIES_PER_PERMISSION_SET)
        throw quotaExceeded(
          `A permission set may have at most ${MAX_MANAGED_POLICIES_PER_PERMISSION_SET} managed policies attached.`,
        );
      permissionSet.managedPolicies.push(policyArn);
      markOutdated(instance, permissionSet.arn);
      return {};
    },
  },

  DetachManagedPolicyFromPermissionSet: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const policyArn = managedPolicyArn(context, input);
      if (!permissionSet.managedPolicies.includes(policyArn))
        throw notFound(`Policy ${policyArn} is not attached to permission set ${permissionSet.name}.`);
      permissionSet.managedPolicies = permissionSet.managedPolicies.filter((arn) => arn !== policyArn);
      markOutdated(instance, permissionSet.arn);
      return {};
    },
  },

  ListManagedPoliciesInPermissionSet: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const policies = permissionSet.managedPolicies.map((arn) => ({
        Name: AWS_MANAGED_POLICIES.get(arn)?.policyName ?? arn.split('/').pop(),
        Arn: arn,
      }));
      const { entries, ...rest } = page(
        context,
        input,
        policies,
        `ListManagedPoliciesInPermissionSet:${permissionSet.arn}`,
      );
      return { AttachedManagedPolicies: entries, ...rest };
    },
  },

  CreateAccountAssignment: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const assignment = readAssignment(context, input, instance);
      refuseRace(instance, assignment, 'DELETE_ASSIGNMENT');
      const operation = startOperation(context, instance, {
        kind: 'CREATE_ASSIGNMENT',
        permissionSetArn: assignment.permissionSetArn,
        targetId: assignment.accountId,
        principalType: assignment.principalType,
        principalId: assignment.principalId,
      });
      return { AccountAssignmentCreationStatus: assignmentStatusShape(operation) };
    },
  },

  DescribeAccountAssignmentCreationStatus: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const operation = existingOperation(
        context,
        input,
        instance,
        'AccountAssignmentCreationRequestId',
        'CREATE_ASSIGNMENT',
      );
      return { AccountAssignmentCreationStatus: assignmentStatusShape(operation) };
    },
  },

  DeleteAccountAssignment: {
    mutating: true,
    run(context, input) {
      const instance = existingInstance(context, input);
      const assignment = readAssignment(context, input, instance);
      refuseRace(instance, assignment, 'CREATE_ASSIGNMENT');
      if (!instance.assignments.some((existing) => sameAssignment(existing, assignment)))
        throw notFound(
          `Could not find an assignment of ${assignment.permissionSetArn} to ${assignment.principalType} ${assignment.principalId} in account ${assignment.accountId}.`,
        );
      const operation = startOperation(context, instance, {
        kind: 'DELETE_ASSIGNMENT',
        permissionSetArn: assignment.permissionSetArn,
        targetId: assignment.accountId,
        principalType: assignment.principalType,
        principalId: assignment.principalId,
      });
      return { AccountAssignmentDeletionStatus: assignmentStatusShape(operation) };
    },
  },

  DescribeAccountAssignmentDeletionStatus: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const operation = existingOperation(
        context,
        input,
        instance,
        'AccountAssignmentDeletionRequestId',
        'DELETE_ASSIGNMENT',
      );
      return { AccountAssignmentDeletionStatus: assignmentStatusShape(operation) };
    },
  },

  ListAccountAssignments: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const accountId = context.params.string(input, 'AccountId', {
        required: true,
        min: 12,
        max: 12,
        pattern: ACCOUNT_ID,
      });
      const permissionSet = existingPermissionSet(context, input, instance);
      const assignments = instance.assignments
        .filter(
          (assignment) =>
            assignment.accountId === accountId && assignment.permissionSetArn === permissionSet.arn,
        )
        .map((assignment) => ({
          AccountId: assignment.accountId,
          PermissionSetArn: assignment.permissionSetArn,
          PrincipalType: assignment.principalType,
          PrincipalId: assignment.principalId,
        }));
      const { entries, ...rest } = page(
        context,
        input,
        assignments,
        `ListAccountAssignments:${accountId}:${permissionSet.arn}`,
      );
      return { AccountAssignments: entries, ...rest };
    },
  },

  ListAccountsForProvisionedPermissionSet: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const status = context.params.string(input, 'ProvisioningStatus', {
        values: ['LATEST_PERMISSION_SET_PROVISIONED', 'LATEST_PERMISSION_SET_NOT_PROVISIONED'],
      });
      const accountIds = instance.provisioned
        .filter(
          (entry) =>
            entry.permissionSetArn === permissionSet.arn &&
            (status === undefined || entry.latest === (status === 'LATEST_PERMISSION_SET_PROVISIONED')),
        )
        .map((entry) => entry.accountId);
      const { entries, ...rest } = page(
        context,
        input,
        accountIds,
        `ListAccountsForProvisionedPermissionSet:${permissionSet.arn}:${status ?? ''}`,
      );
      return { AccountIds: entries, ...rest };
    },
  },

  ProvisionPermissionSet: {
    mutating: true,
    run(context, input) {
      const { params } = context;
      const instance = existingInstance(context, input);
      const permissionSet = existingPermissionSet(context, input, instance);
      const targetType = params.string(input, 'TargetType', {
        required: true,
        values: ['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS'],
      });
      const targetId = params.string(input, 'TargetId', { min: 12, max: 12, pattern: ACCOUNT_ID });
      if (targetType === 'AWS_ACCOUNT' && targetId === undefined)
        params.fail('TargetId is required when TargetType is AWS_ACCOUNT.');
      if (targetType === 'ALL_PROVISIONED_ACCOUNTS' && targetId !== undefined)
        params.fail('TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS.');
      const operation = startOperation(context, instance, {
        kind: 'PROVISION',
        permissionSetArn: permissionSet.arn,
        ...(targetId !== undefined ? { targetId } : {}),
      });
      return { PermissionSetProvisioningStatus: provisioningStatusShape(operation) };
    },
  },

  DescribePermissionSetProvisioningStatus: {
    mutating: false,
    run(context, input) {
      const instance = existingInstance(context, input);
      const operation = existingOperation(
        context,
        input,
        instance,
        'ProvisionPermissionSetRequestId',
        'PROVISION',
      );
      return { PermissionSetProvisioningStatus: provisioningStatusShape(operation) };
    },
  },
};

export const ssoAdmin: ServiceDefinition = {
  signingName: 'sso',
  eventSource: 'sso.amazonaws.com',
  protocol: jsonProtocol('SWBExternalService'),
  // The model gives its errors no HTTP status (no httpError trait): AWS JSON services then answer 400, 500 for
  // server faults.
  errorStatus: JSON_ERROR_STATUS,
  invalid: (message) => new AwsError('ValidationException', message),
  unknownCredentialCode: 'UnrecognizedClientException',
  accessDeniedCode: 'AccessDeniedException',
  unknownOperationCode: 'UnknownOperationException',
  operations,
};

/** `ManagedPolicyArn` of Attach/DetachManagedPolicy...PermissionSet (SDK model: 20-2048 characters, a policy ARN). */
function managedPolicyArn(context: CallContext, input: Input): string {
  return context.params.string(input, 'ManagedPolicyArn', {
    required: true,
    min: 20,
    max: 2048,
    pattern: MANAGED_POLICY_ARN,
  });
}
