import { closeAccountQuota, recordServiceEvent } from '../accounts.ts';
import { AwsError } from '../errors.ts';
import { attachDefaultPolicies, detachEverything } from '../policies.ts';
import { jsonProtocol } from '../protocols/json.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { AccountRecord, CloudState, CreateAccountRequestRecord } from '../state.ts';
import { policyOperations, rootShape } from './organizations-policies.ts';
import {
  member,
  members,
  organizationArn,
  page,
  parentExists,
  readTags,
  requireManagement,
} from './organizations-shared.ts';

/** The window of the daily creation limit, in milliseconds. */
const DAY_MS = 24 * 60 * 60 * 1000;

const ACCOUNT_ID = /^\d{12}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const PARENT_ID = /^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const CHILD_ID = /^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const EMAIL = /^[^\s@]*@[^\s@]*$/;
const CREATE_ACCOUNT_REQUEST_ID = /^car-[a-z0-9]{8,32}$/;

const notFound = (code: string, message: string) => new AwsError(code, message);

function accountShape(state: CloudState, account: AccountRecord) {
  return {
    Id: account.id,
    Arn: organizationArn(state, 'account', account.id),
    Email: account.email,
    Name: account.name,
    Status: account.status,
    // `State` replaces the retiring `Status`: a closed account is CLOSED for the 90 days it can be reopened, SUSPENDED
    // only when AWS suspended it (Organizations API Reference, "Account").
    State: account.status === 'SUSPENDED' && !account.suspendedByAws ? 'CLOSED' : account.status,
    JoinedMethod: account.joinedMethod,
    JoinedTimestamp: new Date(account.joinedAt),
  };
}

function statusShape(request: CreateAccountRequestRecord) {
  return {
    Id: request.id,
    AccountName: request.accountName,
    State: request.state,
    RequestedTimestamp: new Date(request.requestedAt),
    ...(request.completedAt !== undefined ? { CompletedTimestamp: new Date(request.completedAt) } : {}),
    ...(request.accountId ? { AccountId: request.accountId } : {}),
    ...(request.failureReason ? { FailureReason: request.failureReason } : {}),
  };
}

/** Organizations' identifiers: the length and pattern its API documents for each kind. */
const ID_RULES = {
  account: { max: 12, pattern: ACCOUNT_ID },
  parent: { max: 100, pattern: PARENT_ID },
  child: { max: 100, pattern: CHILD_ID },
  ou: { max: 68, pattern: OU_ID },
} as const;

/** A required identifier parameter, checked as Organizations checks it. */
function idParam(context: CallContext, input: Input, name: string, kind: keyof typeof ID_RULES): string {
  return context.params.string(input, name, { required: true, ...ID_RULES[kind] });
}

/** Reads `ParentId` and checks that the root or OU exists (ParentNotFoundException otherwise). */
function existingParentId(context: CallContext, input: Input): string {
  const parentId = idParam(context, input, 'ParentId', 'parent');
  if (!parentExists(context.cloud.state, parentId)) {
    throw notFound(
      'ParentNotFoundException',
      "We can't find a root or OU with the ParentId that you specified.",
    );
  }
  return parentId;
}

function resourceExists(state: CloudState, id: string): boolean {
  return member(state, id) !== undefined || parentExists(state, id) || Object.hasOwn(state.policies, id);
}

const accountNotFound = () =>
  notFound('AccountNotFoundException', "We can't find an AWS account with the AccountId that you specified.");

/**
 * Takes an account out of the organization: it keeps existing on its own, its tags in the organization are deleted
 * (LeaveOrganization: "all tags that were attached to the account object in the organization are deleted"), and
 * the management account's trail records an `AccountDepartedOrganization` service event with `departureMethod` and
 * `departureTime` (API Reference, LeaveOrganization and RemoveAccountFromOrganization; AWS documents these two
 * fields, not how the event nests them: here they sit under `accountDepartedOrganization`, beside the account id).
 */
