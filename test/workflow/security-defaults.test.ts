import {
  AccountClient,
  DeleteAlternateContactCommand,
  GetAlternateContactCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-account';
import {
  DisableEbsEncryptionByDefaultCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import {
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepDrift } from '../../functions/drift/sweep.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { ADMIN, type Env, history, startEnv, vend } from './drift-harness.ts';

const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/**
 * SDK clients acting in a member account as someone other than Vend: the administrator, through the account's
 * access role, with a session of their own.
 */
async function byHand(env: Env, accountId: string) {
  const endpoint = env.pipeline.cloud.endpoint;
  const { Credentials: c } = await new STSClient({ endpoint, region: 'us-east-1', credentials: ADMIN }).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'by-hand',
    }),
  );
  const config = (region = 'us-east-1') => ({
    endpoint,
    region,
    credentials: {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    },
  });
  return {
    ec2: (region: string) => new EC2Client(config(region)),
    // S3 Control's endpoint rules put the account id in front of the endpoint's host: pin the client to it.
    s3control: new S3ControlClient({
      ...config(),
      endpointProvider: () => ({ url: new URL(endpoint) }),
      disableHostPrefix: true,
    }),
    account: new AccountClient(config()),
  };
}

type Hand = Awaited<ReturnType<typeof byHand>>;

async function ebsEncryption(hand: Hand, region: string): Promise<boolean | undefined> {
  return (await hand.ec2(region).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault;
}

async function publicAccessBlock(hand: Hand, accountId: string) {
  return (await hand.s3control.send(new GetPublicAccessBlockCommand({ AccountId: accountId })))
    .PublicAccessBlockConfiguration;
}

describe('account security defaults', () => {
  let env: Env;
  let accounts: string[];
  beforeAll(async () => {
    env = await startEnv();
    accounts = [await vend(env), await vend(env)];
  });
  afterAll(() => env.pipeline.close());

  it('a vended account has EBS encryption by default on in each allowed region, S3 Block Public Access on and the security contact set', async () => {
    const accountId = accounts[0]!;
    const { organization, profiles } = env.pipeline.deps.config;
    const hand = await byHand(env, accountId);

    expect(organization.allowedRegions).toEqual(['us-east-1', 'us-west-2']);
    for (const region of organization.allowedRegions) expect(await ebsEncryption(hand, region)).toBe(true);
    // Outside the allowed regions Vend changes nothing.
    expect(await ebsEncryption(hand, 'eu-west-1')).toBe(false);
    expect(await publicAccessBlock(hand, accountId)).toEqual(ALL_ON);
    const contact = profiles.default!.securityDefaults!.alternateContacts!.security!;
    const { AlternateContact } = await hand.account.send(
      new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }),
    );
    expect(AlternateContact).toEqual({
      AlternateContactType: 'SECURITY',
      Name: contact.name,
      Title: contact.title,
      EmailAddress: contact.email,
      PhoneNumber: contact.phone,
    });
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const request = (await env.pipeline.deps.requests.get(desired.requestId))!;
    expect(request.steps.applyBaseline?.detail).toContain('enabled EBS encryption by default in us-west-2');
    expect(request.steps.applyBaseline?.detail).toContain('turned on S3 Block Public Access');
    expect(request.steps.applyBaseline?.detail).toContain('set the security contact');
    // The ready message says what the account carries.
    const ready = env.pipeline.slack
      .messages()
      .map((message) => JSON.stringify(message.payload))
      .find((text) => text.includes('AWS account ready') && text.includes(accountId));
    expect(ready).toContain(
      '*Security defaults*: EBS encryption by default in us-east-1, us-west-2; S3 Block Public Access on; alternate contacts: security',
    );
  });

  it('the sweep puts back EBS encryption by default switched off by hand, S3 Block Public Access and the contact', async () => {
    const accountId = accounts[0]!;
    const hand = await byHand(env, accountId);
    await hand.ec2('us-west-2').send(new DisableEbsEncryptionByDefaultCommand({}));
    await hand.s3control.send(
      new PutPublicAccessBlockCommand({
        AccountId: accountId,
        PublicAccessBlockConfiguration: { ...ALL_ON, BlockPublicPolicy: false },
      }),
    );
    await hand.account.send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }));

    const result = await env.pipeline.sweep();

    expect(result.findings.find((finding) => finding.accountId === accountId)).toMatchObject({
      outcome: 'fixed',
      changes: [
        'turned on EBS encryption by default in us-west-2 (it was off)',
        'turned on S3 Block Public Access (BlockPublicPolicy off)',
        'set the security contact',
      ],
    });
    expect(await ebsEncryption(hand, 'us-west-2')).toBe(true);
    expect(await publicAccessBlock(hand, accountId)).toEqual(ALL_ON);
    await expect(
      hand.account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' })),
    ).resolves.toMatchObject({ AlternateContact: { AlternateContactType: 'SECURITY' } });
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({ source: 'sweep', aspects: ['baseline'], outcome: 'fixed' });
    // The other account was left alone and is in sync.
    expect(result.findings.find((finding) => finding.accountId === accounts[1])).toBeUndefined();
  });

  it('in report mode reports the security defaults and changes nothing', async () => {
    const accountId = accounts[1]!;
    const hand = await byHand(env, accountId);
    await hand.ec2('us-east-1').send(new DisableEbsEncryptionByDefaultCommand({}));
    await hand.account.send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }));
    const deps: Deps = {
      ...env.pipeline.deps,
      config: { ...env.pipeline.deps.config, drift: { ...env.pipeline.deps.config.drift, mode: 'report' } },
    };

    const result = await sweepDrift(deps);

    expect(result.findings.find((finding) => finding.accountId === accountId)).toMatchObject({
      outcome: 'reported',
      changes: [
        'would turn on EBS encryption by default in us-east-1 (it was off)',
        'would set the security contact',
      ],
    });
    expect(await ebsEncryption(hand, 'us-east-1')).toBe(false);
    await expect(
      hand.account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    // Fix mode puts them back.
    await env.pipeline.sweep();
    expect(await ebsEncryption(hand, 'us-east-1')).toBe(true);
    await expect(
      hand.account.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' })),
    ).resolves.toBeDefined();
  });
});
