import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  ResetEbsDefaultKmsKeyIdCommand,
} from '@aws-sdk/client-ec2';
import { CreateAccountCommand, DescribeCreateAccountStatusCommand } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock, startLocalCloud } from '../../local/cloud/index.ts';
import { ADMIN, type Credentials, startTestCloud, TEST_SEED, type TestCloud } from './harness.ts';

const MANAGEMENT = '000000000000';
const SECURITY = '111111111111';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

describe('EC2 EBS encryption by default', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const assumeAccessRole = (accountId: string) => t.assumeAccessRole(accountId, 'vend');
  const encryption = async (credentials?: Credentials, region?: string) =>
    (await t.ec2(credentials, region).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault;
  const defaultKey = async (credentials?: Credentials, region?: string) =>
    (await t.ec2(credentials, region).send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId;

  it('is off with the AWS managed key alias/aws/ebs in every region of an account that never set it', async () => {
    for (const region of ['us-east-1', 'us-west-2', 'eu-central-1']) {
      expect(await encryption(undefined, region)).toBe(false);
      expect(await defaultKey(undefined, region)).toBe('alias/aws/ebs');
    }
  });

  it('turns on and off in one region at a time, answering the new status', async () => {
    const west = t.ec2(undefined, 'us-west-2');

    const enabled = await west.send(new EnableEbsEncryptionByDefaultCommand({}));
    const again = await west.send(new EnableEbsEncryptionByDefaultCommand({}));

    expect(enabled.EbsEncryptionByDefault).toBe(true);
    expect(again.EbsEncryptionByDefault).toBe(true);
    expect(await encryption(undefined, 'us-west-2')).toBe(true);
    expect(await encryption(undefined, 'us-east-1')).toBe(false);

    const disabled = await west.send(new DisableEbsEncryptionByDefaultCommand({}));
    expect(disabled.EbsEncryptionByDefault).toBe(false);
    expect(await encryption(undefined, 'us-west-2')).toBe(false);
  });

  it("keeps each account's setting its own: a member account through its access role, the management account apart", async () => {
    const member = await assumeAccessRole(SECURITY);

    await t.ec2(member).send(new EnableEbsEncryptionByDefaultCommand({}));
    await t.ec2(member).send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: KEY_ID }));

    expect(await encryption(member)).toBe(true);
    expect(await defaultKey(member)).toBe(`arn:aws:kms:us-east-1:${SECURITY}:key/${KEY_ID}`);
    expect(await encryption(ADMIN)).toBe(false);
    expect(await defaultKey(ADMIN)).toBe('alias/aws/ebs');
    expect(t.cloud.state.accounts[MANAGEMENT]!.ebsDefaults).toBeUndefined();
  });

  it.each([
    ['a key ID', KEY_ID, `arn:aws:kms:us-west-2:${MANAGEMENT}:key/${KEY_ID}`],
    [
      'a multi-Region key ID',
      `mrk-${'0'.repeat(32)}`,
      `arn:aws:kms:us-west-2:${MANAGEMENT}:key/mrk-${'0'.repeat(32)}`,
    ],
    ['an alias name', 'alias/vend-ebs', `arn:aws:kms:us-west-2:${MANAGEMENT}:alias/vend-ebs`],
    [
      'a key ARN of another account',
      `arn:aws:kms:us-west-2:${SECURITY}:key/${KEY_ID}`,
      `arn:aws:kms:us-west-2:${SECURITY}:key/${KEY_ID}`,
    ],
    [
      'an alias ARN',
      `arn:aws:kms:us-west-2:${MANAGEMENT}:alias/team/ebs`,
      `arn:aws:kms:us-west-2:${MANAGEMENT}:alias/team/ebs`,
    ],
  ])('sets the default key from %s and answers it as an ARN', async (_form, kmsKeyId, arn) => {
    const west = t.ec2(undefined, 'us-west-2');

    const modified = await west.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: kmsKeyId }));

    expect(modified.KmsKeyId).toBe(arn);
    expect(await defaultKey(undefined, 'us-west-2')).toBe(arn);
    expect(await defaultKey(undefined, 'us-east-1')).toBe('alias/aws/ebs');
  });

  it('resets the default key to the AWS managed key, answering its ARN, and leaves encryption as it was', async () => {
    const ec2 = t.ec2();
    await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/vend-ebs' }));

    const reset = await ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}));
    const resetAgain = await ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}));

    expect(reset.KmsKeyId).toMatch(
      new RegExp(
        `^arn:aws:kms:us-east-1:${MANAGEMENT}:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
      ),
    );
    expect(resetAgain.KmsKeyId).toBe(reset.KmsKeyId);
    expect(await defaultKey()).toBe('alias/aws/ebs');
    expect(await encryption()).toBe(true);
  });

  it.each([
    ['a bare word', 'not-a-key'],
    ['an empty string', ''],
    ['an upper-case key ID', KEY_ID.toUpperCase()],
    ['an alias without the alias/ prefix', 'vend-ebs'],
    ['an ARN of another service', `arn:aws:iam::${MANAGEMENT}:role/vend`],
    ['a KMS ARN without a resource type', `arn:aws:kms:us-east-1:${MANAGEMENT}:${KEY_ID}`],
    ['an alias longer than 256 characters', `alias/${'a'.repeat(251)}`],
  ])('refuses %s as the key with InvalidParameterValue and changes nothing', async (_form, kmsKeyId) => {
    await t.ec2().send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/vend-ebs' }));

    const modify = t.ec2().send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: kmsKeyId }));

    await expect(modify).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringContaining('KmsKeyId'),
      $metadata: { httpStatusCode: 400 },
    });
    expect(await defaultKey()).toBe(`arn:aws:kms:us-east-1:${MANAGEMENT}:alias/vend-ebs`);
  });

  it('accepts an alias of exactly 256 characters', async () => {
    const alias = `alias/${'a'.repeat(250)}`;

    const modified = await t.ec2().send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: alias }));

    expect(modified.KmsKeyId).toBe(`arn:aws:kms:us-east-1:${MANAGEMENT}:${alias}`);
  });

  it('refuses ModifyEbsDefaultKmsKeyId without KmsKeyId with MissingParameter', async () => {
    const modify = t.ec2().send(new ModifyEbsDefaultKmsKeyIdCommand({} as { KmsKeyId: string }));

    await expect(modify).rejects.toMatchObject({
      name: 'MissingParameter',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it.each([
    ['EnableEbsEncryptionByDefault', () => new EnableEbsEncryptionByDefaultCommand({ DryRun: true })],
    ['DisableEbsEncryptionByDefault', () => new DisableEbsEncryptionByDefaultCommand({ DryRun: true })],
    ['GetEbsEncryptionByDefault', () => new GetEbsEncryptionByDefaultCommand({ DryRun: true })],
    ['GetEbsDefaultKmsKeyId', () => new GetEbsDefaultKmsKeyIdCommand({ DryRun: true })],
    [
      'ModifyEbsDefaultKmsKeyId',
      () => new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: KEY_ID, DryRun: true }),
    ],
    ['ResetEbsDefaultKmsKeyId', () => new ResetEbsDefaultKmsKeyIdCommand({ DryRun: true })],
  ] as const)(
    'answers %s with DryRun as DryRunOperation (412) and changes nothing',
    async (_name, command) => {
      const ec2: EC2Client = t.ec2();

      // biome-ignore lint/suspicious/noExplicitAny: the commands of the table have different input and output types.
      await expect(ec2.send(command() as any)).rejects.toMatchObject({
        name: 'DryRunOperation',
        $metadata: { httpStatusCode: 412 },
      });
      expect(await encryption()).toBe(false);
      expect(await defaultKey()).toBe('alias/aws/ebs');
    },
  );

  it('still checks the key when DryRun is set', async () => {
    const modify = t.ec2().send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'not-a-key', DryRun: true }));

    await expect(modify).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('answers OptInRequired (401) in a just-created account until its services are activated', async () => {
    t.cloud.settings.consistencyWindowMs = 10_000;
    t.cloud.settings.serviceActivationMs = 60_000;
    const { CreateAccountStatus } = await t
      .organizations()
      .send(new CreateAccountCommand({ AccountName: 'fresh', Email: 'fresh@example.com' }));
    t.clock.advance(t.cloud.settings.creationDelayMs);
    const { CreateAccountStatus: done } = await t
      .organizations()
      .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }));
    t.clock.advance(10_000);
    const member = await assumeAccessRole(done!.AccountId!);
    const enable = () => t.ec2(member).send(new EnableEbsEncryptionByDefaultCommand({}));

    for (const call of [enable, () => encryption(member), () => defaultKey(member)]) {
      await expect(call()).rejects.toMatchObject({
        name: 'OptInRequired',
        $metadata: { httpStatusCode: 401 },
      });
    }
    expect(t.cloud.state.accounts[done!.AccountId!]!.ebsDefaults).toBeUndefined();

    t.clock.advance(50_000);
    expect((await enable()).EbsEncryptionByDefault).toBe(true);
    expect(await encryption(member)).toBe(true);
  });

  it('records each write, a DryRun included, as a CloudTrail event of ec2.amazonaws.com; reads are not recorded', async () => {
    const member = await assumeAccessRole(SECURITY);
    const before = t.cloud.auditSince().length;

    await t.ec2(member, 'us-west-2').send(new EnableEbsEncryptionByDefaultCommand({}));
    await t
      .ec2(member, 'us-west-2')
      .send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/vend-ebs' }));
    await expect(
      t.ec2(member, 'us-west-2').send(new ResetEbsDefaultKmsKeyIdCommand({ DryRun: true })),
    ).rejects.toMatchObject({ name: 'DryRunOperation' });
    await encryption(member, 'us-west-2');
    await defaultKey(member, 'us-west-2');

    const events = t.cloud.auditSince().slice(before);
    expect(events).toMatchObject([
      {
        eventSource: 'ec2.amazonaws.com',
        eventName: 'EnableEbsEncryptionByDefault',
        awsRegion: 'us-west-2',
        recipientAccountId: SECURITY,
        userIdentity: { type: 'AssumedRole' },
        responseElements: { ebsEncryptionByDefault: true },
      },
      {
        eventName: 'ModifyEbsDefaultKmsKeyId',
        requestParameters: { kmsKeyId: 'alias/vend-ebs' },
        responseElements: { kmsKeyId: `arn:aws:kms:us-west-2:${SECURITY}:alias/vend-ebs` },
      },
      { eventName: 'ResetEbsDefaultKmsKeyId', errorCode: 'DryRunOperation', responseElements: null },
    ]);
  });
});

describe('EC2 EBS encryption by default across a restart', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'vend-ebs-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps the settings in the data file', async () => {
    const dataFile = join(directory, 'cloud.json');
    const clock = manualClock();
    const client = (endpoint: string) =>
      new EC2Client({ endpoint, region: 'us-west-2', credentials: ADMIN, maxAttempts: 1 });
    const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    await client(first.endpoint).send(new EnableEbsEncryptionByDefaultCommand({}));
    await client(first.endpoint).send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: KEY_ID }));
    await first.close();

    const second = await startLocalCloud({ port: 0, clock, dataFile });
    try {
      const ec2 = client(second.endpoint);
      expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
      expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe(
        `arn:aws:kms:us-west-2:${MANAGEMENT}:key/${KEY_ID}`,
      );
    } finally {
      await second.close();
    }
  });
});
