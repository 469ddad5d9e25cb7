import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './harness.ts';

describe('STS', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  it('says the test key is the management account root', async () => {
    const identity = await t.sts().send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
  });

  it('returns credentials that act in the role account', async () => {
    const assumed = await t.sts().send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
        RoleSessionName: 'vend',
      }),
    );
    expect(assumed.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::222222222222:assumed-role/VendDnsAuthorizer/vend',
    );
    const c = assumed.Credentials!;
    const identity = await t
      .sts({
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
      })
      .send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('222222222222');
    expect(identity.Arn).toBe('arn:aws:sts::222222222222:assumed-role/VendDnsAuthorizer/vend');
  });
});