function depart(context: CallContext, account: AccountRecord, method: 'LEFT' | 'REMOVED'): void {
  const { cloud } = context;
  const now = cloud.clock.now();
  account.departed = { method, at: now };
  detachEverything(cloud.state, account.id);
  delete cloud.state.tags[account.id];
  recordServiceEvent(cloud, 'AccountDepartedOrganization', {
    accountDepartedOrganization: {
      accountId: account.id,
      departureMethod: method,
      departureTime: new Date(now).toISOString(),
    },
  });
}

export { member, members } from './organizations-shared.ts';

export const organizations: ServiceDefinition = {
  signingName: 'organizations',
  eventSource: 'organizations.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: jsonProtocol('AWSOrganizationsV20161128'),
  errorStatus: { AccessDeniedException: 400, ServiceException: 500 },
  invalid: (message, reason) =>
    new AwsError('InvalidInputException', message, { fields: { Reason: reason } }),
  unknownCredentialCode: 'UnrecognizedClientException',
  accessDeniedCode: 'AccessDeniedException',
  unknownOperationCode: 'UnknownOperationException',
  operations: {
    DescribeOrganization: {
      mutating: false,
      run({ cloud }) {
        const { organization } = cloud.state;
        const management = cloud.state.accounts[organization.managementAccountId]!;
        return {
          Organization: {
            Id: organization.id,
            Arn: organization.arn,
            FeatureSet: organization.featureSet,
            MasterAccountArn: organizationArn(cloud.state, 'account', management.id),
            MasterAccountId: management.id,
            MasterAccountEmail: management.email,
            AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
          },
        };
      },
    },

    ListRoots: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { entries, ...rest } = page(context, input, [rootShape(context.cloud.state)], 'ListRoots');
        return { Roots: entries, ...rest };
      },
    },

    CreateOrganizationalUnit: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const parentId = idParam(context, input, 'ParentId', 'parent');
        const name = context.params.string(input, 'Name', {
          required: true,
          min: 1,
          max: 128,
          pattern: /^[\s\S]*$/,
        });
        const tags = readTags(context, input);
        if (!parentExists(state, parentId))
          throw notFound(
            'ParentNotFoundException',
            "We can't find a root or OU with the ParentId that you specified.",
          );
        const duplicate = Object.values(state.organizationalUnits).some(
          (ou) => ou.parentId === parentId && ou.name === name,
        );
        if (duplicate)
          throw new AwsError(
            'DuplicateOrganizationalUnitException',
            'An OU with the same name already exists.',
          );
        const id = context.cloud.ids.organizationalUnitId();
        state.organizationalUnits[id] = { id, name, parentId, createdAt: context.cloud.clock.now() };
        attachDefaultPolicies(state, id);
        if (tags.length > 0) state.tags[id] = Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
        return { OrganizationalUnit: { Id: id, Arn: organizationArn(state, 'ou', id), Name: name } };
      },
    },

    DescribeOrganizationalUnit: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const id = idParam(context, input, 'OrganizationalUnitId', 'ou');
        const ou = state.organizationalUnits[id];
        if (!ou)
          throw notFound(
            'OrganizationalUnitNotFoundException',
            "We can't find an OU with the OrganizationalUnitId that you specified.",
          );
        return { OrganizationalUnit: { Id: ou.id, Arn: organizationArn(state, 'ou', ou.id), Name: ou.name } };
      },
    },

    /**
     * Deletes an empty OU: "You must first remove all accounts and child OUs from the OU that you want to delete"
     * (OrganizationalUnitNotEmptyException otherwise), from the management account only; an unknown OU is
     * OrganizationalUnitNotFoundException (SDK model, DeleteOrganizationalUnitCommand). Its policy attachments and
     * tags go with it. The server records the call in the trail like every other write.
     */
    DeleteOrganizationalUnit: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const id = idParam(context, input, 'OrganizationalUnitId', 'ou');
        if (!Object.hasOwn(state.organizationalUnits, id)) {
          throw notFound(
            'OrganizationalUnitNotFoundException',
            "We can't find an OU with the OrganizationalUnitId that you specified.",
          );
        }
        const occupied =
          Object.values(state.organizationalUnits).some((ou) => ou.parentId === id) ||
          members(state).some((account) => account.parentId === id);
        if (occupied) {
          throw new AwsError(
            'OrganizationalUnitNotEmptyException',
            'The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.',
          );
        }
        detachEverything(state, id);
        delete state.tags[id];
        delete state.organizationalUnits[id];
        return undefined;
      },
    },

    ListOrganizationalUnitsForParent: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const parentId = existingParentId(context, input);
        const units = Object.values(state.organizationalUnits)
          .filter((ou) => ou.parentId === parentId)
          .map((ou) => ({ Id: ou.id, Arn: organizationArn(state, 'ou', ou.id), Name: ou.name }));
        const { entries, ...rest } = page(
          context,
          input,
          units,
          `ListOrganizationalUnitsForParent:${parentId}`,
        );
        return { OrganizationalUnits: entries, ...rest };
      },
    },

    ListChildren: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const parentId = idParam(context, input, 'ParentId', 'parent');
        const childType = context.params.string(input, 'ChildType', {
          required: true,
          values: ['ACCOUNT', 'ORGANIZATIONAL_UNIT'],
        });
        if (!parentExists(state, parentId))
          throw notFound(
            'ParentNotFoundException',
            "We can't find a root or OU with the ParentId that you specified.",
          );
        const children =
          childType === 'ACCOUNT'
            ? members(state)
                .filter((account) => account.parentId === parentId)
                .map((account) => ({ Id: account.id, Type: 'ACCOUNT' }))
            : Object.values(state.organizationalUnits)
                .filter((ou) => ou.parentId === parentId)
                .map((ou) => ({ Id: ou.id, Type: 'ORGANIZATIONAL_UNIT' }));
        const { entries, ...rest } = page(context, input, children, `ListChildren:${parentId}:${childType}`);
        return { Children: entries, ...rest };
      },
    },

    ListParents: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const childId = idParam(context, input, 'ChildId', 'child');
        const parentId = member(state, childId)?.parentId ?? state.organizationalUnits[childId]?.parentId;
        if (!parentId)
          throw notFound(
            'ChildNotFoundException',
            "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
          );
        const type = ROOT_ID.test(parentId) ? 'ROOT' : 'ORGANIZATIONAL_UNIT';
        const { entries, ...rest } = page(
          context,
          input,
          [{ Id: parentId, Type: type }],
          `ListParents:${childId}`,
        );
        return { Parents: entries, ...rest };
      },
    },

    CreateAccount: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { cloud, params } = context;
        const { state } = cloud;
        const email = params.string(input, 'Email', { required: true, min: 6, max: 64, pattern: EMAIL });
        const accountName = params.string(input, 'AccountName', {
          required: true,
          min: 1,
          max: 128,
          pattern: /^[\u0020-\u007E]+$/,
        });
        const roleName =
          params.string(input, 'RoleName', { max: 64, pattern: /^[\w+=,.@-]{1,64}$/ }) ??
          'OrganizationAccountAccessRole';
        const billing =
          params.string(input, 'IamUserAccessToBilling', { values: ['ALLOW', 'DENY'] }) ?? 'ALLOW';
        const tags = readTags(context, input);
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
          params.fail(
            'You provided a value that does not match the required pattern.',
            'INVALID_EMAIL_ADDRESS_TARGET',
          );
        }

        const inProgress = Object.values(state.createAccountRequests).filter(
          (request) => request.state === 'IN_PROGRESS',
        ).length;
        if (inProgress >= state.settings.maxCreationsInProgress) {
          throw new AwsError(
            'ConstraintViolationException',
            `You have ${inProgress} account creations in progress, the most this organization allows at once. Wait for one to finish, then try again.`,
            { fields: { Reason: 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED' } },
          );
        }
        // One reason, two limits: the JavaScript SDK's model (ConstraintViolationException) describes
        // ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED as the accounts "in progress at a time", the AWS SDK for Ruby and
        // Java API references as "the number of accounts that you can create in one day". Both are modelled.
        const dayAgo = cloud.clock.now() - DAY_MS;
        const today = Object.values(state.createAccountRequests).filter(
          (request) => request.requestedAt > dayAgo,
        ).length;
        if (today >= state.settings.maxCreationsPerDay) {
          throw new AwsError(
            'ConstraintViolationException',
            `You have created ${today} accounts in the last 24 hours, the most this organization allows in a day. Try again later, or contact AWS Support.`,
            { fields: { Reason: 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED' } },
          );
        }
        if (members(state).length + inProgress >= state.settings.maxAccounts) {
          throw new AwsError(
            'ConstraintViolationException',
            'You have reached the limit on the number of accounts in your organization. To request an increase, contact AWS Support.',
            { fields: { Reason: 'ACCOUNT_NUMBER_LIMIT_EXCEEDED' } },
          );
        }

        const outcome = state.settings.nextCreationOutcomes.shift() ?? { state: 'SUCCEEDED' as const };
        const now = cloud.clock.now();
        const request: CreateAccountRequestRecord = {
          id: cloud.ids.createAccountRequestId(),
          accountName,
          email,
          roleName,
          iamUserAccessToBilling: billing as 'ALLOW' | 'DENY',
          tags,
          state: 'IN_PROGRESS',
          requestedAt: now,
          completesAt: now + (outcome.delayMs ?? state.settings.creationDelayMs),
          outcome,
          requestedBy: context.caller,
        };
        state.createAccountRequests[request.id] = request;
        cloud.wakeAt(request.id, request.completesAt);
        return { CreateAccountStatus: statusShape(request) };
      },
    },

    DescribeCreateAccountStatus: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const id = context.params.string(input, 'CreateAccountRequestId', {
          required: true,
          max: 36,
          pattern: CREATE_ACCOUNT_REQUEST_ID,
        });
        const request = context.cloud.state.createAccountRequests[id];
        if (!request)
          throw notFound(
            'CreateAccountStatusNotFoundException',
            "We can't find a create account request with the CreateAccountRequestId that you specified.",
          );
        return { CreateAccountStatus: statusShape(request) };
      },
    },

    ListCreateAccountStatus: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const states = context.params.list(input, 'States').map((value) => {
          if (value !== 'IN_PROGRESS' && value !== 'SUCCEEDED' && value !== 'FAILED') {
            return context.params.fail(
              `Value '${String(value)}' at 'states' failed to satisfy constraint: Member must satisfy enum value set: [IN_PROGRESS, SUCCEEDED, FAILED]`,
              'INVALID_ENUM',
            );
          }
          return value;
        });
        const requests = Object.values(context.cloud.state.createAccountRequests)
          .filter((request) => states.length === 0 || states.includes(request.state))
          .sort((a, b) => a.requestedAt - b.requestedAt)
          .map(statusShape);
        const { entries, ...rest } = page(
          context,
          input,
          requests,
          `ListCreateAccountStatus:${[...states].sort().join(',')}`,
        );
        return { CreateAccountStatuses: entries, ...rest };
      },
    },

    DescribeAccount: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const id = idParam(context, input, 'AccountId', 'account');
        const account = member(context.cloud.state, id);
        if (!account) throw accountNotFound();
        return { Account: accountShape(context.cloud.state, account) };
      },
    },

    ListAccounts: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const accounts = members(state)
          .sort((a, b) => a.joinedAt - b.joinedAt || a.id.localeCompare(b.id))
          .map((account) => accountShape(state, account));
        const { entries, ...rest } = page(context, input, accounts, 'ListAccounts');
        return { Accounts: entries, ...rest };
      },
    },

    ListAccountsForParent: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const parentId = existingParentId(context, input);
        const accounts = members(state)
          .filter((account) => account.parentId === parentId)
          .sort((a, b) => a.joinedAt - b.joinedAt || a.id.localeCompare(b.id))
          .map((account) => accountShape(state, account));
        const { entries, ...rest } = page(context, input, accounts, `ListAccountsForParent:${parentId}`);
        return { Accounts: entries, ...rest };
      },
    },

    MoveAccount: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const accountId = idParam(context, input, 'AccountId', 'account');
        const sourceParentId = idParam(context, input, 'SourceParentId', 'parent');
        const destinationParentId = idParam(context, input, 'DestinationParentId', 'parent');
        const account = member(state, accountId);
        if (!account)
          throw notFound(
            'AccountNotFoundException',
            "We can't find an AWS account with the AccountId that you specified.",
          );
        if (!parentExists(state, destinationParentId)) {
          throw notFound(
            'DestinationParentNotFoundException',
            "We can't find the destination container (a root or OU) with the ParentId that you specified.",
          );
        }
        if (!parentExists(state, sourceParentId) || account.parentId !== sourceParentId) {
          if (account.parentId === destinationParentId) {
            throw new AwsError(
              'DuplicateAccountException',
              'That account is already present in the specified destination.',
            );
          }
          throw notFound(
            'SourceParentNotFoundException',
            "We can't find a source root or OU with the ParentId that you specified.",
          );
        }
        if (account.parentId === destinationParentId) {
          throw new AwsError(
            'DuplicateAccountException',
            'That account is already present in the specified destination.',
          );
        }
        account.parentId = destinationParentId;
        return undefined;
      },
    },

    TagResource: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const resourceId = context.params.string(input, 'ResourceId', { required: true, max: 130 });
        const tags = context.params.tags(input, 'Tags', 50);
        if (tags.length === 0)
          context.params.fail(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must not be null",
            'INPUT_REQUIRED',
          );
        if (!resourceExists(state, resourceId))
          throw notFound(
            'TargetNotFoundException',
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
          );
        const merged = {
          ...state.tags[resourceId],
          ...Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])),
        };
        if (Object.keys(merged).length > 50) {
          throw new AwsError(
            'ConstraintViolationException',
            'You have exceeded the maximum number of tags allowed on this resource.',
            { fields: { Reason: 'TAG_POLICY_VIOLATION' } },
          );
        }
        state.tags[resourceId] = merged;
        return undefined;
      },
    },

    UntagResource: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const resourceId = context.params.string(input, 'ResourceId', { required: true, max: 130 });
        const keys = context.params.list(input, 'TagKeys', { required: true, max: 50 });
        if (keys.some((key) => typeof key !== 'string' || key.length < 1 || key.length > 128)) {
          context.params.fail('Each of TagKeys must be a string of 1 to 128 characters.', 'INVALID_INPUT');
        }
        if (!resourceExists(state, resourceId))
          throw notFound(
            'TargetNotFoundException',
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
          );
        const current = { ...state.tags[resourceId] };
        for (const key of keys as string[]) delete current[key];
        state.tags[resourceId] = current;
        return undefined;
      },
    },

    ListTagsForResource: {
      mutating: false,
      run(context, input) {
        requireManagement(context);
        const { state } = context.cloud;
        const resourceId = context.params.string(input, 'ResourceId', { required: true, max: 130 });
        if (!resourceExists(state, resourceId))
          throw notFound(
            'TargetNotFoundException',
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
          );
        const tags = Object.entries(state.tags[resourceId] ?? {}).map(([Key, Value]) => ({ Key, Value }));
        const { entries, ...rest } = page(context, input, tags, `ListTagsForResource:${resourceId}`);
        return { Tags: entries, ...rest };
      },
    },

    /**
     * Asynchronous: PENDING_CLOSURE at once, SUSPENDED (`State` CLOSED) after `closureDelayMs`, then a
     * CloseAccountResult service event. Refused for an unknown account (AccountNotFoundException), the management
     * account (CANNOT_CLOSE_MANAGEMENT_ACCOUNT), one closing or closed (AccountAlreadyClosedException), past the
     * closures allowed at once (CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED) or past the 30-day quota
     * (CLOSE_ACCOUNT_QUOTA_EXCEEDED), in that order (API Reference and SDK model, CloseAccount). The account stays
     * in its OU and can still be moved.
     */
    CloseAccount: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { cloud } = context;
        const accountId = idParam(context, input, 'AccountId', 'account');
        const account = member(cloud.state, accountId);
        if (!account) throw accountNotFound();
        if (accountId === cloud.state.organization.managementAccountId) {
          throw new AwsError(
            'ConstraintViolationException',
            'You attempted to close the management account. Close it from its own console instead.',
            {
              fields: { Reason: 'CANNOT_CLOSE_MANAGEMENT_ACCOUNT' },
            },
          );
        }
        if (account.status !== 'ACTIVE')
          throw new AwsError(
            'AccountAlreadyClosedException',
            'You attempted to close an account that is already closed.',
          );
        const closing = members(cloud.state).filter((other) => other.status === 'PENDING_CLOSURE').length;
        const atOnce = cloud.settings.maxClosuresInProgress;
        if (atOnce !== undefined && closing >= atOnce) {
          throw new AwsError(
            'ConstraintViolationException',
            'You attempted to exceed the number of accounts that you can close at a time.',
            { fields: { Reason: 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED' } },
          );
        }
        if (closeAccountQuota(cloud).exhausted) {
          throw new AwsError(
            'ConstraintViolationException',
            'You have exceeded close account quota for the past 30 days.',
            { fields: { Reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED' } },
          );
        }
        const now = cloud.clock.now();
        account.status = 'PENDING_CLOSURE';
        account.closeRequestedAt = now;
        account.closesAt = now + cloud.settings.closureDelayMs;
        cloud.wakeAt(account.id, account.closesAt);
        return undefined;
      },
    },

    /**
     * Called by the member account itself (its root user or one of its principals; here: credentials of a role
     * assumed in it). The management account cannot leave (MasterCannotLeaveOrganizationException); an account
     * outside any organization gets AWSOrganizationsNotInUseException. CloudTrail records the call in the caller's
     * account; the management account gets the AccountDepartedOrganization event (API Reference, LeaveOrganization).
     */
    LeaveOrganization: {
      mutating: true,
      run(context) {
        const { cloud, caller } = context;
        if (caller.accountId === cloud.state.organization.managementAccountId) {
          throw new AwsError(
            'MasterCannotLeaveOrganizationException',
            "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization.",
          );
        }
        const account = member(cloud.state, caller.accountId);
        if (!account) {
          throw new AwsError(
            'AWSOrganizationsNotInUseException',
            'Your account is not a member of an organization.',
          );
        }
        depart(context, account, 'LEFT');
        return undefined;
      },
    },

    /** The management account removes a member (API Reference, RemoveAccountFromOrganization). */
    RemoveAccountFromOrganization: {
      mutating: true,
      run(context, input) {
        requireManagement(context);
        const { cloud } = context;
        const accountId = idParam(context, input, 'AccountId', 'account');
        if (accountId === cloud.state.organization.managementAccountId) {
          throw new AwsError(
            'MasterCannotLeaveOrganizationException',
            "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization.",
          );
        }
        const account = member(cloud.state, accountId);
        if (!account) throw accountNotFound();
        depart(context, account, 'REMOVED');
        return undefined;
      },
    },

    ...policyOperations,
  },
};
