import {
  AccessDeniedException,
  AccountAlreadyClosedException,
  AccountNotFoundException,
  ChildNotFoundException,
  CloseAccountCommand,
  ConstraintViolationException,
  CreateAccountCommand,
  CreateAccountStatusNotFoundException,
  CreateOrganizationalUnitCommand,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  DescribeOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  DestinationParentNotFoundException,
  DuplicateAccountException,
  DuplicateOrganizationalUnitException,
  InvalidInputException,
  LeaveOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListCreateAccountStatusCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MasterCannotLeaveOrganizationException,
  MoveAccountCommand,
  OrganizationalUnitNotFoundException,
  type OrganizationsClient,
  ParentNotFoundException,
  paginateListAccounts,
  RemoveAccountFromOrganizationCommand,
  SourceParentNotFoundException,
  TagResourceCommand,
  TargetNotFoundException,
  UntagResourceCommand,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

async function ouByName(org: OrganizationsClient, parentId: string, name: string): Promise<string> {
  const { OrganizationalUnits = [] } = await org.send(
    new ListOrganizationalUnitsForParentCommand({ ParentId: parentId }),
  );
  const ou = OrganizationalUnits.find((unit) => unit.Name === name);
  if (!ou?.Id) throw new Error(`no OU ${name} under ${parentId}`);
  return ou.Id;
}

describe('Organizations', () => {
  let t: TestCloud;
  let org: OrganizationsClient;
  let rootId: string;

  beforeEach(async () => {
    t = await startTestCloud();
    org = t.organizations();
    rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  });
  afterEach(() => t.close());

  describe('the organization and its tree', () => {
    it('describes the organization with the management account', async () => {
      const { Organization } = await org.send(new DescribeOrganizationCommand({}));
      expect(Organization).toMatchObject({
        Id: expect.stringMatching(/^o-[a-z0-9]{10}$/),
        FeatureSet: 'ALL',
        MasterAccountId: '000000000000',
        MasterAccountEmail: 'aws-management@example.com',
      });
      expect(Organization?.Arn).toBe(`arn:aws:organizations::000000000000:organization/${Organization?.Id}`);
    });

    it('lets a member account describe the organization but not list its accounts', async () => {
      const member = t.organizations({ accessKeyId: 'security-admin', secretAccessKey: 'x' });
      await expect(member.send(new DescribeOrganizationCommand({}))).resolves.toBeDefined();
      await expect(member.send(new ListAccountsCommand({}))).rejects.toThrow(AccessDeniedException);
    });

    it('lists the root', async () => {
      const { Roots } = await org.send(new ListRootsCommand({}));
      expect(Roots).toEqual([
        expect.objectContaining({ Id: expect.stringMatching(/^r-[a-z0-9]{4}$/), Name: 'Root' }),
      ]);
    });

    it('creates, describes and lists organizational units', async () => {
      const workloads = await ouByName(org, rootId, 'Workloads');
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({
          ParentId: workloads,
          Name: 'Staging',
          Tags: [{ Key: 'tier', Value: 'staging' }],
        }),
      );
      expect(OrganizationalUnit?.Id).toMatch(/^ou-[a-z0-9]{4}-[a-z0-9]{8}$/);
      const described = await org.send(
        new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: OrganizationalUnit!.Id! }),
      );
      expect(described.OrganizationalUnit?.Name).toBe('Staging');
      const names = (
        await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: workloads }))
      ).OrganizationalUnits?.map((ou) => ou.Name);
      expect(names).toEqual(['Dev', 'Prod', 'Staging']);
      const tags = await org.send(new ListTagsForResourceCommand({ ResourceId: OrganizationalUnit!.Id! }));
      expect(tags.Tags).toEqual([{ Key: 'tier', Value: 'staging' }]);
    });

    it('refuses a second OU of the same name under one parent, and unknown parents and OUs', async () => {
      await expect(
        org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Sandbox' })),
      ).rejects.toThrow(DuplicateOrganizationalUnitException);
      await expect(
        org.send(new CreateOrganizationalUnitCommand({ ParentId: 'ou-abcd-12345678', Name: 'X' })),
      ).rejects.toThrow(ParentNotFoundException);
      await expect(
        org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-abcd-12345678' })),
      ).rejects.toThrow(OrganizationalUnitNotFoundException);
      await expect(
        org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: 'r-zzzz' })),
      ).rejects.toThrow(ParentNotFoundException);
    });

    it('lists children by type and the parent of a child', async () => {
      const shared = await ouByName(org, rootId, 'Shared');
      const security = await ouByName(org, shared, 'Security');
      const accounts = await org.send(new ListChildrenCommand({ ParentId: security, ChildType: 'ACCOUNT' }));
      expect(accounts.Children).toEqual([{ Id: '111111111111', Type: 'ACCOUNT' }]);
      const units = await org.send(
        new ListChildrenCommand({ ParentId: shared, ChildType: 'ORGANIZATIONAL_UNIT' }),
      );
      expect(units.Children?.map((child) => child.Type)).toEqual([
        'ORGANIZATIONAL_UNIT',
        'ORGANIZATIONAL_UNIT',
      ]);
      expect((await org.send(new ListParentsCommand({ ChildId: '111111111111' }))).Parents).toEqual([
        { Id: security, Type: 'ORGANIZATIONAL_UNIT' },
      ]);
      expect((await org.send(new ListParentsCommand({ ChildId: shared }))).Parents).toEqual([
        { Id: rootId, Type: 'ROOT' },
      ]);
      await expect(org.send(new ListParentsCommand({ ChildId: '999999999999' }))).rejects.toThrow(
        ChildNotFoundException,
      );
    });

    it('rejects a bad ChildType with the reason', async () => {
      await expect(
        org.send(new ListChildrenCommand({ ParentId: rootId, ChildType: 'USER' as never })),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        Reason: 'INVALID_ENUM',
      });
    });
  });

  describe('accounts', () => {
    it('describes an account', async () => {
      const { Account } = await org.send(new DescribeAccountCommand({ AccountId: '111111111111' }));
      expect(Account).toMatchObject({
        Id: '111111111111',
        Name: 'security',
        Email: 'aws-security@example.com',
        Status: 'ACTIVE',
        JoinedMethod: 'CREATED',
      });
      expect(Account?.JoinedTimestamp).toBeInstanceOf(Date);
      await expect(org.send(new DescribeAccountCommand({ AccountId: '999999999999' }))).rejects.toThrow(
        AccountNotFoundException,
      );
    });

    it('pages ListAccounts with NextToken, each account once', async () => {
      for (let i = 0; i < 4; i++) {
        await org.send(
          new CreateAccountCommand({ AccountName: `team-${i}`, Email: `team-${i}@example.com` }),
        );
      }
      t.clock.advance(60_000);
      const first = await org.send(new ListAccountsCommand({ MaxResults: 2 }));
      expect(first.Accounts).toHaveLength(2);
      expect(first.NextToken).toBeDefined();
      const ids: string[] = [];
      for await (const page of paginateListAccounts({ client: org, pageSize: 2 }, {}))
        ids.push(...(page.Accounts ?? []).map((a) => a.Id!));
      expect(ids).toHaveLength(7);
      expect(new Set(ids).size).toBe(7);
    });

    it('rejects a forged NextToken and a MaxResults out of bounds', async () => {
      await expect(org.send(new ListAccountsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({
        name: 'InvalidInputException',
        Reason: 'INVALID_NEXT_TOKEN',
      });
      await expect(org.send(new ListAccountsCommand({ MaxResults: 21 }))).rejects.toMatchObject({
        name: 'InvalidInputException',
        Reason: 'MAX_VALUE_EXCEEDED',
      });
    });

    it('lists the accounts of one parent', async () => {
      const shared = await ouByName(org, rootId, 'Shared');
      const infrastructure = await ouByName(org, shared, 'Infrastructure');
      const { Accounts } = await org.send(new ListAccountsForParentCommand({ ParentId: infrastructure }));
      expect(Accounts?.map((a) => a.Name)).toEqual(['network']);
      await expect(
        org.send(new ListAccountsForParentCommand({ ParentId: 'ou-abcd-zzzzzzzz' })),
      ).rejects.toThrow(ParentNotFoundException);
    });

    it('moves an account, and says so precisely when it cannot', async () => {
      const sandbox = await ouByName(org, rootId, 'Sandbox');
      const security = await ouByName(org, await ouByName(org, rootId, 'Shared'), 'Security');
      await org.send(
        new MoveAccountCommand({
          AccountId: '111111111111',
          SourceParentId: security,
          DestinationParentId: sandbox,
        }),
      );
      expect((await org.send(new ListParentsCommand({ ChildId: '111111111111' }))).Parents?.[0]?.Id).toBe(
        sandbox,
      );

      await expect(
        org.send(
          new MoveAccountCommand({
            AccountId: '111111111111',
            SourceParentId: sandbox,
            DestinationParentId: sandbox,
          }),
        ),
      ).rejects.toThrow(DuplicateAccountException);
      await expect(
        org.send(
          new MoveAccountCommand({
            AccountId: '111111111111',
            SourceParentId: security,
            DestinationParentId: rootId,
          }),
        ),
      ).rejects.toThrow(SourceParentNotFoundException);
      await expect(
        org.send(
          new MoveAccountCommand({
            AccountId: '111111111111',
            SourceParentId: sandbox,
            DestinationParentId: 'ou-abcd-00000000',
          }),
        ),
      ).rejects.toThrow(DestinationParentNotFoundException);
      await expect(
        org.send(
          new MoveAccountCommand({
            AccountId: '999999999999',
            SourceParentId: sandbox,
            DestinationParentId: rootId,
          }),
        ),
      ).rejects.toThrow(AccountNotFoundException);
    });

    it('tags, untags and lists tags of an account', async () => {
      await org.send(
        new TagResourceCommand({
          ResourceId: '111111111111',
          Tags: [
            { Key: 'owner', Value: 'secops' },
            { Key: 'cost-center', Value: '42' },
          ],
        }),
      );
      await org.send(new UntagResourceCommand({ ResourceId: '111111111111', TagKeys: ['cost-center'] }));
      const { Tags } = await org.send(new ListTagsForResourceCommand({ ResourceId: '111111111111' }));
      expect(Tags).toEqual([{ Key: 'owner', Value: 'secops' }]);
      await expect(
        org.send(new TagResourceCommand({ ResourceId: '999999999999', Tags: [{ Key: 'a', Value: 'b' }] })),
      ).rejects.toThrow(TargetNotFoundException);
      await expect(
        org.send(new UntagResourceCommand({ ResourceId: '999999999999', TagKeys: ['a'] })),
      ).rejects.toThrow(TargetNotFoundException);
      await expect(org.send(new ListTagsForResourceCommand({ ResourceId: '999999999999' }))).rejects.toThrow(
        TargetNotFoundException,
      );
      await expect(
        org.send(new TagResourceCommand({ ResourceId: '111111111111', Tags: [{ Key: '', Value: 'b' }] })),
      ).rejects.toThrow(InvalidInputException);
    });

    it('closes an account: pending closure, then suspended, and a second close is refused', async () => {
      await org.send(new CloseAccountCommand({ AccountId: '111111111111' }));
      expect(
        (await org.send(new DescribeAccountCommand({ AccountId: '111111111111' }))).Account?.Status,
      ).toBe('PENDING_CLOSURE');
      t.clock.advance(t.cloud.settings.closureDelayMs);
      expect(
        (await org.send(new DescribeAccountCommand({ AccountId: '111111111111' }))).Account?.Status,
      ).toBe('SUSPENDED');
      await expect(org.send(new CloseAccountCommand({ AccountId: '111111111111' }))).rejects.toThrow(
        AccountAlreadyClosedException,
      );
      await expect(org.send(new CloseAccountCommand({ AccountId: '000000000000' }))).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'CANNOT_CLOSE_MANAGEMENT_ACCOUNT',
      });
      await expect(org.send(new CloseAccountCommand({ AccountId: '999999999999' }))).rejects.toThrow(
        AccountNotFoundException,
      );
    });
  });

  describe('membership', () => {
    const assumeAccessRole = (accountId: string) => t.assumeAccessRole(accountId, 'leaver');
    const control = async (path: string) => {
      const response = await fetch(`${t.local.endpoint}${path}`, { method: 'POST' });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const departures = () =>
      t.cloud.auditSince(0).filter((event) => event.eventName === 'AccountDepartedOrganization');

    it('lets a member leave with its own credentials: gone from the organization, recorded as AWS records it', async () => {
      await org.send(
        new TagResourceCommand({ ResourceId: '111111111111', Tags: [{ Key: 'a', Value: 'b' }] }),
      );
      const member = t.organizations(await assumeAccessRole('111111111111'));

      await member.send(new LeaveOrganizationCommand({}));

      await expect(org.send(new DescribeAccountCommand({ AccountId: '111111111111' }))).rejects.toThrow(
        AccountNotFoundException,
      );
      const { Accounts = [] } = await org.send(new ListAccountsCommand({}));
      expect(Accounts.map((account) => account.Id)).not.toContain('111111111111');
      await expect(org.send(new ListTagsForResourceCommand({ ResourceId: '111111111111' }))).rejects.toThrow(
        TargetNotFoundException,
      );
      // The call is in the member's trail; the management account's holds the departure.
      const call = t.cloud.auditSince(0).find((event) => event.eventName === 'LeaveOrganization')!;
      expect(call).toMatchObject({ eventType: 'AwsApiCall', recipientAccountId: '111111111111' });
      expect(departures()).toEqual([
        expect.objectContaining({
          eventType: 'AwsServiceEvent',
          recipientAccountId: '000000000000',
          serviceEventDetails: {
            accountDepartedOrganization: {
              accountId: '111111111111',
              departureMethod: 'LEFT',
              departureTime: expect.any(String),
            },
          },
        }),
      ]);
      await expect(member.send(new LeaveOrganizationCommand({}))).rejects.toMatchObject({
        name: 'AWSOrganizationsNotInUseException',
      });
    });

    it('refuses to let the management account leave or be removed', async () => {
      await expect(org.send(new LeaveOrganizationCommand({}))).rejects.toThrow(
        MasterCannotLeaveOrganizationException,
      );
      await expect(
        org.send(new RemoveAccountFromOrganizationCommand({ AccountId: '000000000000' })),
      ).rejects.toThrow(MasterCannotLeaveOrganizationException);
      expect(departures()).toEqual([]);
    });

    it('removes a member from the management account only, once', async () => {
      const member = t.organizations(await assumeAccessRole('222222222222'));
      await expect(
        member.send(new RemoveAccountFromOrganizationCommand({ AccountId: '111111111111' })),
      ).rejects.toThrow(AccessDeniedException);

      await org.send(new RemoveAccountFromOrganizationCommand({ AccountId: '111111111111' }));

      const { Children = [] } = await org.send(
        new ListChildrenCommand({
          ParentId: await ouByName(org, await ouByName(org, rootId, 'Shared'), 'Security'),
          ChildType: 'ACCOUNT',
        }),
      );
      expect(Children).toEqual([]);
      expect(departures().map((event) => event.serviceEventDetails)).toEqual([
        { accountDepartedOrganization: expect.objectContaining({ departureMethod: 'REMOVED' }) },
      ]);
      await expect(
        org.send(new RemoveAccountFromOrganizationCommand({ AccountId: '111111111111' })),
      ).rejects.toThrow(AccountNotFoundException);
    });

    it('closes an account from inside: PENDING_CLOSURE, then State CLOSED with Status SUSPENDED, and no event', async () => {
      const before = t.cloud.auditSince(0).length;
      expect((await control('/_local/accounts/111111111111/close-from-inside')).status).toBe(200);
      expect(
        (await org.send(new DescribeAccountCommand({ AccountId: '111111111111' }))).Account,
      ).toMatchObject({
        State: 'PENDING_CLOSURE',
        Status: 'PENDING_CLOSURE',
      });
      t.clock.advance(t.cloud.settings.closureDelayMs);
      expect(
        (await org.send(new DescribeAccountCommand({ AccountId: '111111111111' }))).Account,
      ).toMatchObject({
        State: 'CLOSED',
        Status: 'SUSPENDED',
      });
      expect(t.cloud.auditSince(0)).toHaveLength(before);
      expect((await control('/_local/accounts/111111111111/close-from-inside')).status).toBe(409);
      expect((await control('/_local/accounts/000000000000/close-from-inside')).status).toBe(409);
      expect((await control('/_local/accounts/999999999999/close-from-inside')).status).toBe(404);
    });

    it('shows an account AWS suspended as State SUSPENDED', async () => {
      expect((await control('/_local/accounts/222222222222/suspend')).status).toBe(200);
      expect(
        (await org.send(new DescribeAccountCommand({ AccountId: '222222222222' }))).Account,
      ).toMatchObject({
        State: 'SUSPENDED',
        Status: 'SUSPENDED',
      });
    });
  });

  describe('account creation', () => {
    it('is asynchronous: IN_PROGRESS, then SUCCEEDED with an account in the root that carries its tags', async () => {
      const { CreateAccountStatus } = await org.send(
        new CreateAccountCommand({
          AccountName: 'payments-dev',
          Email: 'aws+payments-dev@example.com',
          Tags: [{ Key: 'team', Value: 'payments' }],
        }),
      );
      expect(CreateAccountStatus).toMatchObject({
        State: 'IN_PROGRESS',
        AccountName: 'payments-dev',
        Id: expect.stringMatching(/^car-[a-f0-9]{32}$/),
      });
      const id = CreateAccountStatus!.Id!;

      t.clock.advance(59_999);
      expect(
        (await org.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id })))
          .CreateAccountStatus?.State,
      ).toBe('IN_PROGRESS');
      t.clock.advance(1);
      const done = (await org.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id })))
        .CreateAccountStatus!;
      expect(done).toMatchObject({ State: 'SUCCEEDED', AccountId: expect.stringMatching(/^\d{12}$/) });
      expect(done.CompletedTimestamp).toBeInstanceOf(Date);

      expect((await org.send(new ListParentsCommand({ ChildId: done.AccountId! }))).Parents?.[0]).toEqual({
        Id: rootId,
        Type: 'ROOT',
      });
      expect((await org.send(new ListTagsForResourceCommand({ ResourceId: done.AccountId! }))).Tags).toEqual([
        { Key: 'team', Value: 'payments' },
      ]);
      const listed = await org.send(new ListCreateAccountStatusCommand({ States: ['SUCCEEDED'] }));
      expect(listed.CreateAccountStatuses?.map((s) => s.Id)).toEqual([id]);
    });

    it('fails a second account whose email differs only in letter case with EMAIL_ALREADY_EXISTS', async () => {
      const first = await org.send(
        new CreateAccountCommand({ AccountName: 'a', Email: 'Team.Alpha@Example.com' }),
      );
      t.clock.advance(60_000);
      const second = await org.send(
        new CreateAccountCommand({ AccountName: 'b', Email: 'team.alpha@example.COM' }),
      );
      t.clock.advance(60_000);
      const a = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: first.CreateAccountStatus!.Id! }),
      );
      const b = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: second.CreateAccountStatus!.Id! }),
      );
      expect(a.CreateAccountStatus?.State).toBe('SUCCEEDED');
      expect(b.CreateAccountStatus).toMatchObject({ State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' });
    });

    it('respects the limit on creations in progress when 50 are asked for at once', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          org.send(new CreateAccountCommand({ AccountName: `burst-${i}`, Email: `burst-${i}@example.com` })),
        ),
      );
      const accepted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(accepted).toHaveLength(5);
      expect(refused).toHaveLength(45);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(ConstraintViolationException);
        expect(r.reason).toMatchObject({ Reason: 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED' });
      }
      t.clock.advance(60_000);
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'after', Email: 'after@example.com' })),
      ).resolves.toBeDefined();
    });

    it('refuses creations beyond the daily limit with ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED, none in progress, until a day has passed', async () => {
      t.cloud.settings.maxCreationsPerDay = 2;
      t.cloud.settings.maxAccounts = 1_000;
      await org.send(new CreateAccountCommand({ AccountName: 'day-1', Email: 'day-1@example.com' }));
      t.clock.advance(3_600_000);
      await org.send(new CreateAccountCommand({ AccountName: 'day-2', Email: 'day-2@example.com' }));
      t.clock.advance(3_600_000);
      const { CreateAccountStatuses } = await org.send(
        new ListCreateAccountStatusCommand({ States: ['IN_PROGRESS'] }),
      );
      expect(CreateAccountStatuses).toEqual([]);
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'day-3', Email: 'day-3@example.com' })),
      ).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED',
      });
      // A rolling day: the first creation leaves the window 24 hours after it was requested.
      t.clock.advance(22 * 3_600_000);
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'day-3', Email: 'day-3@example.com' })),
      ).resolves.toBeDefined();
    });

    it('refuses a creation beyond the organization account quota with ACCOUNT_NUMBER_LIMIT_EXCEEDED', async () => {
      t.cloud.settings.maxAccounts = 4;
      await org.send(new CreateAccountCommand({ AccountName: 'fourth', Email: 'fourth@example.com' }));
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'fifth', Email: 'fifth@example.com' })),
      ).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'ACCOUNT_NUMBER_LIMIT_EXCEEDED',
      });
    });

    it('ends a creation with the failure reason queued for it', async () => {
      t.cloud.settings.nextCreationOutcomes.push({
        state: 'FAILED',
        failureReason: 'INVALID_ADDRESS',
        delayMs: 5_000,
      });
      const { CreateAccountStatus } = await org.send(
        new CreateAccountCommand({ AccountName: 'x', Email: 'x@example.com' }),
      );
      t.clock.advance(5_000);
      const status = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }),
      );
      expect(status.CreateAccountStatus).toMatchObject({ State: 'FAILED', FailureReason: 'INVALID_ADDRESS' });
      expect(status.CreateAccountStatus?.AccountId).toBeUndefined();
    });

    it('validates email, name and role name with the reason', async () => {
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'x', Email: 'a@b' })),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        Reason: 'MIN_LENGTH_EXCEEDED',
      });
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'x', Email: `${'a'.repeat(60)}@example.com` })),
      ).rejects.toMatchObject({
        Reason: 'MAX_LENGTH_EXCEEDED',
      });
      await expect(
        org.send(new CreateAccountCommand({ AccountName: 'x', Email: 'not-an-email' })),
      ).rejects.toMatchObject({ name: 'InvalidInputException' });
      await expect(
        org.send(new CreateAccountCommand({ AccountName: '', Email: 'ok@example.com' })),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
      });
      await expect(
        org.send(new CreateAccountCommand({ Email: 'ok@example.com' } as never)),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        Reason: 'INPUT_REQUIRED',
      });
      await expect(
        org.send(
          new CreateAccountCommand({ AccountName: 'x', Email: 'ok@example.com', RoleName: 'bad role' }),
        ),
      ).rejects.toMatchObject({
        Reason: 'INVALID_PATTERN',
      });
      expect(Object.keys(t.cloud.state.createAccountRequests)).toHaveLength(0);
    });

    it('says an unknown creation request is not found', async () => {
      await expect(
        org.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: 'car-0123456789abcdef' })),
      ).rejects.toThrow(CreateAccountStatusNotFoundException);
    });
  });
});
