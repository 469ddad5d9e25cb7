import { ListRolesCommand } from '@aws-sdk/client-iam';
import {
  AccountAlreadyClosedException,
  AccountNotFoundException,
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  DescribeAccountCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  MoveAccountCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEvent, toEventBridgeEvent } from '../../local/cloud/index.ts';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const SECURITY = '111111111111';
const NETWORK = '222222222222';

describe('Organizations account closure', () => {
  let t: TestCloud;
  let org: OrganizationsClient;
  let heard: AuditEvent[];

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${t.local.endpoint}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const describeAccount = async (accountId: string) =>
    (await org.send(new DescribeAccountCommand({ AccountId: accountId }))).Account;
  const parentOf = async (accountId: string) =>
    (await org.send(new ListParentsCommand({ ChildId: accountId }))).Parents?.[0]?.Id;
  const assumeAccessRole = (accountId: string) => t.assumeAccessRole(accountId, 'closure');
  const serviceEvents = (name: string) => heard.filter((event) => event.eventName === name);

  beforeEach(async () => {
    t = await startTestCloud();
    org = t.organizations();
    heard = [];
    t.local.subscribe((event) => heard.push(event));
  });
  afterEach(() => t.close());

  describe('the asynchronous closure', () => {
    it('shows PENDING_CLOSURE, then Status SUSPENDED and State CLOSED, in every listing, and the account stays in its OU', async () => {
      const ou = await parentOf(SECURITY);

      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));

      expect(await describeAccount(SECURITY)).toMatchObject({
        Status: 'PENDING_CLOSURE',
        State: 'PENDING_CLOSURE',
      });
      t.clock.advance(t.cloud.settings.closureDelayMs - 1);
      expect(await describeAccount(SECURITY)).toMatchObject({ State: 'PENDING_CLOSURE' });
      t.clock.advance(1);
      expect(await describeAccount(SECURITY)).toMatchObject({ Status: 'SUSPENDED', State: 'CLOSED' });
      const { Accounts = [] } = await org.send(new ListAccountsCommand({}));
      expect(Accounts.find((account) => account.Id === SECURITY)).toMatchObject({
        Status: 'SUSPENDED',
        State: 'CLOSED',
      });
      expect(await parentOf(SECURITY)).toBe(ou);
      const inOu = await org.send(new ListAccountsForParentCommand({ ParentId: ou! }));
      expect(inOu.Accounts).toEqual([
        expect.objectContaining({ Id: SECURITY, Status: 'SUSPENDED', State: 'CLOSED' }),
      ]);
    });

    it('lets a closed account be moved to another OU', async () => {
      const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Suspended' }),
      );
      const from = await parentOf(SECURITY);
      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));
      t.clock.advance(t.cloud.settings.closureDelayMs);

      await org.send(
        new MoveAccountCommand({
          AccountId: SECURITY,
          SourceParentId: from!,
          DestinationParentId: OrganizationalUnit!.Id!,
        }),
      );

      expect(await parentOf(SECURITY)).toBe(OrganizationalUnit!.Id);
      expect(await describeAccount(SECURITY)).toMatchObject({ State: 'CLOSED' });
    });

    it('refuses to close twice, the management account and an unknown account, changing nothing', async () => {
      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));
      await expect(org.send(new CloseAccountCommand({ AccountId: SECURITY }))).rejects.toThrow(
        AccountAlreadyClosedException,
      );
      t.clock.advance(t.cloud.settings.closureDelayMs);
      await expect(org.send(new CloseAccountCommand({ AccountId: SECURITY }))).rejects.toThrow(
        AccountAlreadyClosedException,
      );
      await expect(org.send(new CloseAccountCommand({ AccountId: '000000000000' }))).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'CANNOT_CLOSE_MANAGEMENT_ACCOUNT',
      });
      await expect(org.send(new CloseAccountCommand({ AccountId: '999999999999' }))).rejects.toThrow(
        AccountNotFoundException,
      );
      expect(await describeAccount('000000000000')).toMatchObject({ State: 'ACTIVE' });
      expect((await control('GET', '/_local/close-quota')).body).toMatchObject({ used: 1 });
    });

    it('refuses calls with the credentials of a closing account, and AssumeRole into it', async () => {
      const credentials = await assumeAccessRole(NETWORK);
      await expect(t.iam(credentials).send(new ListRolesCommand({}))).resolves.toBeDefined();

      await org.send(new CloseAccountCommand({ AccountId: NETWORK }));

      await expect(t.iam(credentials).send(new ListRolesCommand({}))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
      await expect(assumeAccessRole(NETWORK)).rejects.toMatchObject({ name: 'AccessDenied' });
      t.clock.advance(t.cloud.settings.closureDelayMs);
      await expect(t.iam(credentials).send(new ListRolesCommand({}))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
    });
  });

  describe('the quota', () => {
    it('defaults to the higher of 250 and 20% of the member accounts, at most 1000, over 30 days', async () => {
      const { status, body } = await control('GET', '/_local/close-quota');
      expect(status).toBe(200);
      expect(body).toEqual({
        limit: 250,
        used: 0,
        exhausted: false,
        memberAccounts: 2,
        percent: 20,
        minimum: 250,
        maximum: 1000,
        windowMs: 30 * DAY_MS,
      });
      await control('PATCH', '/_local/settings', {
        closeAccountQuotaMinimum: 0,
        closeAccountQuotaPercent: 50,
      });
      expect((await control('GET', '/_local/close-quota')).body).toMatchObject({ limit: 1 });
      await control('PATCH', '/_local/settings', { closeAccountQuotaMaximum: 0 });
      expect((await control('GET', '/_local/close-quota')).body).toEqual(
        expect.objectContaining({ limit: 0, exhausted: true }),
      );
      expect((await control('GET', '/_local/close-quota')).body).not.toHaveProperty('nextAvailableAt');
      await expect(org.send(new CloseAccountCommand({ AccountId: SECURITY }))).rejects.toMatchObject({
        Reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
      });
    });

    it('refuses a closure past the quota with CLOSE_ACCOUNT_QUOTA_EXCEEDED until the oldest leaves the 30 days', async () => {
      expect((await control('PATCH', '/_local/settings', { closeAccountQuotaMinimum: 1 })).status).toBe(200);
      const closedAt = t.clock.now();
      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));
      t.clock.advance(t.cloud.settings.closureDelayMs);

      await expect(org.send(new CloseAccountCommand({ AccountId: NETWORK }))).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
      });
      expect(await describeAccount(NETWORK)).toMatchObject({ State: 'ACTIVE' });
      expect((await control('GET', '/_local/close-quota')).body).toMatchObject({
        limit: 1,
        used: 1,
        nextAvailableAt: new Date(closedAt + 30 * DAY_MS).toISOString(),
      });

      t.clock.set(closedAt + 30 * DAY_MS - 1);
      await expect(org.send(new CloseAccountCommand({ AccountId: NETWORK }))).rejects.toMatchObject({
        Reason: 'CLOSE_ACCOUNT_QUOTA_EXCEEDED',
      });
      t.clock.advance(1);
      await org.send(new CloseAccountCommand({ AccountId: NETWORK }));
      expect(await describeAccount(NETWORK)).toMatchObject({ State: 'PENDING_CLOSURE' });
    });

    it('refuses more closures at once than allowed with CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED', async () => {
      await control('PATCH', '/_local/settings', { maxClosuresInProgress: 1 });
      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));

      await expect(org.send(new CloseAccountCommand({ AccountId: NETWORK }))).rejects.toMatchObject({
        name: 'ConstraintViolationException',
        Reason: 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED',
      });
      t.clock.advance(t.cloud.settings.closureDelayMs);
      await org.send(new CloseAccountCommand({ AccountId: NETWORK }));
      expect(await describeAccount(NETWORK)).toMatchObject({ State: 'PENDING_CLOSURE' });
    });

    it('refuses settings that make no sense, naming the field', async () => {
      const { status, body } = await control('PATCH', '/_local/settings', { closeAccountQuotaPercent: 120 });
      expect(status).toBe(400);
      expect(body.error).toMatch(/closeAccountQuotaPercent/);
      expect((await control('GET', '/_local/close-quota')).body).toMatchObject({ percent: 20 });
    });
  });

  describe('service events, as EventBridge delivers them', () => {
    it('emits CloseAccountResult when a CloseAccount ends, and none for an account closed from inside', async () => {
      const requestedAt = t.clock.now();
      await org.send(new CloseAccountCommand({ AccountId: SECURITY }));
      expect(serviceEvents('CloseAccountResult')).toEqual([]);
      t.clock.advance(t.cloud.settings.closureDelayMs);

      const [result, ...more] = serviceEvents('CloseAccountResult');
      expect(more).toEqual([]);
      expect(toEventBridgeEvent(result!)).toMatchObject({
        version: '0',
        source: 'aws.organizations',
        'detail-type': 'AWS Service Event via CloudTrail',
        account: '000000000000',
        region: 'us-east-1',
        detail: {
          eventName: 'CloseAccountResult',
          eventSource: 'organizations.amazonaws.com',
          eventType: 'AwsServiceEvent',
          recipientAccountId: '000000000000',
          serviceEventDetails: {
            closeAccountStatus: {
              accountId: SECURITY,
              state: 'SUCCEEDED',
              requestedTimestamp: new Date(requestedAt).toISOString(),
              completedTimestamp: new Date(requestedAt + t.cloud.settings.closureDelayMs).toISOString(),
            },
          },
        },
      });

      expect((await control('POST', `/_local/accounts/${NETWORK}/close-from-inside`)).status).toBe(200);
      t.clock.advance(t.cloud.settings.closureDelayMs);
      expect(await describeAccount(NETWORK)).toMatchObject({ State: 'CLOSED' });
      expect(serviceEvents('CloseAccountResult')).toHaveLength(1);
    });

    it('emits CreateAccountResult when a creation succeeds and when it fails, with the outcome', async () => {
      await control('POST', '/_local/creation-outcomes', { state: 'FAILED', failureReason: 'INVALID_EMAIL' });
      const failed = await org.send(
        new CreateAccountCommand({ AccountName: 'broken', Email: 'broken@example.com' }),
      );
      const requestedAt = t.clock.now();
      t.clock.advance(t.cloud.settings.creationDelayMs);
      const made = await org.send(
        new CreateAccountCommand({ AccountName: 'made', Email: 'made@example.com' }),
      );
      t.clock.advance(t.cloud.settings.creationDelayMs);

      const bridged = serviceEvents('CreateAccountResult').map(toEventBridgeEvent);
      expect(bridged).toHaveLength(2);
      expect(bridged[0]).toMatchObject({
        source: 'aws.organizations',
        'detail-type': 'AWS Service Event via CloudTrail',
        region: 'us-east-1',
        detail: {
          eventName: 'CreateAccountResult',
          eventType: 'AwsServiceEvent',
          serviceEventDetails: {
            createAccountStatus: {
              id: failed.CreateAccountStatus!.Id,
              state: 'FAILED',
              accountName: 'broken',
              failureReason: 'INVALID_EMAIL',
              requestedTimestamp: new Date(requestedAt).toISOString(),
              completedTimestamp: new Date(requestedAt + t.cloud.settings.creationDelayMs).toISOString(),
            },
          },
        },
      });
      expect(bridged[0]!.detail.serviceEventDetails).not.toHaveProperty('createAccountStatus.accountId');
      const accountId = (await org.send(new ListAccountsCommand({}))).Accounts?.find(
        (account) => account.Name === 'made',
      )?.Id;
      expect(bridged[1]!.detail.serviceEventDetails).toEqual({
        createAccountStatus: expect.objectContaining({
          id: made.CreateAccountStatus!.Id,
          state: 'SUCCEEDED',
          accountName: 'made',
          accountId,
        }),
      });
    });
  });
});
