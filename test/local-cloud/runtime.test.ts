import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  ConcurrentModificationException,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  DescribeCreateAccountStatusCommand,
  ListAccountsCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  ServiceException,
  TooManyRequestsException,
} from '@aws-sdk/client-organizations';
import { ListHostedZonesByVPCCommand } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  manualClock,
  startLocalCloud,
  toEventBridgeEvent,
} from '../../local/cloud/index.ts';
import { startTestCloud, TEST_SEED, type TestCloud } from './harness.ts';
import { waitFor } from './wait.ts';

async function createAndFinish(t: TestCloud, name: string): Promise<string> {
  const org = t.organizations();
  const { CreateAccountStatus } = await org.send(
    new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
  );
  t.clock.advance(t.cloud.settings.creationDelayMs);
  const done = await org.send(
    new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }),
  );
  return done.CreateAccountStatus!.AccountId!;
}

async function control(t: TestCloud, method: string, path: string, body?: unknown) {
  const response = await fetch(`${t.local.endpoint}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function signedFetch(
  t: TestCloud,
  service: string,
  init: { headers?: Record<string, string>; body?: string; path?: string; key?: string },
) {
  return fetch(`${t.local.endpoint}${init.path ?? '/'}`, {
    method: 'POST',
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${init.key ?? 'test'}/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
      ...init.headers,
    },
    body: init.body ?? '',
  });
}

describe('the local cloud runtime', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  describe('eventual consistency of new accounts', () => {
    it('refuses AssumeRole into a new account during the window, then allows it', async () => {
      const accountId = await createAndFinish(t, 'fresh');
      const assume = () =>
        t.sts().send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
            RoleSessionName: 'vend',
          }),
        );
      await expect(assume()).rejects.toMatchObject({ name: 'AccessDenied' });
      t.clock.advance(t.cloud.settings.consistencyWindowMs);
      const { Credentials } = await assume();
      const inside = t.sts({
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      });
      expect((await inside.send(new GetCallerIdentityCommand({}))).Account).toBe(accountId);
    });

    it('gives the new account an access role trusting the management account with AdministratorAccess', async () => {
      const accountId = await createAndFinish(t, 'roles');
      t.clock.advance(t.cloud.settings.consistencyWindowMs);
      const { Credentials } = await t.sts().send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
          RoleSessionName: 'vend',
        }),
      );
      const iam = new IAMClient({
        endpoint: t.local.endpoint,
        region: 'us-east-1',
        credentials: {
          accessKeyId: Credentials!.AccessKeyId!,
          secretAccessKey: Credentials!.SecretAccessKey!,
          sessionToken: Credentials!.SessionToken!,
        },
      });
      const role = await iam.send(new GetRoleCommand({ RoleName: 'OrganizationAccountAccessRole' }));
      expect(
        JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)).Statement[0].Principal.AWS,
      ).toBe('arn:aws:iam::000000000000:root');
    });
  });

  describe('identities', () => {
    it('refuses a role that does not trust the caller, and one that does not exist', async () => {
      const security = t.sts({ accessKeyId: 'security-admin', secretAccessKey: 'x' });
      await expect(
        security.send(
          new AssumeRoleCommand({
            RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
            RoleSessionName: 'x1',
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      await expect(
        t
          .sts()
          .send(
            new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Nope', RoleSessionName: 'x1' }),
          ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('refuses expired temporary credentials', async () => {
      const { Credentials } = await t.sts().send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
          RoleSessionName: 'short',
          DurationSeconds: 900,
        }),
      );
      t.clock.advance(900_000);
      const expired = t.sts({
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      });
      await expect(expired.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'ExpiredToken',
      });
    });

    it('refuses an unknown access key with the service-specific error', async () => {
      await expect(
        t.sts({ accessKeyId: 'nobody', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
      });
      await expect(
        t.organizations({ accessKeyId: 'nobody', secretAccessKey: 'x' }).send(new ListRootsCommand({})),
      ).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    });
  });

  describe('faults on demand', () => {
    it('fails an operation a given number of times with the typed exception, then lets it through', async () => {
      const added = await control(t, 'POST', '/_local/faults', {
        service: 'organizations',
        operation: 'CreateAccount',
        error: {
          code: 'TooManyRequestsException',
          message:
            "AWS Organizations can't complete your request because another request is already in progress.",
        },
        times: 2,
      });
      expect(added.status).toBe(201);
      const org = t.organizations();
      const create = () => org.send(new CreateAccountCommand({ AccountName: 'f', Email: 'f@example.com' }));
      await expect(create()).rejects.toThrow(TooManyRequestsException);
      await expect(create()).rejects.toThrow(TooManyRequestsException);
      await expect(create()).resolves.toBeDefined();
      expect(Object.keys(t.cloud.state.createAccountRequests)).toHaveLength(1);
    });

    it.each([
      ['organizations', 'ConcurrentModificationException', 400],
      ['organizations', 'ServiceException', 500],
    ])('surfaces an injected %s %s as its typed exception', async (service, code, status) => {
      t.cloud.faults.add({ service, operation: 'ListAccounts', error: { code }, times: 1 });
      const error = await t
        .organizations()
        .send(new ListAccountsCommand({}))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(
        code === 'ServiceException' ? ServiceException : ConcurrentModificationException,
      );
      expect(error).toMatchObject({ $metadata: { httpStatusCode: status } });
    });

    it('surfaces throttling on Query services with the Throttling code', async () => {
      t.cloud.faults.add({
        service: 'sts',
        error: { code: 'Throttling', message: 'Rate exceeded' },
        times: 1,
      });
      await expect(t.sts().send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
      });
      await expect(t.sts().send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    });

    it('repeats a rate-based fault pattern exactly for the same random seed', async () => {
      const pattern = async (): Promise<string> => {
        const local = await startLocalCloud({
          port: 0,
          seed: TEST_SEED,
          clock: manualClock(),
          randomSeed: 99,
        });
        try {
          local.cloud.faults.add({ service: 'sts', error: { code: 'Throttling' }, rate: 0.3 });
          const sts = new (await import('@aws-sdk/client-sts')).STSClient({
            endpoint: local.endpoint,
            region: 'us-east-1',
            credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
            maxAttempts: 1,
          });
          let out = '';
          for (let i = 0; i < 30; i++)
            out += await sts.send(new GetCallerIdentityCommand({})).then(
              () => '.',
              () => 'x',
            );
          return out;
        } finally {
          await local.close();
        }
      };
      const first = await pattern();
      expect(first).toMatch(/x/);
      expect(first).toMatch(/\./);
      expect(await pattern()).toBe(first);
    });

    it('adds latency measured on the cloud clock', async () => {
      t.cloud.faults.add({ service: 'organizations', operation: 'ListRoots', latencyMs: 10_000, times: 1 });
      let settled = false;
      const call = t
        .organizations()
        .send(new ListRootsCommand({}))
        .finally(() => {
          settled = true;
        });
      await waitFor(() => t.cloud.faults.list().length === 0, 'the latency fault to fire');
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false);
      t.clock.advance(10_000);
      await expect(call).resolves.toBeDefined();
    });

    it('sets creation time, the consistency window and how the next creation ends through the control API', async () => {
      expect(
        (await control(t, 'PATCH', '/_local/settings', { creationDelayMs: 1_000, consistencyWindowMs: 0 }))
          .status,
      ).toBe(200);
      expect(
        (
          await control(t, 'POST', '/_local/creation-outcomes', {
            state: 'FAILED',
            failureReason: 'INVALID_EMAIL',
          })
        ).status,
      ).toBe(201);
      const org = t.organizations();
      const { CreateAccountStatus } = await org.send(
        new CreateAccountCommand({ AccountName: 'c', Email: 'c@example.com' }),
      );
      t.clock.advance(1_000);
      const done = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }),
      );
      expect(done.CreateAccountStatus).toMatchObject({ State: 'FAILED', FailureReason: 'INVALID_EMAIL' });
    });

    it('refuses a bad control request with the field at fault and changes nothing', async () => {
      const bad = await control(t, 'PATCH', '/_local/settings', { creationDelayMs: -5 });
      expect(bad.status).toBe(400);
      expect(String(bad.body.error)).toContain('creationDelayMs');
      expect(t.cloud.settings.creationDelayMs).toBe(60_000);
      const badFault = await control(t, 'POST', '/_local/faults', { operation: 'X' });
      expect(badFault.status).toBe(400);
      expect(t.cloud.faults.list()).toHaveLength(0);
      expect((await control(t, 'GET', '/_local/nope')).status).toBe(404);
    });
  });

  describe('the audit trail', () => {
    it('records mutating calls as CloudTrail events with the caller, in order, and hands them to subscribers', async () => {
      const heard: AuditEvent[] = [];
      t.local.subscribe((event) => heard.push(event));
      const org = t.organizations();
      const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Audit' }),
      );
      await org.send(
        new MoveAccountCommand({
          AccountId: '111111111111',
          SourceParentId: t.cloud.state.accounts['111111111111']!.parentId,
          DestinationParentId: OrganizationalUnit!.Id!,
        }),
      );
      expect(heard.map((event) => event.eventName)).toEqual(['CreateOrganizationalUnit', 'MoveAccount']);
      const move = heard[1]!;
      expect(move).toMatchObject({
        eventSource: 'organizations.amazonaws.com',
        eventType: 'AwsApiCall',
        awsRegion: 'us-east-1',
        recipientAccountId: '000000000000',
        userIdentity: {
          type: 'Root',
          arn: 'arn:aws:iam::000000000000:root',
          accountId: '000000000000',
          accessKeyId: 'test',
        },
        requestParameters: { accountId: '111111111111', destinationParentId: OrganizationalUnit!.Id! },
      });
      expect(move.sequence).toBeGreaterThan(heard[0]!.sequence);
      const bridged = toEventBridgeEvent(move);
      expect(bridged).toMatchObject({
        source: 'aws.organizations',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'MoveAccount' },
      });
      const fromApi = await control(t, 'GET', `/_local/audit?after=${heard[0]!.sequence}`);
      expect((fromApi.body.events as AuditEvent[]).map((event) => event.eventName)).toEqual(['MoveAccount']);
    });

    it('records the CreateAccountResult service event when a creation ends, and the assumed role of a caller', async () => {
      const heard: AuditEvent[] = [];
      t.local.subscribe((event) => heard.push(event));
      const accountId = await createAndFinish(t, 'evented');
      const result = heard.find((event) => event.eventName === 'CreateAccountResult');
      expect(result).toMatchObject({
        eventType: 'AwsServiceEvent',
        serviceEventDetails: {
          createAccountStatus: { state: 'SUCCEEDED', accountId, accountName: 'evented' },
        },
      });
      expect(toEventBridgeEvent(result!)['detail-type']).toBe('AWS Service Event via CloudTrail');
      await t.sts().send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
          RoleSessionName: 'dns',
        }),
      );
      const assume = heard.find((event) => event.eventName === 'AssumeRole')!;
      expect(JSON.stringify(assume.responseElements)).not.toMatch(/secretAccessKey|sessionToken/);
    });
  });

  describe('bad input on the wire', () => {
    it('answers malformed JSON with SerializationException and keeps serving', async () => {
      const response = await signedFetch(t, 'organizations', {
        headers: {
          'x-amz-target': 'AWSOrganizationsV20161128.ListAccounts',
          'content-type': 'application/x-amz-json-1.1',
        },
        body: '{"MaxResults": ',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
      await expect(t.organizations().send(new ListRootsCommand({}))).resolves.toBeDefined();
    });

    it('answers an unknown operation in each protocol', async () => {
      const json = await signedFetch(t, 'organizations', {
        headers: { 'x-amz-target': 'AWSOrganizationsV20161128.LaunchRocket' },
        body: '{}',
      });
      expect(await json.json()).toMatchObject({ __type: 'UnknownOperationException' });
      const query = await signedFetch(t, 'sts', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=LaunchRocket&Version=2011-06-15',
      });
      expect(query.status).toBe(400);
      expect(await query.text()).toContain('<Code>InvalidAction</Code>');
      const noAction = await signedFetch(t, 'sts', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Version=2011-06-15',
      });
      expect(await noAction.text()).toContain('<Code>InvalidAction</Code>');
    });

    it('refuses an unsigned request and an unknown service', async () => {
      const unsigned = await fetch(`${t.local.endpoint}/`, {
        method: 'POST',
        body: 'Action=GetCallerIdentity',
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.text()).toContain('MissingAuthenticationToken');
      const unknown = await signedFetch(t, 'sqs', { body: '{}' });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ __type: 'UnknownServiceException' });
    });
  });
});

describe('persistence', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'vend-cloud-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps accounts, OUs, roles and in-flight creations across a restart with a data file', async () => {
    const dataFile = join(directory, 'cloud.json');
    const clock = manualClock();
    const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    const client = (endpoint: string) =>
      new OrganizationsClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    let org = client(first.endpoint);
    const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Persisted' }));
    const done = await org.send(new CreateAccountCommand({ AccountName: 'kept', Email: 'kept@example.com' }));
    clock.advance(60_000);
    const inFlight = await org.send(
      new CreateAccountCommand({ AccountName: 'in-flight', Email: 'in-flight@example.com' }),
    );
    const organizationId = first.cloud.state.organization.id;
    await first.close();

    const second = await startLocalCloud({ port: 0, seed: { randomSeed: 12345 }, clock, dataFile });
    try {
      org = client(second.endpoint);
      expect(second.cloud.state.organization.id).toBe(organizationId);
      const names = (await org.send(new ListAccountsCommand({}))).Accounts?.map((a) => a.Name);
      expect(names).toEqual(['management', 'security', 'network', 'kept']);
      expect(Object.values(second.cloud.state.organizationalUnits).map((ou) => ou.name)).toContain(
        'Persisted',
      );
      const kept = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: done.CreateAccountStatus!.Id! }),
      );
      expect(kept.CreateAccountStatus?.State).toBe('SUCCEEDED');
      clock.advance(60_000);
      const finished = await org.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: inFlight.CreateAccountStatus!.Id! }),
      );
      expect(finished.CreateAccountStatus?.State).toBe('SUCCEEDED');
      expect(second.cloud.state.hostedZones).toEqual(expect.any(Object));
      expect(Object.keys(second.cloud.state.hostedZones)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('keeps issued secrets across a restart, and gives a state saved without them the seed defaults', async () => {
    const dataFile = join(directory, 'cloud.json');
    const clock = manualClock();
    const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    const sts = new STSClient({
      endpoint: first.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
        RoleSessionName: 'kept',
      }),
    );
    await first.close();

    const second = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    expect(second.cloud.state.credentials[Credentials!.AccessKeyId!]?.secretAccessKey).toBe(
      Credentials!.SecretAccessKey,
    );
    expect(second.cloud.state.credentials['test']?.secretAccessKey).toBe('test');
    await second.close();

    // A state written before credentials carried their secret.
    const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as {
      credentials: Record<string, { secretAccessKey?: string }>;
    };
    for (const credential of Object.values(saved.credentials)) delete credential.secretAccessKey;
    writeFileSync(dataFile, JSON.stringify(saved));
    const third = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    try {
      expect(third.cloud.state.credentials['test']?.secretAccessKey).toBe('test');
      expect(third.cloud.state.credentials['security-admin']?.secretAccessKey).toBe('security-admin');
      expect(third.cloud.state.credentials[Credentials!.AccessKeyId!]).toBeUndefined();
    } finally {
      await third.close();
    }
  });

  it('starts from the seed when the data file does not exist yet, and writes it', async () => {
    const dataFile = join(directory, 'nested', 'cloud.json');
    const local = await startLocalCloud({ port: 0, seed: TEST_SEED, clock: manualClock(), dataFile });
    await local.close();
    const { existsSync } = await import('node:fs');
    expect(existsSync(dataFile)).toBe(true);
  });
});

function defaultVpc(t: TestCloud, accountId: string): string {
  return Object.values(t.cloud.state.accounts[accountId]!.vpcs).find((vpc) => vpc.isDefault)!.vpcId;
}

describe('faults in every service', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  it.each([
    [
      'organizations',
      'ListRoots',
      'TooManyRequestsException',
      'TooManyRequestsException',
      400,
      () => t.organizations().send(new ListRootsCommand({})),
    ],
    [
      'sts',
      'GetCallerIdentity',
      'Throttling',
      'Throttling',
      400,
      () => t.sts().send(new GetCallerIdentityCommand({})),
    ],
    ['iam', 'ListRoles', 'Throttling', 'Throttling', 400, () => t.iam().send(new ListRolesCommand({}))],
    [
      'budgets',
      'DescribeBudgets',
      'ThrottlingException',
      'ThrottlingException',
      400,
      () => t.budgets().send(new DescribeBudgetsCommand({ AccountId: '000000000000' })),
    ],
    [
      'route53',
      'ListHostedZonesByVPC',
      'PriorRequestNotComplete',
      'PriorRequestNotComplete',
      400,
      () =>
        t
          .route53()
          .send(
            new ListHostedZonesByVPCCommand({ VPCId: defaultVpc(t, '000000000000'), VPCRegion: 'us-east-1' }),
          ),
    ],
    [
      'ec2',
      'DescribeVpcs',
      'RequestLimitExceeded',
      'RequestLimitExceeded',
      503,
      () => t.ec2().send(new DescribeVpcsCommand({})),
    ],
    [
      'iam',
      'ListRoles',
      'ServiceFailure',
      'ServiceFailureException',
      500,
      () => t.iam().send(new ListRolesCommand({})),
    ],
  ] as const)(
    '%s %s fails with an injected %s, which the SDK raises as %s (HTTP %i)',
    async (service, operation, code, name, status, call) => {
      t.cloud.faults.add({ service, operation, error: { code }, times: 1 });
      await expect(call()).rejects.toMatchObject({ name, $metadata: { httpStatusCode: status } });
      await expect(call()).resolves.toBeDefined();
    },
  );
});
