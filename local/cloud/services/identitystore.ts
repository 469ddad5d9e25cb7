import { AwsError } from '../errors.ts';
import {
  type GroupRecord,
  type IdentityCenterInstanceRecord,
  identityCenterOf,
  type MembershipRecord,
  randomUuid,
  resourceId,
  type UserRecord,
} from '../identity-center.ts';
import { jsonProtocol } from '../protocols/json.ts';
import type { CallContext, Input, OperationDefinition, ServiceDefinition } from '../service.ts';
import { decodeToken, paginate } from '../validate.ts';
import { member } from './organizations-shared.ts';
import { JSON_ERROR_STATUS } from './sso-admin.ts';

/**
 * IAM Identity Center's identity store (SDK: @aws-sdk/client-identitystore; AWS JSON 1.1, `X-Amz-Target:
 * AWSIdentityStore.<Operation>`, signing name `identitystore`). Shapes and errors follow the SDK model
 * (models_0.d.ts, errors.d.ts); lengths and patterns the service model (identitystore 2020-06-15, as the Identity
 * Store API Reference prints it).
 *
 * Who may call: the instance's owner (the management account) everything; any other account of the organization
 * only the reads, as the API Reference notes for each read ("If you have access to a member account, you can use
 * this API operation from the member account"); anyone else AccessDeniedException.
 *
 * Uniqueness and matching: "IAM Identity Center requires that all usernames and email addresses for your users are
 * non-NULL and unique" (User Guide, "Users, groups, and provisioning"); AWS does not document whether the
 * comparison ignores case. The local cloud takes the strict side both ways, so that what works here works on AWS:
 * CreateUser refuses a user name or email that differs from an existing one only in case (ConflictException), and
 * GetUserId / ListUsers match `userName` and `emails.value` exactly, case included.
 */

const STORE_ID = /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const RESOURCE_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const USER_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
const SENSITIVE = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \u00a0\u3000]+$/u;
const GROUP_DISPLAY_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \u00a0]+$/u;
const ATTRIBUTE_PATH = /^(?:\p{L}+:\p{L}+:\p{L}+(?:\.\p{L}+){0,3}|\p{L}+(?:\.\p{L}+){0,2})$/u;
const TOKEN = /^[-a-zA-Z0-9+=/:_]*$/;

/** "Administrator and AWSAdministrators are reserved names and can't be used for users or groups" (CreateUser). */
const RESERVED_NAMES = ['Administrator', 'AWSAdministrators'];

/** String attributes of a user that CreateUser takes as they are (API Reference, CreateUser). */
const USER_STRINGS = [
  'DisplayName',
  'NickName',
  'ProfileUrl',
  'UserType',
  'Title',
  'PreferredLanguage',
  'Locale',
  'Timezone',
  'Website',
  'Birthdate',
] as const;
const NAME_PARTS = [
  'Formatted',
  'FamilyName',
  'GivenName',
  'MiddleName',
  'HonorificPrefix',
  'HonorificSuffix',
] as const;
/** Multi-valued attributes with at most one value each (Emails, Addresses, PhoneNumbers, Roles: max 1). */
const SINGLE_ENTRY_LISTS = ['Emails', 'Addresses', 'PhoneNumbers', 'Roles'] as const;

function notFound(resourceType: string, id: string, message: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, {
    fields: { ResourceType: resourceType, ResourceId: id },
  });
}

