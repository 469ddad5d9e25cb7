import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetUserIdCommand,
  type IdentitystoreClient,
  ListGroupMembershipsCommand,
  ListGroupsCommand,
  ListUsersCommand,
  AccessDeniedException as StoreAccessDeniedException,
  ConflictException as StoreConflictException,
  ResourceNotFoundException as StoreResourceNotFoundException,
  ValidationException as StoreValidationException,
} from '@aws-sdk/client-identitystore';
import {
  AccessDeniedException,
  AttachManagedPolicyToPermissionSetCommand,
  ConflictException,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeletePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribeInstanceCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  ProvisionPermissionSetCommand,
  paginateListPermissionSets,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  SSOAdminClient,
  ThrottlingException,
  UpdatePermissionSetCommand,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accessPortalUrl, manualClock, startLocalCloud } from '../../local/cloud/index.ts';
import { AWS_MANAGED_POLICIES } from '../../local/cloud/services/iam-policies.ts';
import { MAX_MANAGED_POLICIES_PER_PERMISSION_SET } from '../../local/cloud/services/sso-admin.ts';
import { ADMIN, type Credentials, startTestCloud, TEST_SEED, type TestCloud } from './harness.ts';

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223f1e0c0ffee01';
const STORE = 'd-9067c0ffee';
const SECURITY = '111111111111';
const SECURITY_ADMIN: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
/** The default `identityCenterDelayMs`: how long an assignment stays IN_PROGRESS on the simulated clock. */
const DELAY_MS = 2_000;

