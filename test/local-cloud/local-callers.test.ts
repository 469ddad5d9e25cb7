import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest } from '../unit/raw-request.ts';
import { ADMIN, startTestCloud, type TestCloud } from './harness.ts';

const FAULT = JSON.stringify({ service: 'organizations', error: { code: 'TooManyRequestsException' } });

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' },
  ],
});

/** IAM CreateRole as a GET, as the Query protocol allows, with a credential scope (the local cloud checks no signature). */
const createRoleByGet = (name: string) =>
  `/?${new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: name,
    AssumeRolePolicyDocument: TRUST,
    'X-Amz-Credential': 'test/20261122/us-east-1/iam/aws4_request',
  })}`;

describe('the local cloud, for callers on this machine only', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const faultCount = async () =>
    (JSON.parse((await rawRequest(`${t.local.endpoint}/_local/faults`)).body) as { faults: unknown[] }).faults
      .length;
  const roleExists = async (name: string) =>
    t
      .iam()
      .send(new GetRoleCommand({ RoleName: name }))
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof NoSuchEntityException) return false;
          throw error;
        },
      );

  it('refuses a /_local/ write whose Host is not this machine (DNS rebinding), changing nothing', async () => {
    const answer = await rawRequest(`${t.local.endpoint}/_local/faults`, {
      method: 'POST',
      headers: { host: `evil.example:${t.local.port}`, 'content-type': 'application/json' },
      body: FAULT,
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: expect.stringMatching(/^Host 'evil\.example:\d+' is not a loopback name or address/),
    });
    expect(await faultCount()).toBe(0);
  });

  it("refuses a web page's text/plain /_local/ POST from another site, with no CORS header", async () => {
    const answer = await rawRequest(`${t.local.endpoint}/_local/faults`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: FAULT,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("Origin 'http://evil.example' is not on this machine");
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(await faultCount()).toBe(0);
  });

  it('takes /_local/ writes with a loopback Origin, with none, and through [::1] or localhost', async () => {
    const cases: Record<string, string>[] = [
      { origin: `http://localhost:${t.local.port}` },
      {},
      { host: `[::1]:${t.local.port}` },
      { host: `localhost:${t.local.port}` },
    ];
    for (const headers of cases) {
      const answer = await rawRequest(`${t.local.endpoint}/_local/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ operation: 'NoSuchOperation', error: { code: 'TooManyRequestsException' } }),
      });
      expect(answer.status).toBe(201);
    }
    expect(await faultCount()).toBe(4);
  });

  it('refuses an AWS call whose Host is not this machine, in the Query protocol of the service', async () => {
    const answer = await rawRequest(`${t.local.endpoint}${createRoleByGet('rebound')}`, {
      headers: { host: `evil.example:${t.local.port}` },
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(
      /<Code>AccessDenied<\/Code><Message>Host &apos;evil\.example:\d+&apos; is not/,
    );
    expect(await roleExists('rebound')).toBe(false);
  });

  it('refuses an AWS action a page on another site triggers by GET (an image), changing nothing', async () => {
    const answer = await rawRequest(`${t.local.endpoint}${createRoleByGet('pictured')}`, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
    });
    expect(answer.status).toBe(403);
    expect(await roleExists('pictured')).toBe(false);
    // The same GET from curl goes through, as on AWS.
    expect((await rawRequest(`${t.local.endpoint}${createRoleByGet('curled')}`)).status).toBe(200);
    expect(await roleExists('curled')).toBe(true);
  });

  it('refuses a JSON-protocol call with a foreign Origin as an error the SDK reads', async () => {
    const answer = await rawRequest(t.local.endpoint, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSOrganizationsV20161128.ListRoots',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ __type: 'AccessDenied' });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves SDK clients whose endpoint names 127.0.0.1 or localhost', async () => {
    const localhost = t.local.endpoint.replace('127.0.0.1', 'localhost');
    for (const endpoint of [t.local.endpoint, localhost]) {
      const config = { endpoint, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 };
      const identity = await new STSClient(config).send(new GetCallerIdentityCommand({}));
      expect(identity.Account).toBe('000000000000');
      const { Roots } = await new OrganizationsClient(config).send(new ListRootsCommand({}));
      expect(Roots).toHaveLength(1);
      await expect(
        new IAMClient(config).send(new GetRoleCommand({ RoleName: 'nobody' })),
      ).rejects.toBeInstanceOf(NoSuchEntityException);
    }
  });
});
