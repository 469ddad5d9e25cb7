import { AccountClient, GetAlternateContactCommand } from '@aws-sdk/client-account';
import {
  EC2Client,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ResetEbsDefaultKmsKeyIdCommand,
} from '@aws-sdk/client-ec2';
import { GetPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convergeBaseline } from '../../functions/domain/baseline.ts';
import type { SecurityDefaults } from '../../functions/shared/config.ts';
import { AccountNotReadyError } from '../../functions/shared/errors.ts';
import { createMemberAccount, startWorkflowEnv, type WorkflowEnv, withFault } from './harness.ts';

const KEY = 'mrk-0123456789abcdef0123456789abcdef';
const contact = (name: string) => ({
  name,
  title: 'Team',
  email: `${name.toLowerCase()}@example.com`,
  phone: '+1 555 010 0100',
});
const DEFAULTS: SecurityDefaults = {
  ebsEncryption: { kmsKeyId: `arn:aws:kms:{region}:111111111111:key/${KEY}` },
  s3BlockPublicAccess: true,
  alternateContacts: { security: contact('Security'), billing: contact('Billing') },
};

/** The baseline's security defaults converged, and no roles (the IAM baseline has tests of its own). */
describe('convergeBaseline with security defaults', () => {
  let env: WorkflowEnv;
  let accountId: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    accountId = await createMemberAccount(env, 'secdefaults-target');
  });
  afterAll(() => env.close());

  const converge = (options: { writeFirst?: boolean; dryRun?: boolean } = {}) =>
    convergeBaseline(env.deps, accountId, 'secdefaults-target', {
      roles: [],
      securityDefaults: DEFAULTS,
      ...options,
    });
  const access = (region?: string) =>
    env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole', region ? { region } : {});

  it('sets every default in a new account through the access role, in each allowed region, and says so', async () => {
    const { output, changeLog } = await converge({ writeFirst: true });

    expect(output.securityDefaults).toEqual({
      ebsEncryptionRegions: ['us-east-1', 'us-west-2'],
      s3BlockPublicAccess: 'on',
      alternateContacts: ['security', 'billing'],
    });
    expect(changeLog).toEqual(
      expect.arrayContaining([
        'enabled EBS encryption by default in us-east-1',
        `set the default EBS key in us-east-1 to arn:aws:kms:us-east-1:111111111111:key/${KEY}`,
        'enabled EBS encryption by default in us-west-2',
        `set the default EBS key in us-west-2 to arn:aws:kms:us-west-2:111111111111:key/${KEY}`,
        'turned on S3 Block Public Access',
        'set the security contact',
        'set the billing contact',
      ]),
    );
    for (const region of ['us-east-1', 'us-west-2']) {
      const ec2 = (await access(region)).client(EC2Client, { region });
      expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
      expect((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe(
        `arn:aws:kms:${region}:111111111111:key/${KEY}`,
      );
    }
    const s3control = (await access()).client(S3ControlClient, { accountHostPrefix: true });
    expect(
      (await s3control.send(new GetPublicAccessBlockCommand({ AccountId: accountId })))
        .PublicAccessBlockConfiguration,
    ).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const { AlternateContact } = await (await access())
      .client(AccountClient)
      .send(new GetAlternateContactCommand({ AlternateContactType: 'BILLING' }));
    expect(AlternateContact).toMatchObject({ Name: 'Billing', EmailAddress: 'billing@example.com' });
  });

  it('finds nothing to change when run again', async () => {
    const { changeLog } = await converge();

    expect(changeLog).toEqual([]);
  });

  it('in a dry run lists the default key someone reset, and changes nothing', async () => {
    const west = (await access('us-west-2')).client(EC2Client, { region: 'us-west-2' });
    await west.send(new ResetEbsDefaultKmsKeyIdCommand({}));

    const { changeLog } = await converge({ dryRun: true });

    expect(changeLog).toEqual([
      `would set the default EBS key in us-west-2 to arn:aws:kms:us-west-2:111111111111:key/${KEY}`,
    ]);
    expect((await west.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).not.toContain(KEY);
    expect((await converge()).changeLog).toEqual([
      `set the default EBS key in us-west-2 to arn:aws:kms:us-west-2:111111111111:key/${KEY}`,
    ]);
  });

  it('says the account is not ready while EC2 in it is not activated yet (OptInRequired)', async () => {
    const error = await withFault(
      env,
      { service: 'ec2', operation: 'GetEbsEncryptionByDefault', accountId, error: { code: 'OptInRequired' } },
      () =>
        converge().then(
          () => undefined,
          (caught: unknown) => caught,
        ),
    );

    expect(error).toBeInstanceOf(AccountNotReadyError);
  });
});
