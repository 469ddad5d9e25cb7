import { DescribeVpcsCommand, type DescribeVpcsCommandInput, type Vpc } from '@aws-sdk/client-ec2';
import { CreateAccountCommand, DescribeCreateAccountStatusCommand } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const MANAGEMENT = '000000000000';
const SECURITY = '111111111111';
const SECURITY_ADMIN: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'x' };

describe('EC2 DescribeVpcs', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const describeVpcs = async (
    input: DescribeVpcsCommandInput = {},
    credentials?: Credentials,
    region?: string,
  ): Promise<Vpc[]> => (await t.ec2(credentials, region).send(new DescribeVpcsCommand(input))).Vpcs ?? [];
  const defaultVpcId = (accountId: string) =>
    Object.values(t.cloud.state.accounts[accountId]!.vpcs).find((vpc) => vpc.isDefault)!.vpcId;
  const assumeAccessRole = (accountId: string) => t.assumeAccessRole(accountId, 'vend');

  it('answers OptInRequired (401) in a just-created account, then shows no default VPC, then shows it', async () => {
    t.cloud.settings.consistencyWindowMs = 10_000;
    t.cloud.settings.serviceActivationMs = 60_000;
    t.cloud.settings.defaultVpcDelayMs = 30_000;
    const { CreateAccountStatus } = await t
      .organizations()
      .send(new CreateAccountCommand({ AccountName: 'fresh', Email: 'fresh@example.com' }));
    t.clock.advance(t.cloud.settings.creationDelayMs);
    const { CreateAccountStatus: done } = await t
      .organizations()
      .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }));
    const accountId = done!.AccountId!;
    t.clock.advance(10_000);
    const member = await assumeAccessRole(accountId);
    const defaults = () => describeVpcs({ Filters: [{ Name: 'is-default', Values: ['true'] }] }, member);

    await expect(defaults()).rejects.toMatchObject({
      name: 'OptInRequired',
      $metadata: { httpStatusCode: 401 },
    });
    t.clock.advance(50_000);
    expect(await defaults()).toEqual([]);
    t.clock.advance(30_000);
    expect((await defaults()).map((vpc) => vpc.VpcId)).toEqual([defaultVpcId(accountId)]);
  });

  it("shows a VPC shared into the account with its owner's OwnerId, which the owner-id filter tells apart", async () => {
    const shared = 'vpc-0a1b2c3d4e5f60718';
    t.cloud.state.accounts[SECURITY]!.vpcs[shared] = {
      vpcId: shared,
      region: 'us-east-1',
      cidrBlock: '10.20.0.0/16',
      isDefault: false,
      sharedWith: [MANAGEMENT],
    };

    const seen = await describeVpcs({ VpcIds: [shared] });
    const own = await describeVpcs({ Filters: [{ Name: 'owner-id', Values: [MANAGEMENT] }] });

    expect(seen).toMatchObject([{ VpcId: shared, OwnerId: SECURITY, IsDefault: false }]);
    expect(own.map((vpc) => vpc.VpcId)).toEqual([defaultVpcId(MANAGEMENT)]);
    const asOwner = await describeVpcs({ VpcIds: [shared] }, await assumeAccessRole(SECURITY));
    expect(asOwner).toMatchObject([{ VpcId: shared, OwnerId: SECURITY }]);
  });

  it("describes the caller's default VPC in us-east-1 as AWS does", async () => {
    const vpcs = await describeVpcs();

    expect(vpcs).toHaveLength(1);
    const [vpc] = vpcs;
    expect(vpc).toMatchObject({
      VpcId: defaultVpcId(MANAGEMENT),
      OwnerId: MANAGEMENT,
      State: 'available',
      CidrBlock: '172.31.0.0/16',
      IsDefault: true,
      InstanceTenancy: 'default',
      CidrBlockAssociationSet: [{ CidrBlock: '172.31.0.0/16', CidrBlockState: { State: 'associated' } }],
    });
    expect(vpc?.VpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(vpc?.DhcpOptionsId).toMatch(/^dopt-[0-9a-f]{17}$/);
    expect(vpc?.CidrBlockAssociationSet?.[0]?.AssociationId).toMatch(/^vpc-cidr-assoc-[0-9a-f]{17}$/);
    // A default VPC has no tags, and AWS then leaves the tag set out.
    expect(vpc?.Tags).toBeUndefined();
  });

  it('finds the default VPC of a member account by filter is-default=true through its access role', async () => {
    const member = await assumeAccessRole(SECURITY);

    const vpcs = await describeVpcs({ Filters: [{ Name: 'is-default', Values: ['true'] }] }, member);

    expect(vpcs.map((vpc) => [vpc.VpcId, vpc.OwnerId, vpc.IsDefault])).toEqual([
      [defaultVpcId(SECURITY), SECURITY, true],
    ]);
    expect(defaultVpcId(SECURITY)).not.toBe(defaultVpcId(MANAGEMENT));
  });

  it('returns no VPCs in a region other than us-east-1, where the emulator creates none', async () => {
    expect(await describeVpcs({}, undefined, 'eu-west-1')).toEqual([]);
    expect(
      await describeVpcs(
        { Filters: [{ Name: 'is-default', Values: ['true'] }] },
        SECURITY_ADMIN,
        'us-west-2',
      ),
    ).toEqual([]);
  });

  it('looks VPCs up by id', async () => {
    const id = defaultVpcId(MANAGEMENT);
    const vpcs = await describeVpcs({ VpcIds: [id] });
    expect(vpcs.map((vpc) => vpc.VpcId)).toEqual([id]);
  });

  it('reports an unknown VPC id as InvalidVpcID.NotFound', async () => {
    await expect(describeVpcs({ VpcIds: ['vpc-0123456789abcdef0'] })).rejects.toMatchObject({
      name: 'InvalidVpcID.NotFound',
      message: "The vpc ID 'vpc-0123456789abcdef0' does not exist",
    });
  });

  it("reports another account's VPC, and a VPC of another region, as InvalidVpcID.NotFound", async () => {
    await expect(describeVpcs({ VpcIds: [defaultVpcId(SECURITY)] })).rejects.toMatchObject({
      name: 'InvalidVpcID.NotFound',
    });
    await expect(
      describeVpcs({ VpcIds: [defaultVpcId(MANAGEMENT)] }, undefined, 'eu-west-1'),
    ).rejects.toMatchObject({ name: 'InvalidVpcID.NotFound' });
  });

  it('refuses a malformed VPC id with InvalidVpcID.Malformed', async () => {
    await expect(describeVpcs({ VpcIds: ['my-vpc'] })).rejects.toMatchObject({
      name: 'InvalidVpcID.Malformed',
    });
  });

  it.each<[string, string[], number]>([
    ['vpc-id', ['VPC'], 1],
    ['vpc-id', ['vpc-0000000000000000f'], 0],
    ['state', ['available'], 1],
    ['state', ['pending'], 0],
    ['cidr', ['172.31.0.0/16'], 1],
    ['cidr', ['10.0.0.0/16'], 0],
    ['cidr', ['172.31.*'], 1],
    ['owner-id', [MANAGEMENT], 1],
    ['owner-id', [SECURITY], 0],
    ['is-default', ['false'], 0],
    ['is-default', ['false', 'true'], 1],
    ['tag:Name', ['*'], 0],
  ])('filters by %s=%j to %i VPC(s)', async (name, values, count) => {
    const resolved = values.map((value) => (value === 'VPC' ? defaultVpcId(MANAGEMENT) : value));
    expect(await describeVpcs({ Filters: [{ Name: name, Values: resolved }] })).toHaveLength(count);
  });

  it('applies every filter given', async () => {
    const filters = (cidr: string) => [
      { Name: 'is-default', Values: ['true'] },
      { Name: 'cidr', Values: [cidr] },
    ];
    expect(await describeVpcs({ Filters: filters('172.31.0.0/16') })).toHaveLength(1);
    expect(await describeVpcs({ Filters: filters('10.0.0.0/8') })).toHaveLength(0);
  });

  it('refuses an unknown filter name with InvalidParameterValue', async () => {
    await expect(describeVpcs({ Filters: [{ Name: 'colour', Values: ['blue'] }] })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('pages with MaxResults and NextToken', async () => {
    // More VPCs than one page: the emulator has no CreateVpc, so they are placed in the state directly.
    const vpcs = t.cloud.state.accounts[MANAGEMENT]!.vpcs;
    for (let i = 0; i < 6; i++) {
      const vpcId = `vpc-${i.toString(16).padStart(17, 'a')}`;
      vpcs[vpcId] = { vpcId, region: 'us-east-1', cidrBlock: `10.${i}.0.0/16`, isDefault: false };
    }
    const ec2 = t.ec2();

    const first = await ec2.send(new DescribeVpcsCommand({ MaxResults: 5 }));
    expect(first.Vpcs).toHaveLength(5);
    expect(first.NextToken).toBeTruthy();
    const second = await ec2.send(new DescribeVpcsCommand({ MaxResults: 5, NextToken: first.NextToken }));
    expect(second.Vpcs).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
    const seen = [...(first.Vpcs ?? []), ...(second.Vpcs ?? [])].map((vpc) => vpc.VpcId);
    expect(new Set(seen).size).toBe(7);
    expect(seen).toContain(defaultVpcId(MANAGEMENT));
  });

  it.each([4, 1001])('refuses MaxResults %i with InvalidParameterValue', async (maxResults) => {
    await expect(describeVpcs({ MaxResults: maxResults })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('refuses MaxResults together with VPC ids with InvalidParameterCombination', async () => {
    await expect(describeVpcs({ MaxResults: 5, VpcIds: [defaultVpcId(MANAGEMENT)] })).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
    });
  });

  it('refuses a token it did not issue with InvalidPaginationToken', async () => {
    await expect(describeVpcs({ MaxResults: 5, NextToken: 'bogus' })).rejects.toMatchObject({
      name: 'InvalidPaginationToken',
    });
  });

  it('answers a dry run with DryRunOperation', async () => {
    await expect(describeVpcs({ DryRun: true })).rejects.toMatchObject({
      name: 'DryRunOperation',
      $metadata: { httpStatusCode: 412 },
    });
  });

  it('is a read: DescribeVpcs adds nothing to the audit trail', async () => {
    const before = t.cloud.auditSince().length;
    await describeVpcs();
    expect(t.cloud.auditSince()).toHaveLength(before);
  });
});
