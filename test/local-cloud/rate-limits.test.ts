import { DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DescribeVpcsCommand, EnableEbsEncryptionByDefaultCommand } from '@aws-sdk/client-ec2';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetHostedZoneCommand, ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { ListInstancesCommand } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_RATE_LIMITS, scaledClock } from '../../local/cloud/index.ts';
import { parseProfileOption, rateLimitOptionsSchema } from '../../local/cloud/rate-limits.ts';
import { ADMIN, startTestCloud, type TestCloud } from './harness.ts';
import { waitFor } from './wait.ts';

const ONE_PER_SECOND = { ratePerSecond: 1, burst: 2 };

describe('request rates', () => {
  let t: TestCloud;
  afterEach(() => t.close());

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${t.local.endpoint}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Sends `call` three times in a row: with a burst of two, the third is throttled; the error it raised. */
  const third = async (call: () => Promise<unknown>) => {
    await call();
    await call();
    return call().then(
      () => undefined,
      (error: { name: string; $metadata?: { httpStatusCode?: number } }) => ({
        name: error.name,
        status: error.$metadata?.httpStatusCode,
      }),
    );
  };

  it('throttles nothing unless asked to', async () => {
    t = await startTestCloud();
    const org = t.organizations();
    await Promise.all(Array.from({ length: 50 }, () => org.send(new ListRootsCommand({}))));
    expect(t.cloud.rateLimits.throttledCount()).toBe(0);
    expect((await control('GET', '/_local/rate-limits')).body).toEqual({ limits: {}, throttled: {} });
  });

  it("answers a throttled call with each service's own error, and refills on the cloud's clock", async () => {
    t = await startTestCloud({
      rateLimits: {
        limits: {
          organizations: ONE_PER_SECOND,
          sts: ONE_PER_SECOND,
          iam: ONE_PER_SECOND,
          budgets: ONE_PER_SECOND,
          route53: { ...ONE_PER_SECOND, scope: 'service' },
          ec2: ONE_PER_SECOND,
          sso: ONE_PER_SECOND,
        },
      },
    });
    const org = t.organizations();
    expect(await third(() => org.send(new ListRootsCommand({})))).toEqual({
      name: 'TooManyRequestsException',
      status: 429,
    });
    expect(await third(() => t.sts().send(new GetCallerIdentityCommand({})))).toEqual({
      name: 'Throttling',
      status: 400,
    });
    expect(await third(() => t.iam().send(new ListRolesCommand({})))).toEqual({
      name: 'Throttling',
      status: 400,
    });
    expect(
      await third(() => t.budgets().send(new DescribeBudgetsCommand({ AccountId: '000000000000' }))),
    ).toEqual({ name: 'ThrottlingException', status: 400 });
    expect(await third(() => t.ec2().send(new DescribeVpcsCommand({})))).toEqual({
      name: 'RequestLimitExceeded',
      status: 503,
    });
    expect(await third(() => t.ssoAdmin().send(new ListInstancesCommand({})))).toEqual({
      name: 'ThrottlingException',
      status: 429,
    });
    // Route 53's limit is one bucket for all its operations.
    const route53 = t.route53();
    await route53.send(new ListHostedZonesCommand({}));
    await route53.send(new ListHostedZonesCommand({}));
    await expect(
      route53.send(new GetHostedZoneCommand({ Id: 'Z0VENDTESTINTERNAL01' })),
    ).rejects.toMatchObject({
      name: 'ThrottlingException',
    });

    // Another operation has its own bucket; time refills the first.
    await expect(org.send(new ListAccountsCommand({}))).resolves.toBeDefined();
    await expect(org.send(new ListRootsCommand({}))).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    t.clock.advance(1_000);
    await expect(org.send(new ListRootsCommand({}))).resolves.toBeDefined();
    expect(t.cloud.rateLimits.throttledCount((service) => service === 'organizations')).toBe(2);
    expect((await control('GET', '/_local/rate-limits')).body.throttled).toMatchObject({
      'organizations:ListRoots': 2,
      'route53:GetHostedZone': 1,
    });
  });

  it('keeps buckets per account', async () => {
    t = await startTestCloud({ rateLimits: { limits: { sts: ONE_PER_SECOND } } });
    expect(await third(() => t.sts().send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: 'Throttling',
    });
    const member = t.sts({ accessKeyId: 'security-admin', secretAccessKey: 'x' });
    await expect(member.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: '111111111111',
    });
  });

  it('uses AWS figures in the aws profile, with single keys overridden or removed', async () => {
    t = await startTestCloud({
      rateLimits: {
        profile: 'aws',
        limits: { 'organizations:CreateAccount': ONE_PER_SECOND, 'ec2:mutating': null },
      },
    });
    const { limits } = (await control('GET', '/_local/rate-limits')).body as {
      limits: Record<string, unknown>;
    };
    expect(limits).toMatchObject({
      route53: { ratePerSecond: 5, burst: 5, scope: 'service' },
      ec2: { ratePerSecond: 20, burst: 100 },
      'organizations:CreateAccount': ONE_PER_SECOND,
    });
    expect(limits).not.toHaveProperty('ec2:mutating');
    expect(t.cloud.rateLimits.limitFor('ec2', 'EnableEbsEncryptionByDefault', true)).toEqual(
      AWS_RATE_LIMITS.ec2,
    );
    expect(t.cloud.rateLimits.limitFor('organizations', 'MoveAccount', true)).toEqual(
      AWS_RATE_LIMITS['organizations:mutating'],
    );
    await expect(t.ec2().send(new EnableEbsEncryptionByDefaultCommand({}))).resolves.toBeDefined();
  });

  it('changes the limits through the control API, and refuses a bad one naming the field', async () => {
    t = await startTestCloud();
    const put = await control('PUT', '/_local/rate-limits', { limits: { organizations: ONE_PER_SECOND } });
    expect(put.status).toBe(200);
    expect(await third(() => t.organizations().send(new ListRootsCommand({})))).toMatchObject({
      name: 'TooManyRequestsException',
    });
    const bad = await control('PUT', '/_local/rate-limits', {
      limits: { organizations: { ratePerSecond: 0 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/limits\.organizations\.ratePerSecond/);
    expect((await control('GET', '/_local/rate-limits')).body.limits).toEqual({
      organizations: ONE_PER_SECOND,
    });
    expect(() => parseProfileOption('fast', 'VEND_CLOUD_RATE_LIMITS', rateLimitOptionsSchema, 'aws')).toThrow(
      /VEND_CLOUD_RATE_LIMITS must be off, aws, or/,
    );
    expect(parseProfileOption(undefined, 'VEND_CLOUD_RATE_LIMITS', rateLimitOptionsSchema, 'aws')).toBe(
      'aws',
    );
    expect(parseProfileOption('{"profile":"off"}', 'X', rateLimitOptionsSchema, 'aws')).toEqual({
      profile: 'off',
    });
  });

  it("throttles a burst, and the SDK's own retries absorb it", async () => {
    // Simulated time runs 5 times real time, so the SDK's real back-off lets the bucket refill.
    t = await startTestCloud({
      clock: scaledClock(5),
      rateLimits: { limits: { organizations: ONE_PER_SECOND } },
    });
    const org = new OrganizationsClient({
      endpoint: t.local.endpoint,
      region: 'us-east-1',
      credentials: ADMIN,
      maxAttempts: 12,
    });

    const answers = await Promise.all(Array.from({ length: 8 }, () => org.send(new ListRootsCommand({}))));

    expect(answers.every((answer) => answer.Roots?.length === 1)).toBe(true);
    expect(t.cloud.rateLimits.throttledCount()).toBeGreaterThan(0);
    const attempts = answers.reduce((sum, answer) => sum + (answer.$metadata.attempts ?? 1), 0);
    expect(attempts).toBe(8 + t.cloud.rateLimits.throttledCount());
  });
});

describe('call latency', () => {
  let t: TestCloud;
  afterEach(() => t.close());

  it("makes each service's calls take their time on the cloud's clock", async () => {
    t = await startTestCloud({ latency: { services: { organizations: 500 } } });
    let answered = false;
    const call = t
      .organizations()
      .send(new ListRootsCommand({}))
      .then((answer) => {
        answered = true;
        return answer;
      });
    await waitFor(() => t.cloud.callCount() === 1, 'the call to arrive');
    // Other services answer at once.
    await expect(t.sts().send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    t.clock.advance(499);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    t.clock.advance(1);
    await expect(call).resolves.toMatchObject({ Roots: [expect.anything()] });
  });

  it('has an aws profile, changed through the control API', async () => {
    t = await startTestCloud({ latency: 'aws' });
    const get = await fetch(`${t.local.endpoint}/_local/latency`);
    expect(await get.json()).toMatchObject({ latencyMs: { organizations: 150, sts: 50 } });
    const put = await fetch(`${t.local.endpoint}/_local/latency`, {
      method: 'PUT',
      body: JSON.stringify({ profile: 'off', services: { iam: 20 } }),
    });
    expect(await put.json()).toEqual({ latencyMs: { iam: 20 } });
    await expect(t.organizations().send(new ListRootsCommand({}))).resolves.toBeDefined();
  });
});