function uniquenessConflict(message: string): AwsError {
  return new AwsError('ConflictException', message, {
    fields: { Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION' },
  });
}

/** Reads `IdentityStoreId`, finds its instance and checks the caller may use it for a read or a write. */
function existingStore(
  context: CallContext,
  input: Input,
  access: 'read' | 'write',
): IdentityCenterInstanceRecord {
  const { cloud, caller } = context;
  const id = context.params.string(input, 'IdentityStoreId', {
    required: true,
    min: 1,
    max: 36,
    pattern: STORE_ID,
  });
  const instance = identityCenterOf(cloud.state).instances.find(
    (candidate) => candidate.identityStoreId === id,
  );
  const owner = instance?.ownerAccountId === caller.accountId;
  const reader = access === 'read' && member(cloud.state, caller.accountId) !== undefined;
  if (instance && !owner && !reader)
    throw new AwsError('AccessDeniedException', 'You do not have sufficient access to perform this action.');
  if (!instance) throw notFound('IDENTITY_STORE', id, `Identity store ${id} does not exist.`);
  return instance;
}

function resourceIdParam(context: CallContext, input: Input, name: string): string {
  return context.params.string(input, name, { required: true, min: 1, max: 47, pattern: RESOURCE_ID });
}

function existingUser(instance: IdentityCenterInstanceRecord, id: string): UserRecord {
  const user = Object.hasOwn(instance.users, id) ? instance.users[id] : undefined;
  if (!user) throw notFound('USER', id, `User ${id} does not exist.`);
  return user;
}

function existingGroup(instance: IdentityCenterInstanceRecord, id: string): GroupRecord {
  const group = Object.hasOwn(instance.groups, id) ? instance.groups[id] : undefined;
  if (!group) throw notFound('GROUP', id, `Group ${id} does not exist.`);
  return group;
}

/** Reads the `MemberId` union: only `UserId` exists. */
function memberUserId(context: CallContext, input: Input): string {
  const memberId = context.params.object(input, 'MemberId', { required: true });
  return resourceIdParam(context, memberId, 'UserId');
}

/** Paginates as the identity store does: MaxResults 1-100, an opaque NextToken bound to the query. */
function page<T>(context: CallContext, input: Input, items: readonly T[], scope: string) {
  const maxResults = context.params.number(input, 'MaxResults', { integer: true, min: 1, max: 100 }) ?? 100;
  const token = context.params.string(input, 'NextToken', { min: 1, max: 65535, pattern: TOKEN });
  const offset = decodeToken(token, scope, context.params);
  const { page: entries, next } = paginate(items, offset, maxResults, scope);
  return { entries, ...(next ? { NextToken: next } : {}) };
}

function emailsOf(user: UserRecord): string[] {
  const emails = user.attributes.Emails;
  return Array.isArray(emails)
    ? emails.flatMap((email) => {
        const value = (email as { Value?: unknown }).Value;
        return typeof value === 'string' ? [value] : [];
      })
    : [];
}

export function userShape(instance: IdentityCenterInstanceRecord, user: UserRecord) {
  return {
    ...user.attributes,
    UserName: user.userName,
    UserId: user.userId,
    IdentityStoreId: instance.identityStoreId,
    CreatedAt: new Date(user.createdAt),
    UpdatedAt: new Date(user.createdAt),
  };
}

function groupShape(instance: IdentityCenterInstanceRecord, group: GroupRecord) {
  return {
    GroupId: group.groupId,
    DisplayName: group.displayName,
    ...(group.description !== undefined ? { Description: group.description } : {}),
    IdentityStoreId: instance.identityStoreId,
    CreatedAt: new Date(group.createdAt),
    UpdatedAt: new Date(group.createdAt),
  };
}

function membershipShape(instance: IdentityCenterInstanceRecord, membership: MembershipRecord) {
  return {
    IdentityStoreId: instance.identityStoreId,
    MembershipId: membership.membershipId,
    GroupId: membership.groupId,
    MemberId: { UserId: membership.userId },
    CreatedAt: new Date(membership.createdAt),
    UpdatedAt: new Date(membership.createdAt),
  };
}

/**
 * Reads the `AlternateIdentifier` union and the unique attribute's path and value. `ExternalId` identifies users
 * and groups synchronised from an external identity provider, which the local identity store never has.
 */
function uniqueAttribute(
  context: CallContext,
  input: Input,
): { path: string; value: string } | { externalId: true } {
  const { params } = context;
  const identifier = params.object(input, 'AlternateIdentifier', { required: true });
  const members = Object.keys(identifier).filter(
    (key) => identifier[key] !== undefined && identifier[key] !== null,
  );
  if (members.length !== 1)
    params.fail('AlternateIdentifier must have exactly one of ExternalId and UniqueAttribute.');
  if (members[0] === 'ExternalId') {
    const external = params.object(identifier, 'ExternalId', { required: true });
    params.string(external, 'Issuer', { required: true, min: 1, max: 256 });
    params.string(external, 'Id', { required: true, min: 1, max: 256 });
    return { externalId: true };
  }
  const attribute = params.object(identifier, 'UniqueAttribute', { required: true });
  const path = params.string(attribute, 'AttributePath', {
    required: true,
    min: 1,
    max: 255,
    pattern: ATTRIBUTE_PATH,
  });
  const value = attribute.AttributeValue;
  if (typeof value !== 'string' || value === '')
    return params.fail('UniqueAttribute.AttributeValue must be a non-empty string.');
  return { path, value };
}

/** Reads `Filters` (at most one: AttributePath and AttributeValue), checking the path against `allowed`. */
function readFilter(
  context: CallContext,
  input: Input,
  allowed: readonly string[],
): { path: string; value: string } | undefined {
  const { params } = context;
  const filters = params.list(input, 'Filters', { max: 1 });
  if (filters.length === 0) return undefined;
  const filter = filters[0];
  if (typeof filter !== 'object' || filter === null) return params.fail('Each filter must be a structure.');
  const path = params.string(filter as Input, 'AttributePath', {
    required: true,
    min: 1,
    max: 255,
    pattern: ATTRIBUTE_PATH,
  });
  const value = params.string(filter as Input, 'AttributeValue', {
    required: true,
    min: 1,
    max: 1024,
    pattern: SENSITIVE,
  });
  if (!allowed.includes(path))
    params.fail(`Filtering on AttributePath '${path}' is not supported; use ${allowed.join(' or ')}.`);
  return { path, value };
}

/** Reads CreateUser's attributes, each checked against the model's length and pattern. */
function readUserAttributes(context: CallContext, input: Input): Record<string, unknown> {
  const { params } = context;
  const attributes: Record<string, unknown> = {};
  for (const name of USER_STRINGS) {
    const value = params.string(input, name, { min: 1, max: 1024, pattern: SENSITIVE });
    if (value !== undefined) attributes[name] = value;
  }
  const name = params.object(input, 'Name');
  if (name) {
    const parts: Record<string, string> = {};
    for (const part of NAME_PARTS) {
      const value = params.string(name, part, { min: 1, max: 1024, pattern: SENSITIVE });
      if (value !== undefined) parts[part] = value;
    }
    attributes.Name = parts;
  }
  for (const list of SINGLE_ENTRY_LISTS) {
    const entries = params.list(input, list, { min: 1, max: 1 });
    if (entries.length === 0) continue;
    attributes[list] = entries.map((entry) => {
      if (typeof entry !== 'object' || entry === null)
        return params.fail(`Each of ${list} must be a structure.`);
      const shaped: Record<string, unknown> = {};
      for (const key of Object.keys(entry as Input)) {
        if (key === 'Primary') shaped[key] = params.boolean(entry as Input, key);
        else shaped[key] = params.string(entry as Input, key, { min: 1, max: 1024, pattern: SENSITIVE });
      }
      return shaped;
    });
  }
  return attributes;
}

function newResourceId(context: CallContext, instance: IdentityCenterInstanceRecord, taken: object): string {
  for (;;) {
    const id = resourceId(instance.identityStoreId, randomUuid(context.cloud));
    if (!Object.hasOwn(taken, id)) return id;
  }
}

/** Adds a user, refusing a user name or email already used (compared without regard to case). */
export function addUser(instance: IdentityCenterInstanceRecord, user: UserRecord): void {
  const lower = (text: string) => text.toLowerCase();
  const existing = Object.values(instance.users);
  if (existing.some((other) => lower(other.userName) === lower(user.userName)))
    throw uniquenessConflict(`A user with UserName ${user.userName} already exists.`);
  const emails = emailsOf(user).map(lower);
  if (existing.some((other) => emailsOf(other).some((email) => emails.includes(lower(email)))))
    throw uniquenessConflict('A user with that email address already exists.');
  instance.users[user.userId] = user;
}

/** Adds a group, refusing a display name already used. */
export function addGroup(instance: IdentityCenterInstanceRecord, group: GroupRecord): void {
  if (Object.values(instance.groups).some((other) => other.displayName === group.displayName))
    throw uniquenessConflict(`A group with DisplayName ${group.displayName} already exists.`);
  instance.groups[group.groupId] = group;
}

/** Adds a user to a group, refusing a membership that exists. */
export function addMembership(instance: IdentityCenterInstanceRecord, membership: MembershipRecord): void {
  if (
    Object.values(instance.memberships).some(
      (other) => other.groupId === membership.groupId && other.userId === membership.userId,
    )
  )
    throw uniquenessConflict('The user is already a member of the group.');
  instance.memberships[membership.membershipId] = membership;
}

const operations: Record<string, OperationDefinition> = {
  GetUserId: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const identifier = uniqueAttribute(context, input);
      let user: UserRecord | undefined;
      if (!('externalId' in identifier)) {
        // "For the unique attribute, the only valid paths are userName and emails.value" (API Reference, GetUserId).
        if (identifier.path !== 'userName' && identifier.path !== 'emails.value')
          context.params.fail(
            `AttributePath '${identifier.path}' is not a unique attribute of users: use userName or emails.value.`,
          );
        user = Object.values(instance.users).find((candidate) =>
          identifier.path === 'userName'
            ? candidate.userName === identifier.value
            : emailsOf(candidate).includes(identifier.value),
        );
      }
      if (!user) throw notFound('USER', '', 'No user matches the AlternateIdentifier.');
      return { IdentityStoreId: instance.identityStoreId, UserId: user.userId };
    },
  },

  GetGroupId: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const identifier = uniqueAttribute(context, input);
      let group: GroupRecord | undefined;
      if (!('externalId' in identifier)) {
        // "For the unique attribute, the only valid path is displayName" (API Reference, GetGroupId).
        if (identifier.path !== 'displayName')
          context.params.fail(
            `AttributePath '${identifier.path}' is not a unique attribute of groups: use displayName.`,
          );
        group = Object.values(instance.groups).find(
          (candidate) => candidate.displayName === identifier.value,
        );
      }
      if (!group) throw notFound('GROUP', '', 'No group matches the AlternateIdentifier.');
      return { IdentityStoreId: instance.identityStoreId, GroupId: group.groupId };
    },
  },

  DescribeUser: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const user = existingUser(instance, resourceIdParam(context, input, 'UserId'));
      return userShape(instance, user);
    },
  },

  DescribeGroup: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const group = existingGroup(instance, resourceIdParam(context, input, 'GroupId'));
      return groupShape(instance, group);
    },
  },

  ListUsers: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      // Filtering on UserName is deprecated but still answered (API Reference, ListUsers).
      const filter = readFilter(context, input, ['UserName']);
      const users = Object.values(instance.users)
        .filter((user) => !filter || user.userName === filter.value)
        .map((user) => userShape(instance, user));
      const scope = `ListUsers:${instance.identityStoreId}:${filter?.value ?? ''}`;
      const { entries, ...rest } = page(context, input, users, scope);
      return { Users: entries, ...rest };
    },
  },

  ListGroups: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const filter = readFilter(context, input, ['DisplayName']);
      const groups = Object.values(instance.groups)
        .filter((group) => !filter || group.displayName === filter.value)
        .map((group) => groupShape(instance, group));
      const scope = `ListGroups:${instance.identityStoreId}:${filter?.value ?? ''}`;
      const { entries, ...rest } = page(context, input, groups, scope);
      return { Groups: entries, ...rest };
    },
  },

  ListGroupMemberships: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const group = existingGroup(instance, resourceIdParam(context, input, 'GroupId'));
      const memberships = Object.values(instance.memberships)
        .filter((membership) => membership.groupId === group.groupId)
        .map((membership) => membershipShape(instance, membership));
      const { entries, ...rest } = page(context, input, memberships, `ListGroupMemberships:${group.groupId}`);
      return { GroupMemberships: entries, ...rest };
    },
  },

  ListGroupMembershipsForMember: {
    mutating: false,
    run(context, input) {
      const instance = existingStore(context, input, 'read');
      const user = existingUser(instance, memberUserId(context, input));
      const memberships = Object.values(instance.memberships)
        .filter((membership) => membership.userId === user.userId)
        .map((membership) => membershipShape(instance, membership));
      const { entries, ...rest } = page(
        context,
        input,
        memberships,
        `ListGroupMembershipsForMember:${user.userId}`,
      );
      return { GroupMemberships: entries, ...rest };
    },
  },

  CreateUser: {
    mutating: true,
    run(context, input) {
      const instance = existingStore(context, input, 'write');
      // The model marks UserName optional, but a user is identified by it and it must be unique and non-NULL
      // (User Guide, "Users, groups, and provisioning").
      const userName = context.params.string(input, 'UserName', {
        required: true,
        min: 1,
        max: 128,
        pattern: USER_NAME,
      });
      if (RESERVED_NAMES.some((name) => name.toLowerCase() === userName.toLowerCase()))
        context.params.fail(`${userName} is a reserved name and can't be used for users or groups.`);
      const attributes = readUserAttributes(context, input);
      const user: UserRecord = {
        userId: newResourceId(context, instance, instance.users),
        userName,
        attributes,
        createdAt: context.cloud.clock.now(),
      };
      addUser(instance, user);
      return { IdentityStoreId: instance.identityStoreId, UserId: user.userId };
    },
  },

  CreateGroup: {
    mutating: true,
    run(context, input) {
      const instance = existingStore(context, input, 'write');
      const displayName = context.params.string(input, 'DisplayName', {
        required: true,
        min: 1,
        max: 1024,
        pattern: GROUP_DISPLAY_NAME,
      });
      if (RESERVED_NAMES.some((name) => name.toLowerCase() === displayName.toLowerCase()))
        context.params.fail(`${displayName} is a reserved name and can't be used for users or groups.`);
      const description = context.params.string(input, 'Description', {
        min: 1,
        max: 1024,
        pattern: SENSITIVE,
      });
      const group: GroupRecord = {
        groupId: newResourceId(context, instance, instance.groups),
        displayName,
        ...(description !== undefined ? { description } : {}),
        createdAt: context.cloud.clock.now(),
      };
      addGroup(instance, group);
      return { IdentityStoreId: instance.identityStoreId, GroupId: group.groupId };
    },
  },

  CreateGroupMembership: {
    mutating: true,
    run(context, input) {
      const instance = existingStore(context, input, 'write');
      const group = existingGroup(instance, resourceIdParam(context, input, 'GroupId'));
      const user = existingUser(instance, memberUserId(context, input));
      const membership: MembershipRecord = {
        membershipId: newResourceId(context, instance, instance.memberships),
        groupId: group.groupId,
        userId: user.userId,
        createdAt: context.cloud.clock.now(),
      };
      addMembership(instance, membership);
      return { IdentityStoreId: instance.identityStoreId, MembershipId: membership.membershipId };
    },
  },
};

export const identityStore: ServiceDefinition = {
  signingName: 'identitystore',
  eventSource: 'identitystore.amazonaws.com',
  protocol: jsonProtocol('AWSIdentityStore'),
  errorStatus: JSON_ERROR_STATUS,
  invalid: (message) => new AwsError('ValidationException', message),
  unknownCredentialCode: 'UnrecognizedClientException',
  accessDeniedCode: 'AccessDeniedException',
  unknownOperationCode: 'UnknownOperationException',
  operations,
};
