import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  CreateHostedZoneCommand,
  DeleteVPCAssociationAuthorizationCommand,
  GetHostedZoneCommand,
  ListHostedZonesByVPCCommand,
  ListVPCAssociationAuthorizationsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { connectDns } from '../../functions/connect-dns/core.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { RequestRejectedError } from '../../functions/shared/errors.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import { prepareRequest } from '../../functions/shared/submit.ts';
import { pollOnClock, waitFor } from '../local-cloud/wait.ts';
import {
  accountStepInput,
  countingCalls,
  createMemberAccount,
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
  withFault,
} from './harness.ts';

const HUB = '222222222222';
const ZONE = 'Z0VENDTESTINTERNAL01';

describe('connectDns', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  /** The hub as the network team sees it (through the credentials cache: they expire on the simulated clock). */
  const hub = async (): Promise<Route53Client> =>
    (await env.deps.clientsFor(HUB, 'OrganizationAccountAccessRole')).client(Route53Client);
  afterAll(() => env.close());

  /** A stored request and its new account, ready for the step. */
  async function newAccount(
    overrides: Partial<VendRequest> = {},
  ): Promise<{ request: VendRequest; accountId: string }> {
    const request = testRequest(overrides);
    await storeRequest(env.deps, request);
    const accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
    return { request, accountId };
  }

  async function defaultVpcOf(accountId: string): Promise<string> {
    const ec2 = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(EC2Client);
    const { Vpcs } = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    return Vpcs?.[0]?.VpcId ?? '';
  }

  const zoneVpcs = async () => (await (await hub()).send(new GetHostedZoneCommand({ Id: ZONE }))).VPCs ?? [];
  const authorizations = async () =>
    (await (await hub()).send(new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: ZONE }))).VPCs ??
    [];
  const auditMark = () => env.cloud.cloud.state.audit.at(-1)?.sequence ?? 0;
  const route53ChangesSince = (mark: number) =>
    env.cloud.cloud
      .auditSince(mark)
      .filter((event) => event.eventSource === 'route53.amazonaws.com')
      .map((event) => `${event.recipientAccountId} ${event.eventName}`);

  describe('on a new account with its default VPC', () => {
    let request: VendRequest;
    let accountId: string;
    let vpcId: string;
    beforeAll(async () => {
      ({ request, accountId } = await newAccount());
      vpcId = await defaultVpcOf(accountId);
    });

    it('associates the default VPC with the shared zone, and leaves no authorization behind', async () => {
      const mark = auditMark();
      const { result: output, calls: lookups } = await countingCalls(
        env,
        (service, operation) => service === 'route53' && operation.startsWith('List'),
        () => connectDns(env.deps, stepInput(request)),
      );

      // A new account's VPC has no zones yet: the first attempt associates without listing them.
      expect(lookups).toBe(0);
      expect(output).toEqual({
        step: 'connectDns',
        action: 'associated',
        hostedZoneId: ZONE,
        vpcId,
        region: 'us-east-1',
      });
      expect(await zoneVpcs()).toContainEqual({ VPCId: vpcId, VPCRegion: 'us-east-1' });
      expect(await authorizations()).toEqual([]);
      expect(route53ChangesSince(mark)).toEqual([
        `${HUB} CreateVPCAssociationAuthorization`,
        `${accountId} AssociateVPCWithHostedZone`,
        `${HUB} DeleteVPCAssociationAuthorization`,
      ]);
      // The new account resolves the zone's names: its VPC lists the zone.
      const route53 = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(
        Route53Client,
      );
      const { HostedZoneSummaries } = await route53.send(
        new ListHostedZonesByVPCCommand({ VPCId: vpcId, VPCRegion: 'us-east-1' }),
      );
      expect(HostedZoneSummaries?.map((zone) => zone.HostedZoneId)).toEqual([ZONE]);
      const record = await env.deps.requests.get(request.requestId);
      expect(record?.steps.connectDns).toMatchObject({ status: 'succeeded', attempts: 1 });
    });

    it('says already-associated when run again, and changes nothing', async () => {
      const mark = auditMark();

      const output = await connectDns(env.deps, await accountStepInput(env.deps, request, accountId));

      expect(output).toEqual({
        step: 'connectDns',
        action: 'already-associated',
        hostedZoneId: ZONE,
        vpcId,
        region: 'us-east-1',
      });
      expect(route53ChangesSince(mark)).toEqual([]);
      expect((await zoneVpcs()).filter((vpc) => vpc.VPCId === vpcId)).toHaveLength(1);
    });
  });

  it('connects the VPC the request names', async () => {
    const { accountId } = await newAccount();
    const vpcId = await defaultVpcOf(accountId);
    const request = testRequest({ vpc: { id: vpcId, region: 'us-east-1' } });
    await storeRequest(env.deps, request);

    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).resolves.toMatchObject({
      action: 'associated',
      vpcId,
    });
    expect(await zoneVpcs()).toContainEqual({ VPCId: vpcId, VPCRegion: 'us-east-1' });
  });

  describe('when the shared zone has as many VPCs as Route 53 allows', () => {
    const fillZone = () => {
      const { settings } = env.cloud.cloud;
      const saved = settings.maxVpcsPerHostedZone;
      settings.maxVpcsPerHostedZone = env.cloud.cloud.state.hostedZones[ZONE]!.vpcs.length;
      onTestFinished(() => {
        settings.maxVpcsPerHostedZone = saved;
      });
    };

    it('fails the request saying the zone is full, and leaves no authorization behind', async () => {
      const { request } = await newAccount();
      fillZone();

      await expect(connectDns(env.deps, stepInput(request))).rejects.toMatchObject({
        name: 'Vend.Failed',
        message: expect.stringContaining(
          `the shared DNS zone ${ZONE} is associated with as many VPCs as Route 53 allows`,
        ),
      });
      expect(await authorizations()).toEqual([]);
    });

    it('refuses the request before any account exists, naming the zone and the fix', async () => {
      fillZone();
      const creations = Object.keys(env.cloud.cloud.state.createAccountRequests).length;

      const refused = prepareRequest(
        env.deps,
        { name: 'payments', organizationalUnit: 'Workloads/Dev', owner: 'alice@example.com' },
        'arn:aws:iam::000000000000:user/alice',
      );

      await expect(refused).rejects.toBeInstanceOf(RequestRejectedError);
      await expect(refused).rejects.toMatchObject({
        statusCode: 409,
        field: 'dns',
        message: expect.stringContaining(`the shared DNS zone ${ZONE} is already associated with`),
        fix: expect.stringContaining("raise the zone's VPC limit"),
      });
      expect(Object.keys(env.cloud.cloud.state.createAccountRequests)).toHaveLength(creations);
    });

    it('lets a request through while the zone has room', async () => {
      await expect(
        prepareRequest(
          env.deps,
          { name: 'payments', organizationalUnit: 'Workloads/Dev', owner: 'alice@example.com' },
          'arn:aws:iam::000000000000:user/alice',
        ),
      ).resolves.toMatchObject({ accountName: 'plat-dev-payments' });
    });
  });

  it('refuses a VPC shared into the account by another account, authorizing nothing', async () => {
    const { accountId } = await newAccount();
    const shared = 'vpc-0fedcba9876543210';
    env.cloud.cloud.state.accounts[HUB]!.vpcs[shared] = {
      vpcId: shared,
      region: 'us-east-1',
      cidrBlock: '10.30.0.0/16',
      isDefault: false,
      sharedWith: [accountId],
    };
    const request = testRequest({ vpc: { id: shared, region: 'us-east-1' } });
    await storeRequest(env.deps, request);
    const mark = auditMark();

    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).rejects.toMatchObject({
      name: 'Vend.Failed',
      message: expect.stringContaining(`shared into account ${accountId} by its owner, account ${HUB}`),
    });
    expect(route53ChangesSince(mark)).toEqual([]);
    expect((await zoneVpcs()).filter((vpc) => vpc.VPCId === shared)).toEqual([]);
  });

  it('fails the request naming the VPC and region when the VPC the request names is not in the account', async () => {
    const { accountId } = await newAccount();
    const request = testRequest({ vpc: { id: 'vpc-0123456789abcdef0', region: 'us-east-1' } });
    await storeRequest(env.deps, request);
    const mark = auditMark();

    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).rejects.toMatchObject({
      name: 'Vend.Failed',
      message: `the VPC vpc-0123456789abcdef0 does not exist in account ${accountId} in us-east-1`,
    });
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.failure).toMatchObject({
      step: 'connectDns',
      advice: expect.stringContaining('VPC id and region'),
    });
    expect(route53ChangesSince(mark)).toEqual([]);
  });

  it('says not ready when the account has no default VPC in the home region', async () => {
    const { request } = await newAccount();
    const deps: Deps = {
      ...env.deps,
      config: { ...env.config, organization: { ...env.config.organization, homeRegion: 'eu-west-1' } },
    };

    await expect(connectDns(deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.AccountNotReady',
      message: expect.stringContaining('no default VPC in eu-west-1'),
    });
  });

  it('says not ready while EC2 in the new account answers OptInRequired and while its default VPC is missing, then connects', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const { settings } = env.cloud.cloud;
    const saved = { ...settings };
    // Windows long on the scaled clock, so that each call lands inside the one it is meant for.
    settings.serviceActivationMs = settings.consistencyWindowMs + 1_200_000;
    settings.defaultVpcDelayMs = 1_200_000;
    onTestFinished(() => {
      settings.serviceActivationMs = saved.serviceActivationMs;
      settings.defaultVpcDelayMs = saved.defaultVpcDelayMs;
    });
    const { CreateAccountStatus } = await env.deps
      .client(OrganizationsClient)
      .send(new CreateAccountCommand({ AccountName: request.accountName, Email: request.email }));
    const accountId = (await pollOnClock(
      env.deps.sleep,
      async () =>
        (
          await env.deps
            .client(OrganizationsClient)
            .send(
              new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }),
            )
        ).CreateAccountStatus?.AccountId,
      (id) => id !== undefined,
      'the account to be created',
    )) as string;
    const joinedAt = env.cloud.cloud.state.accounts[accountId]!.joinedAt;
    const until = async (offsetMs: number) =>
      env.deps.sleep(Math.max(0, joinedAt + offsetMs - env.cloud.cloud.clock.now()));

    await until(settings.consistencyWindowMs);
    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).rejects.toMatchObject({
      name: 'Vend.AccountNotReady',
      message: expect.stringContaining('EC2'),
    });
    await until(settings.serviceActivationMs);
    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).rejects.toMatchObject({
      name: 'Vend.AccountNotReady',
      message: expect.stringContaining('no default VPC'),
    });
    await until(settings.serviceActivationMs + settings.defaultVpcDelayMs);

    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).resolves.toMatchObject({
      action: 'associated',
    });
  });

  it('does nothing and says skipped when no shared DNS is configured', async () => {
    const { request } = await newAccount();
    const { dns: _dns, ...withoutDns } = env.config;
    const mark = auditMark();

    const output = await connectDns({ ...env.deps, config: withoutDns }, stepInput(request));

    expect(output).toEqual({ step: 'connectDns', action: 'skipped' });
    expect(route53ChangesSince(mark)).toEqual([]);
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.connectDns).toMatchObject({
      status: 'succeeded',
      detail: 'no shared DNS configured',
    });
  });

  it('surfaces PriorRequestNotComplete as Vend.ConcurrentModification; the retry associates and no authorization stays', async () => {
    const { request, accountId } = await newAccount();
    const vpcId = await defaultVpcOf(accountId);
    const fault = {
      service: 'route53',
      operation: 'AssociateVPCWithHostedZone',
      error: { code: 'PriorRequestNotComplete' },
    };
    await expect(withFault(env, fault, () => connectDns(env.deps, stepInput(request)))).rejects.toMatchObject(
      {
        name: 'Vend.ConcurrentModification',
      },
    );
    expect(await zoneVpcs()).not.toContainEqual({ VPCId: vpcId, VPCRegion: 'us-east-1' });
    expect(await authorizations()).toEqual([]);

    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).resolves.toMatchObject({
      action: 'associated',
    });
    expect(await zoneVpcs()).toContainEqual({ VPCId: vpcId, VPCRegion: 'us-east-1' });
    expect(await authorizations()).toEqual([]);
  });

  it('treats the authorization deleted by someone between authorize and associate as Vend.ConcurrentModification', async () => {
    const { request, accountId } = await newAccount();
    const vpcId = await defaultVpcOf(accountId);
    env.cloud.cloud.faults.add({
      service: 'route53',
      operation: 'AssociateVPCWithHostedZone',
      latencyMs: 60_000,
      times: 1,
    });

    const attempt = connectDns(env.deps, stepInput(request));
    const zone = env.cloud.cloud.state.hostedZones[ZONE];
    await waitFor(
      () => zone?.authorizations.some((vpc) => vpc.VPCId === vpcId) ?? false,
      'the hub to authorize the VPC',
    );
    await (await hub()).send(
      new DeleteVPCAssociationAuthorizationCommand({
        HostedZoneId: ZONE,
        VPC: { VPCId: vpcId, VPCRegion: 'us-east-1' },
      }),
    );

    await expect(attempt).rejects.toMatchObject({ name: 'Vend.ConcurrentModification' });
    await expect(
      connectDns(env.deps, await accountStepInput(env.deps, request, accountId)),
    ).resolves.toMatchObject({
      action: 'associated',
    });
    expect(await authorizations()).toEqual([]);
  });

  it('fails the request, pointing at the DNS hub role, when Route 53 refuses an association the hub authorized', async () => {
    const { request } = await newAccount();
    env.cloud.cloud.faults.add({
      service: 'route53',
      operation: 'AssociateVPCWithHostedZone',
      error: { code: 'NotAuthorizedException' },
      times: 1,
    });

    await expect(connectDns(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Failed',
      advice: expect.stringContaining('check the role VendDnsAuthorizer in account 222222222222'),
    });
    expect(await authorizations()).toEqual([]);
  });

  it('fails the request naming the other zone when the VPC already uses another zone of the same name', async () => {
    const { request, accountId } = await newAccount();
    const vpcId = await defaultVpcOf(accountId);
    const route53 = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(
      Route53Client,
    );
    const { HostedZone } = await route53.send(
      new CreateHostedZoneCommand({
        Name: 'internal.example.com',
        CallerReference: 'team-made-its-own',
        VPC: { VPCId: vpcId, VPCRegion: 'us-east-1' },
        HostedZoneConfig: { PrivateZone: true },
      }),
    );
    const otherId = HostedZone?.Id?.replace('/hostedzone/', '') ?? '';

    const failure = await connectDns(env.deps, await accountStepInput(env.deps, request, accountId)).catch(
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({
      name: 'Vend.Failed',
      message: expect.stringContaining(`the hosted zone ${otherId} (internal.example.com.`),
    });
    expect(failure).toMatchObject({
      advice: expect.stringContaining(`Disassociate ${otherId} from the VPC ${vpcId}`),
    });
    expect(await authorizations()).toEqual([]);
  });
});

