import { AttachPolicyCommand, CreatePolicyCommand } from '@aws-sdk/client-organizations';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  NoSuchPublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3-control';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const MANAGEMENT = '000000000000';
const SECURITY = '111111111111';
const SECURITY_ROOT: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** The error a call rejects with (fails the test when the call succeeds). */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & { $metadata: { httpStatusCode?: number } };
}

describe('S3 Control account-level Block Public Access', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const get = (accountId: string, credentials?: Credentials) =>
    t.s3control(credentials).send(new GetPublicAccessBlockCommand({ AccountId: accountId }));

  it('answers NoSuchPublicAccessBlockConfiguration (404) for an account that never set one', async () => {
    const error = await failure(get(MANAGEMENT));

    expect(error).toBeInstanceOf(NoSuchPublicAccessBlockConfiguration);
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.message).toBe('The public access block configuration was not found');
  });

  it('stores all four settings, answers them, and overwrites them on the next put', async () => {
    const s3control = t.s3control();
    await s3control.send(
      new PutPublicAccessBlockCommand({ AccountId: MANAGEMENT, PublicAccessBlockConfiguration: ALL_ON }),
    );
    expect((await get(MANAGEMENT)).PublicAccessBlockConfiguration).toEqual(ALL_ON);

    await s3control.send(
      new PutPublicAccessBlockCommand({
        AccountId: MANAGEMENT,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      }),
    );

    expect((await get(MANAGEMENT)).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
  });

  it('deletes the configuration, and deleting again succeeds', async () => {
    const s3control = t.s3control();
    await s3control.send(
      new PutPublicAccessBlockCommand({ AccountId: MANAGEMENT, PublicAccessBlockConfiguration: ALL_ON }),
    );

    await s3control.send(new DeletePublicAccessBlockCommand({ AccountId: MANAGEMENT }));
    await s3control.send(new DeletePublicAccessBlockCommand({ AccountId: MANAGEMENT }));

    expect(await failure(get(MANAGEMENT))).toBeInstanceOf(NoSuchPublicAccessBlockConfiguration);
  });

  it("keeps each account's configuration its own and refuses another account's with AccessDenied (403)", async () => {
    await t
      .s3control(SECURITY_ROOT)
      .send(new PutPublicAccessBlockCommand({ AccountId: SECURITY, PublicAccessBlockConfiguration: ALL_ON }));

    expect((await get(SECURITY, SECURITY_ROOT)).PublicAccessBlockConfiguration).toEqual(ALL_ON);
    expect(await failure(get(MANAGEMENT))).toBeInstanceOf(NoSuchPublicAccessBlockConfiguration);
    for (const call of [
      () => get(SECURITY),
      () => t.s3control().send(new DeletePublicAccessBlockCommand({ AccountId: SECURITY })),
      () =>
        t
          .s3control(SECURITY_ROOT)
          .send(
            new PutPublicAccessBlockCommand({ AccountId: MANAGEMENT, PublicAccessBlockConfiguration: {} }),
          ),
    ]) {
      const error = await failure(call());
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata.httpStatusCode).toBe(403);
    }
    expect((await get(SECURITY, SECURITY_ROOT)).PublicAccessBlockConfiguration).toEqual(ALL_ON);
  });

  it('refuses a body that is not a PublicAccessBlockConfiguration document with MalformedXML', async () => {
    const response = await fetch(`${t.local.endpoint}/v20180820/configuration/publicAccessBlock`, {
      method: 'PUT',
      headers: {
        'x-amz-account-id': MANAGEMENT,
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '<Other><BlockPublicAcls>true</BlockPublicAcls></Other>',
    });

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>MalformedXML</Code>');
    expect(await failure(get(MANAGEMENT))).toBeInstanceOf(NoSuchPublicAccessBlockConfiguration);
  });

  it('refuses a change an SCP denies with AccessDenied naming s3:PutAccountPublicAccessBlock, and allows reading', async () => {
    const org = t.organizations();
    const { Policy } = await org.send(
      new CreatePolicyCommand({
        Name: 'protect-bpa',
        Description: 'protect-bpa',
        Type: 'SERVICE_CONTROL_POLICY',
        Content: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 's3:PutAccountPublicAccessBlock', Resource: '*' }],
        }),
      }),
    );
    await org.send(new AttachPolicyCommand({ PolicyId: Policy!.PolicySummary!.Id!, TargetId: SECURITY }));
    const { Credentials: c } = await t.sts().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${SECURITY}:role/OrganizationAccountAccessRole`,
        RoleSessionName: 'scp',
      }),
    );
    const access = {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };

    const put = new PutPublicAccessBlockCommand({
      AccountId: SECURITY,
      PublicAccessBlockConfiguration: ALL_ON,
    });
    const remove = new DeletePublicAccessBlockCommand({ AccountId: SECURITY });
    for (const call of [() => t.s3control(access).send(put), () => t.s3control(access).send(remove)]) {
      const error = await failure(call());
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata.httpStatusCode).toBe(403);
      expect(error.message).toContain(
        'is not authorized to perform: s3:PutAccountPublicAccessBlock on resource: * with an explicit deny in a service control policy',
      );
    }
    expect(await failure(get(SECURITY, access))).toBeInstanceOf(NoSuchPublicAccessBlockConfiguration);
  });
});