/** Rejects with the SDK's typed exception; returns it for further checks. */
async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe('IAM Identity Center', () => {
  let t: TestCloud;
  let sso: SSOAdminClient;
  let store: IdentitystoreClient;

  beforeEach(async () => {
    t = await startTestCloud();
    sso = t.ssoAdmin();
    store = t.identityStore();
  });
  afterEach(() => t.close());

  async function createPermissionSet(name: string, extra: { SessionDuration?: string } = {}) {
    const { PermissionSet } = await sso.send(
      new CreatePermissionSetCommand({ InstanceArn: INSTANCE_ARN, Name: name, ...extra }),
    );
    return PermissionSet!.PermissionSetArn!;
  }

  async function userId(userName: string) {
    const { UserId } = await store.send(
      new GetUserIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: userName } },
      }),
    );
    return UserId!;
  }

  async function groupId(displayName: string) {
    const { GroupId } = await store.send(
      new GetGroupIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: 'displayName', AttributeValue: displayName },
        },
      }),
    );
    return GroupId!;
  }

  function assign(permissionSetArn: string, principalId: string, accountId = SECURITY, type = 'USER') {
    return sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE_ARN,
        TargetId: accountId,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: permissionSetArn,
        PrincipalType: type as 'USER' | 'GROUP',
        PrincipalId: principalId,
      }),
    );
  }

  async function creationStatus(requestId: string) {
    const { AccountAssignmentCreationStatus } = await sso.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: INSTANCE_ARN,
        AccountAssignmentCreationRequestId: requestId,
      }),
    );
    return AccountAssignmentCreationStatus!;
  }

  async function assignmentsOf(permissionSetArn: string, accountId = SECURITY) {
    const { AccountAssignments = [] } = await sso.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: INSTANCE_ARN,
        AccountId: accountId,
        PermissionSetArn: permissionSetArn,
      }),
    );
    return AccountAssignments;
  }

  describe('instances', () => {
    it('lists the seeded instance with its identity store, owned by the management account', async () => {
      const { Instances } = await sso.send(new ListInstancesCommand({}));
      expect(Instances).toEqual([
        {
          InstanceArn: INSTANCE_ARN,
          IdentityStoreId: STORE,
          IdentityStoreArn: `arn:aws:identitystore::000000000000:identitystore/${STORE}`,
          OwnerAccountId: '000000000000',
          CreatedDate: expect.any(Date),
          Status: 'ACTIVE',
        },
      ]);
      const described = await sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN }));
      expect(described).toMatchObject({
        InstanceArn: INSTANCE_ARN,
        IdentityStoreId: STORE,
        Status: 'ACTIVE',
      });
      expect(accessPortalUrl(STORE)).toBe('https://d-9067c0ffee.awsapps.com/start');
    });

    it('refuses a member account, and an instance the caller does not own, with AccessDeniedException', async () => {
      await rejection(t.ssoAdmin(SECURITY_ADMIN).send(new ListInstancesCommand({})), AccessDeniedException);
      await rejection(
        t
          .ssoAdmin(SECURITY_ADMIN)
          .send(new CreatePermissionSetCommand({ InstanceArn: INSTANCE_ARN, Name: 'x' })),
        AccessDeniedException,
      );
      await rejection(
        sso.send(
          new DescribeInstanceCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' }),
        ),
        AccessDeniedException,
      );
    });

    it('says ValidationException for a malformed instance ARN and ResourceNotFound for an unknown one', async () => {
      await rejection(
        sso.send(new ListPermissionSetsCommand({ InstanceArn: 'arn:aws:sso:::instance/nope' })),
        ValidationException,
      );
      await rejection(
        sso.send(
          new ListPermissionSetsCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' }),
        ),
        ResourceNotFoundException,
      );
    });

    it('answers an injected throttle as ThrottlingException', async () => {
      const response = await fetch(`${t.local.endpoint}/_local/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'sso',
          operation: 'ListInstances',
          error: { code: 'ThrottlingException' },
        }),
      });
      expect(response.status).toBe(201);
      await rejection(sso.send(new ListInstancesCommand({})), ThrottlingException);
    });
  });

  describe('permission sets', () => {
    it('creates, describes, lists, updates and deletes a permission set, PT1H by default', async () => {
      const { PermissionSet } = await sso.send(
        new CreatePermissionSetCommand({
          InstanceArn: INSTANCE_ARN,
          Name: 'Developer',
          Description: 'Build and run workloads',
        }),
      );
      expect(PermissionSet).toEqual({
        Name: 'Developer',
        PermissionSetArn: expect.stringMatching(
          /^arn:aws:sso:::permissionSet\/ssoins-7223f1e0c0ffee01\/ps-[0-9a-f]{16}$/,
        ),
        Description: 'Build and run workloads',
        CreatedDate: expect.any(Date),
        SessionDuration: 'PT1H',
      });
      const arn = PermissionSet!.PermissionSetArn!;
      const described = await sso.send(
        new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }),
      );
      expect(described.PermissionSet).toEqual(PermissionSet);

      await sso.send(
        new UpdatePermissionSetCommand({
          InstanceArn: INSTANCE_ARN,
          PermissionSetArn: arn,
          SessionDuration: 'PT8H',
          Description: 'Updated',
        }),
      );
      const updated = await sso.send(
        new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }),
      );
      expect(updated.PermissionSet).toMatchObject({ SessionDuration: 'PT8H', Description: 'Updated' });

      await sso.send(new DeletePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }));
      await rejection(
        sso.send(new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn })),
        ResourceNotFoundException,
      );
    });

    it('pages ListPermissionSets', async () => {
      const created = [];
      for (const name of ['A', 'B', 'C', 'D', 'E']) created.push(await createPermissionSet(name));
      const first = await sso.send(
        new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN, MaxResults: 2 }),
      );
      expect(first.PermissionSets).toEqual(created.slice(0, 2));
      expect(first.NextToken).toBeDefined();
      const all: string[] = [];
      for await (const page of paginateListPermissionSets(
        { client: sso, pageSize: 2 },
        { InstanceArn: INSTANCE_ARN },
      ))
        all.push(...(page.PermissionSets ?? []));
      expect(all).toEqual(created);
      await rejection(
        sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN, NextToken: 'forged' })),
        ValidationException,
      );
      await rejection(
        sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN, MaxResults: 101 })),
        ValidationException,
      );
    });

    it('refuses a second permission set of the same name with ConflictException', async () => {
      await createPermissionSet('Developer');
      const error = await rejection(createPermissionSet('Developer'), ConflictException);
      expect(error.message).toBe('PermissionSet with name Developer already exists.');
    });

    it('refuses a bad name, description and session duration with ValidationException', async () => {
      await rejection(createPermissionSet('has space'), ValidationException);
      await rejection(createPermissionSet('x'.repeat(33)), ValidationException);
      await rejection(createPermissionSet('Ok', { SessionDuration: '8 hours' }), ValidationException);
      await rejection(createPermissionSet('Ok', { SessionDuration: 'PT30M' }), ValidationException);
      await rejection(createPermissionSet('Ok', { SessionDuration: 'PT13H' }), ValidationException);
      await rejection(
        sso.send(new CreatePermissionSetCommand({ InstanceArn: INSTANCE_ARN, Name: 'Ok', Description: '' })),
        ValidationException,
      );
      await expect(createPermissionSet('Ok', { SessionDuration: 'PT12H' })).resolves.toBeDefined();
    });

    it('refuses an unknown permission set with ResourceNotFoundException', async () => {
      const unknown = 'arn:aws:sso:::permissionSet/ssoins-7223f1e0c0ffee01/ps-0000000000000000';
      await rejection(
        sso.send(new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: unknown })),
        ResourceNotFoundException,
      );
      await rejection(
        sso.send(new DeletePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: unknown })),
        ResourceNotFoundException,
      );
    });

    it('attaches, lists and detaches AWS managed policies', async () => {
      const arn = await createPermissionSet('Auditor');
      const attach = (policy: string) =>
        sso.send(
          new AttachManagedPolicyToPermissionSetCommand({
            InstanceArn: INSTANCE_ARN,
            PermissionSetArn: arn,
            ManagedPolicyArn: policy,
          }),
        );
      await attach(READ_ONLY);
      await attach('arn:aws:iam::aws:policy/job-function/ViewOnlyAccess');
      const listed = await sso.send(
        new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }),
      );
      expect(listed.AttachedManagedPolicies).toEqual([
        { Name: 'ReadOnlyAccess', Arn: READ_ONLY },
        { Name: 'ViewOnlyAccess', Arn: 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess' },
      ]);
      await rejection(attach(READ_ONLY), ConflictException);
      await rejection(attach('arn:aws:iam::aws:policy/NoSuchPolicy'), ResourceNotFoundException);
      await rejection(attach('arn:aws:iam::123456789012:policy/Mine'), ValidationException);

      const detach = (policy: string) =>
        sso.send(
          new DetachManagedPolicyFromPermissionSetCommand({
            InstanceArn: INSTANCE_ARN,
            PermissionSetArn: arn,
            ManagedPolicyArn: policy,
          }),
        );
      await detach(READ_ONLY);
      await rejection(detach(READ_ONLY), ResourceNotFoundException);
      const after = await sso.send(
        new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }),
      );
      expect(after.AttachedManagedPolicies?.map((policy) => policy.Name)).toEqual(['ViewOnlyAccess']);
    });

    it(`refuses managed policy ${MAX_MANAGED_POLICIES_PER_PERMISSION_SET + 1} with ServiceQuotaExceededException`, async () => {
      const arn = await createPermissionSet('Everything');
      const policies = [...AWS_MANAGED_POLICIES.keys()];
      expect(policies.length).toBeGreaterThan(MAX_MANAGED_POLICIES_PER_PERMISSION_SET);
      const attach = (policy: string) =>
        sso.send(
          new AttachManagedPolicyToPermissionSetCommand({
            InstanceArn: INSTANCE_ARN,
            PermissionSetArn: arn,
            ManagedPolicyArn: policy,
          }),
        );
      for (const policy of policies.slice(0, MAX_MANAGED_POLICIES_PER_PERMISSION_SET)) await attach(policy);
      await rejection(
        attach(policies[MAX_MANAGED_POLICIES_PER_PERMISSION_SET]!),
        ServiceQuotaExceededException,
      );
    });
  });

  describe('account assignments', () => {
    it('creates an assignment asynchronously: IN_PROGRESS with a RequestId, SUCCEEDED on the simulated clock', async () => {
      const arn = await createPermissionSet('Developer');
      const alice = await userId('alice');
      const { AccountAssignmentCreationStatus: started } = await assign(arn, alice);
      expect(started).toEqual({
        Status: 'IN_PROGRESS',
        RequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        TargetId: SECURITY,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: arn,
        PrincipalType: 'USER',
        PrincipalId: alice,
        CreatedDate: expect.any(Date),
      });
      expect(await assignmentsOf(arn)).toEqual([]);
      expect((await creationStatus(started!.RequestId!)).Status).toBe('IN_PROGRESS');

      t.clock.advance(DELAY_MS);
      expect(await creationStatus(started!.RequestId!)).toMatchObject({
        Status: 'SUCCEEDED',
        TargetId: SECURITY,
      });
      expect(await assignmentsOf(arn)).toEqual([
        { AccountId: SECURITY, PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: alice },
      ]);
      const provisioned = await sso.send(
        new ListAccountsForProvisionedPermissionSetCommand({
          InstanceArn: INSTANCE_ARN,
          PermissionSetArn: arn,
        }),
      );
      expect(provisioned.AccountIds).toEqual([SECURITY]);
    });

    it('assigns a group, and creating an existing assignment again succeeds without a duplicate', async () => {
      const arn = await createPermissionSet('PlatformAdmin');
      const admins = await groupId('platform-admins');
      await assign(arn, admins, SECURITY, 'GROUP');
      t.clock.advance(DELAY_MS);
      const { AccountAssignmentCreationStatus: again } = await assign(arn, admins, SECURITY, 'GROUP');
      t.clock.advance(DELAY_MS);
      expect((await creationStatus(again!.RequestId!)).Status).toBe('SUCCEEDED');
      expect(await assignmentsOf(arn)).toEqual([
        { AccountId: SECURITY, PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: admins },
      ]);
    });

    it('fails the creation with a FailureReason when the principal does not exist', async () => {
      const arn = await createPermissionSet('Developer');
      const ghost = '9067c0ffee-00000000-0000-4000-8000-000000000000';
      const { AccountAssignmentCreationStatus: started } = await assign(arn, ghost);
      expect(started!.Status).toBe('IN_PROGRESS');
      t.clock.advance(DELAY_MS);
      const status = await creationStatus(started!.RequestId!);
      expect(status.Status).toBe('FAILED');
      expect(status.FailureReason).toMatch(/does not exist/);
      expect(await assignmentsOf(arn)).toEqual([]);
    });

    it('fails the creation with a FailureReason when the account is not in the organization', async () => {
      const arn = await createPermissionSet('Developer');
      const { AccountAssignmentCreationStatus: started } = await assign(
        arn,
        await userId('alice'),
        '999999999999',
      );
      t.clock.advance(DELAY_MS);
      const status = await creationStatus(started!.RequestId!);
      expect(status).toMatchObject({ Status: 'FAILED', TargetId: '999999999999' });
      expect(status.FailureReason).toMatch(/not an active member of the organization/);
    });

    it('ends the next creation as the control API queued it, then as the account and principal say', async () => {
      const queue = (outcome: unknown) =>
        fetch(`${t.local.endpoint}/_local/identity-center/assignment-outcomes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(outcome),
        });
      expect(
        (await queue({ state: 'FAILED', failureReason: 'Throttled by IAM', delayMs: 5_000 })).status,
      ).toBe(201);
      expect((await queue({ state: 'LOST' })).status).toBe(400);
      const arn = await createPermissionSet('Developer');
      const alice = await userId('alice');
      const { AccountAssignmentCreationStatus: failing } = await assign(arn, alice);
      t.clock.advance(DELAY_MS);
      expect((await creationStatus(failing!.RequestId!)).Status).toBe('IN_PROGRESS');
      t.clock.advance(5_000 - DELAY_MS);
      expect(await creationStatus(failing!.RequestId!)).toMatchObject({
        Status: 'FAILED',
        FailureReason: 'Throttled by IAM',
      });
      const { AccountAssignmentCreationStatus: next } = await assign(arn, alice);
      t.clock.advance(DELAY_MS);
      expect((await creationStatus(next!.RequestId!)).Status).toBe('SUCCEEDED');
    });

    it('refuses an unknown permission set, a bad principal id or target, and an unknown request id', async () => {
      const alice = await userId('alice');
      await rejection(
        assign('arn:aws:sso:::permissionSet/ssoins-7223f1e0c0ffee01/ps-0000000000000000', alice),
        ResourceNotFoundException,
      );
      const arn = await createPermissionSet('Developer');
      await rejection(assign(arn, 'alice'), ValidationException);
      await rejection(assign(arn, alice, '1234'), ValidationException);
      await rejection(assign(arn, alice, SECURITY, 'ROLE'), ValidationException);
      await rejection(creationStatus('00000000-0000-4000-8000-000000000000'), ResourceNotFoundException);
      await rejection(creationStatus('not-a-request-id'), ValidationException);
    });

    it('deletes an assignment asynchronously, and the permission set leaves the account with it', async () => {
      const arn = await createPermissionSet('Developer');
      const alice = await userId('alice');
      await assign(arn, alice);
      t.clock.advance(DELAY_MS);
      const remove = () =>
        sso.send(
          new DeleteAccountAssignmentCommand({
            InstanceArn: INSTANCE_ARN,
            TargetId: SECURITY,
            TargetType: 'AWS_ACCOUNT',
            PermissionSetArn: arn,
            PrincipalType: 'USER',
            PrincipalId: alice,
          }),
        );
      await rejection(
        sso.send(new DeletePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn })),
        ConflictException,
      );
      const { AccountAssignmentDeletionStatus: started } = await remove();
      expect(started).toMatchObject({ Status: 'IN_PROGRESS', PrincipalId: alice, TargetId: SECURITY });
      const deletionStatus = async () =>
        (
          await sso.send(
            new DescribeAccountAssignmentDeletionStatusCommand({
              InstanceArn: INSTANCE_ARN,
              AccountAssignmentDeletionRequestId: started!.RequestId!,
            }),
          )
        ).AccountAssignmentDeletionStatus!;
      expect((await deletionStatus()).Status).toBe('IN_PROGRESS');
      t.clock.advance(DELAY_MS);
      expect((await deletionStatus()).Status).toBe('SUCCEEDED');
      expect(await assignmentsOf(arn)).toEqual([]);
      await rejection(remove(), ResourceNotFoundException);

      // A creation while its deletion is in progress, and the other way round, is ConflictException.
      await assign(arn, alice);
      await rejection(remove(), ConflictException);
      t.clock.advance(DELAY_MS);
      await remove();
      await rejection(assign(arn, alice), ConflictException);
      t.clock.advance(DELAY_MS);
      expect(await assignmentsOf(arn)).toEqual([]);
      await sso.send(new DeletePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }));
    });

    it('pages ListAccountAssignments', async () => {
      const arn = await createPermissionSet('Developer');
      const principals = [await userId('alice'), await userId('bob'), await groupId('developers')];
      await assign(arn, principals[0]!);
      await assign(arn, principals[1]!);
      await assign(arn, principals[2]!, SECURITY, 'GROUP');
      t.clock.advance(DELAY_MS);
      const first = await sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: INSTANCE_ARN,
          AccountId: SECURITY,
          PermissionSetArn: arn,
          MaxResults: 2,
        }),
      );
      const second = await sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: INSTANCE_ARN,
          AccountId: SECURITY,
          PermissionSetArn: arn,
          NextToken: first.NextToken,
        }),
      );
      expect(first.AccountAssignments).toHaveLength(2);
      expect(second.NextToken).toBeUndefined();
      expect([...first.AccountAssignments!, ...second.AccountAssignments!].map((a) => a.PrincipalId)).toEqual(
        principals,
      );
    });

    it('marks provisioned accounts outdated after a change until ProvisionPermissionSet finishes', async () => {
      const arn = await createPermissionSet('Developer');
      await assign(arn, await userId('alice'));
      t.clock.advance(DELAY_MS);
      await sso.send(
        new AttachManagedPolicyToPermissionSetCommand({
          InstanceArn: INSTANCE_ARN,
          PermissionSetArn: arn,
          ManagedPolicyArn: ADMIN_POLICY,
        }),
      );
      const accounts = async (
        status: 'LATEST_PERMISSION_SET_PROVISIONED' | 'LATEST_PERMISSION_SET_NOT_PROVISIONED',
      ) =>
        (
          await sso.send(
            new ListAccountsForProvisionedPermissionSetCommand({
              InstanceArn: INSTANCE_ARN,
              PermissionSetArn: arn,
              ProvisioningStatus: status,
            }),
          )
        ).AccountIds;
      expect(await accounts('LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([SECURITY]);

      const { PermissionSetProvisioningStatus: started } = await sso.send(
        new ProvisionPermissionSetCommand({
          InstanceArn: INSTANCE_ARN,
          PermissionSetArn: arn,
          TargetType: 'ALL_PROVISIONED_ACCOUNTS',
        }),
      );
      expect(started).toMatchObject({ Status: 'IN_PROGRESS', PermissionSetArn: arn });
      t.clock.advance(DELAY_MS);
      const { PermissionSetProvisioningStatus: done } = await sso.send(
        new DescribePermissionSetProvisioningStatusCommand({
          InstanceArn: INSTANCE_ARN,
          ProvisionPermissionSetRequestId: started!.RequestId!,
        }),
      );
      expect(done!.Status).toBe('SUCCEEDED');
      expect(await accounts('LATEST_PERMISSION_SET_PROVISIONED')).toEqual([SECURITY]);
      await rejection(
        sso.send(
          new ProvisionPermissionSetCommand({
            InstanceArn: INSTANCE_ARN,
            PermissionSetArn: arn,
            TargetType: 'AWS_ACCOUNT',
          }),
        ),
        ValidationException,
      );
    });

    it('records assignment calls in the management account trail', async () => {
      const arn = await createPermissionSet('Developer');
      await assign(arn, await userId('alice'));
      const names = t.cloud
        .auditSince(0)
        .filter((event) => event.eventSource === 'sso.amazonaws.com')
        .map((event) => event.eventName);
      expect(names).toEqual(['CreatePermissionSet', 'CreateAccountAssignment']);
    });
  });

  describe('identity store', () => {
    it('finds seeded users by user name or email, and groups by display name', async () => {
      const alice = await userId('alice');
      expect(alice).toMatch(
        /^9067c0ffee-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      const byEmail = await store.send(
        new GetUserIdCommand({
          IdentityStoreId: STORE,
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' },
          },
        }),
      );
      expect(byEmail).toMatchObject({ IdentityStoreId: STORE, UserId: alice });
      const user = await store.send(new DescribeUserCommand({ IdentityStoreId: STORE, UserId: alice }));
      expect(user).toMatchObject({
        UserId: alice,
        UserName: 'alice',
        DisplayName: 'Alice Example',
        Name: { GivenName: 'Alice', FamilyName: 'Example' },
        Emails: [{ Value: 'alice@example.com', Type: 'work', Primary: true }],
        IdentityStoreId: STORE,
      });
      const developers = await groupId('developers');
      const group = await store.send(
        new DescribeGroupCommand({ IdentityStoreId: STORE, GroupId: developers }),
      );
      expect(group).toMatchObject({ GroupId: developers, DisplayName: 'developers', IdentityStoreId: STORE });
    });

    it('says ResourceNotFoundException when no user or group matches, and matches email case exactly', async () => {
      const lookUp = (path: string, value: string) =>
        store.send(
          new GetUserIdCommand({
            IdentityStoreId: STORE,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } },
          }),
        );
      const missing = await rejection(
        lookUp('emails.value', 'nobody@example.com'),
        StoreResourceNotFoundException,
      );
      expect(missing.ResourceType).toBe('USER');
      await rejection(lookUp('emails.value', 'Alice@Example.com'), StoreResourceNotFoundException);
      await rejection(lookUp('displayName', 'Alice Example'), StoreValidationException);
      await rejection(
        store.send(
          new GetGroupIdCommand({
            IdentityStoreId: STORE,
            AlternateIdentifier: {
              UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'nobody' },
            },
          }),
        ),
        StoreResourceNotFoundException,
      );
      const noStore = await rejection(
        store.send(
          new GetUserIdCommand({
            IdentityStoreId: 'd-0000000000',
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } },
          }),
        ),
        StoreResourceNotFoundException,
      );
      expect(noStore.ResourceType).toBe('IDENTITY_STORE');
    });

    it('lists users and groups, paged and filtered', async () => {
      const first = await store.send(new ListUsersCommand({ IdentityStoreId: STORE, MaxResults: 1 }));
      const rest = await store.send(
        new ListUsersCommand({ IdentityStoreId: STORE, NextToken: first.NextToken }),
      );
      expect([...first.Users!, ...rest.Users!].map((user) => user.UserName)).toEqual(['alice', 'bob']);
      const filtered = await store.send(
        new ListUsersCommand({
          IdentityStoreId: STORE,
          Filters: [{ AttributePath: 'UserName', AttributeValue: 'bob' }],
        }),
      );
      expect(filtered.Users!.map((user) => user.UserName)).toEqual(['bob']);
      const groups = await store.send(
        new ListGroupsCommand({
          IdentityStoreId: STORE,
          Filters: [{ AttributePath: 'DisplayName', AttributeValue: 'auditors' }],
        }),
      );
      expect(groups.Groups!.map((group) => group.DisplayName)).toEqual(['auditors']);
      await rejection(
        store.send(
          new ListGroupsCommand({
            IdentityStoreId: STORE,
            Filters: [{ AttributePath: 'Owner', AttributeValue: 'x' }],
          }),
        ),
        StoreValidationException,
      );
    });

    it('lists the members of a group', async () => {
      const { GroupMemberships } = await store.send(
        new ListGroupMembershipsCommand({ IdentityStoreId: STORE, GroupId: await groupId('developers') }),
      );
      expect(GroupMemberships!.map((membership) => membership.MemberId)).toEqual([
        { UserId: await userId('alice') },
        { UserId: await userId('bob') },
      ]);
    });

    it('creates users, groups and memberships, refusing duplicates with ConflictException', async () => {
      const { UserId } = await store.send(
        new CreateUserCommand({
          IdentityStoreId: STORE,
          UserName: 'dave',
          DisplayName: 'Dave Example',
          Name: { GivenName: 'Dave', FamilyName: 'Example' },
          Emails: [{ Value: 'dave@example.com', Primary: true }],
        }),
      );
      expect(await userId('dave')).toBe(UserId);
      await rejection(
        store.send(new CreateUserCommand({ IdentityStoreId: STORE, UserName: 'dave' })),
        StoreConflictException,
      );
      const sameEmail = await rejection(
        store.send(
          new CreateUserCommand({
            IdentityStoreId: STORE,
            UserName: 'dave2',
            Emails: [{ Value: 'DAVE@example.com' }],
          }),
        ),
        StoreConflictException,
      );
      expect(sameEmail.Reason).toBe('UNIQUENESS_CONSTRAINT_VIOLATION');
      await rejection(
        store.send(new CreateUserCommand({ IdentityStoreId: STORE, UserName: 'Administrator' })),
        StoreValidationException,
      );

      const { GroupId } = await store.send(
        new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'oncall' }),
      );
      await rejection(
        store.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'oncall' })),
        StoreConflictException,
      );
      await store.send(
        new CreateGroupMembershipCommand({ IdentityStoreId: STORE, GroupId, MemberId: { UserId: UserId! } }),
      );
      await rejection(
        store.send(
          new CreateGroupMembershipCommand({
            IdentityStoreId: STORE,
            GroupId,
            MemberId: { UserId: UserId! },
          }),
        ),
        StoreConflictException,
      );
      await rejection(
        store.send(
          new CreateGroupMembershipCommand({
            IdentityStoreId: STORE,
            GroupId,
            MemberId: { UserId: '9067c0ffee-00000000-0000-4000-8000-000000000000' },
          }),
        ),
        StoreResourceNotFoundException,
      );
    });

    it('lets a member account read the store but not change it', async () => {
      const member = t.identityStore(SECURITY_ADMIN);
      await expect(
        member.send(
          new GetUserIdCommand({
            IdentityStoreId: STORE,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } },
          }),
        ),
      ).resolves.toMatchObject({ UserId: await userId('alice') });
      await rejection(
        member.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'rogue' })),
        StoreAccessDeniedException,
      );
    });
  });

  describe('with a data file', () => {
    let directory: string;
    beforeEach(() => {
      directory = mkdtempSync(join(tmpdir(), 'vend-identity-center-'));
    });
    afterEach(() => rmSync(directory, { recursive: true, force: true }));

    const clientFor = (endpoint: string) =>
      new SSOAdminClient({ endpoint, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });

    it('finishes an assignment in flight after a restart', async () => {
      const dataFile = join(directory, 'cloud.json');
      const clock = manualClock();
      const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
      const before = clientFor(first.endpoint);
      const { PermissionSet } = await before.send(
        new CreatePermissionSetCommand({ InstanceArn: INSTANCE_ARN, Name: 'Kept' }),
      );
      const alice = Object.values(first.cloud.state.identityCenter!.instances[0]!.users).find(
        (user) => user.userName === 'alice',
      )!.userId;
      const { AccountAssignmentCreationStatus: started } = await before.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: INSTANCE_ARN,
          TargetId: SECURITY,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: PermissionSet!.PermissionSetArn!,
          PrincipalType: 'USER',
          PrincipalId: alice,
        }),
      );
      await first.close();

      const second = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
      try {
        clock.advance(DELAY_MS);
        const { AccountAssignmentCreationStatus: done } = await clientFor(second.endpoint).send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: INSTANCE_ARN,
            AccountAssignmentCreationRequestId: started!.RequestId!,
          }),
        );
        expect(done!.Status).toBe('SUCCEEDED');
      } finally {
        await second.close();
      }
    });

    it("gives a state saved before Identity Center existed the seed's instance", async () => {
      const dataFile = join(directory, 'cloud.json');
      const clock = manualClock();
      const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
      await first.close();
      const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, unknown>;
      delete saved.identityCenter;
      writeFileSync(dataFile, JSON.stringify(saved));

      const second = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
      try {
        const { Instances } = await clientFor(second.endpoint).send(new ListInstancesCommand({}));
        expect(Instances?.map((instance) => instance.IdentityStoreId)).toEqual([STORE]);
      } finally {
        await second.close();
      }
    });
  });
});