describe('connectDns when the DNS hub role is broken', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());

  async function newAccount(): Promise<{ request: VendRequest; accountId: string }> {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const accountId = await createMemberAccount(env, request.accountName);
    return { request, accountId: await recordAccount(env.deps, request, accountId) };
  }

  it('fails the request, naming the role and the hub, when the role no longer trusts Vend (not "account not ready")', async () => {
    const { request } = await newAccount();
    // The network team edits the role's trust, as the hub's administrators.
    const hubAdmin = (await env.deps.clientsFor(HUB, 'OrganizationAccountAccessRole')).client(IAMClient);
    const { Role } = await hubAdmin.send(new GetRoleCommand({ RoleName: 'VendDnsAuthorizer' }));
    const original = decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '');
    const securityOnly = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:AssumeRole' },
      ],
    };
    await hubAdmin.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'VendDnsAuthorizer',
        PolicyDocument: JSON.stringify(securityOnly),
      }),
    );
    try {
      const failure = await connectDns(env.deps, stepInput(request)).catch((error: unknown) => error);

      expect(failure).toMatchObject({
        name: 'Vend.Failed',
        message: `Vend cannot assume the role VendDnsAuthorizer in the DNS hub account ${HUB}`,
        advice: expect.stringContaining('ask the network team'),
      });
      const record = await env.deps.requests.get(request.requestId);
      expect(record?.failure?.step).toBe('connectDns');
    } finally {
      await hubAdmin.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: 'VendDnsAuthorizer', PolicyDocument: original }),
      );
    }
    // Once the role is mended, the retry connects the account.
    await expect(connectDns(env.deps, stepInput(request))).resolves.toMatchObject({
      action: 'associated',
    });
  });

  it('fails the request when the configured hub role does not exist', async () => {
    const { request } = await newAccount();
    const deps: Deps = {
      ...env.deps,
      config: { ...env.config, dns: { hubAccountId: HUB, hostedZoneId: ZONE, roleName: 'VendDnsMissing' } },
    };

    await expect(connectDns(deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Failed',
      message: `Vend cannot assume the role VendDnsMissing in the DNS hub account ${HUB}`,
    });
  });

  it('fails the request when the configured zone is not in the hub', async () => {
    const { request } = await newAccount();
    const deps: Deps = {
      ...env.deps,
      config: {
        ...env.config,
        dns: { hubAccountId: HUB, hostedZoneId: 'Z0NOSUCHZONE', roleName: 'VendDnsAuthorizer' },
      },
    };

    await expect(connectDns(deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Failed',
      message: `the shared DNS zone Z0NOSUCHZONE does not exist in the DNS hub account ${HUB}`,
    });
  });
});
