import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountDesiredState } from '../../functions/shared/model.ts';
import {
  type Answer,
  type ApiEnv,
  accountBody,
  DEVELOPER,
  expectError,
  startApiEnv,
  withRequestedRootEmails,
} from './harness.ts';

/** The repository's vend.config.json governs these requests: its profiles and access section. */
describe('POST /accounts follows the OU profile and the caller grants', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());

  /** The management account's root (the seed's key `test`): no access entry names it. */
  const ROOT = { accessKeyId: 'test', secretAccessKey: 'test' };
  const post = (body: unknown, options: { credentials?: typeof ROOT; query?: string } = {}) =>
    env.call('POST', `/accounts${options.query ?? ''}`, {
      body,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });

  /** A refusal naming the field and a fix that changed nothing: no request stored, no execution started. */
  async function refused(
    send: () => Promise<Answer>,
    status: number,
    field: string,
  ): Promise<{ message: string; fix?: string }> {
    const before = await env.snapshot();
    const answer = await send();
    const error = expectError(answer, status, field);
    expect(await env.snapshot()).toEqual(before);
    return error;
  }

  it('takes the root email from the template only: a request that gives one is refused', async () => {
    const error = await refused(() => post(accountBody({ email: 'mine@example.com' })), 400, 'email');
    expect(error.message).toContain('comes only from the organization');
    expect(error.fix).toContain('Leave email out');
  });

  it('where a profile allows root emails, only in its domains', async () => {
    const open = await env.startApi({ config: withRequestedRootEmails(env.pipeline.config) });
    try {
      const before = await env.snapshot();
      const error = expectError(
        await open.call('POST', '/accounts', { body: accountBody({ email: 'root@gmail.example.org' }) }),
        400,
        'email',
      );
      expect(error.message).toContain('example.com');
      expect(await env.snapshot()).toEqual(before);
      const accepted = await open.call('POST', '/accounts', {
        body: accountBody({ email: `root-${Date.now()}@EXAMPLE.com` }),
      });
      expect(accepted.status, accepted.text).toBe(202);
    } finally {
      await open.close();
    }
  });

  it("refuses an owner outside the organization's domains: budget alerts must not leave it", async () => {
    const error = await refused(() => post(accountBody({ owner: 'alice@gmail.example.org' })), 400, 'owner');
    expect(error.message).toContain('budget alerts must not leave the organization');
    expect(error.fix).toContain('example.com');
  });

  it('refuses a request missing a required tag, naming the tag; Sandbox requires none', async () => {
    const missing = await refused(
      () => post(accountBody({ tags: { team: 'payments' } })),
      400,
      'tags.cost-center',
    );
    expect(missing.message).toContain('is required in Workloads/Dev');
    expect(missing.fix).toContain('cc-[0-9]{4}');
    const wrong = await refused(
      () => post(accountBody({ tags: { 'cost-center': 'finance' } })),
      400,
      'tags.cost-center',
    );
    expect(wrong.message).toContain("'finance' does not match");
    const sandbox = await post(accountBody({ organizationalUnit: 'Sandbox', tags: { team: 'payments' } }));
    expect(sandbox.status, sandbox.text).toBe(202);
  });

  it("never lets a request loosen the organization's alerts, but lets it add and lower them", async () => {
    const raised = await refused(
      () =>
        post(
          accountBody({
            budget: {
              monthlyLimitUsd: 100,
              thresholds: [
                { percent: 1000, type: 'ACTUAL' },
                { percent: 100, type: 'FORECASTED' },
              ],
            },
          }),
        ),
      400,
      'budget.thresholds',
    );
    expect(raised.message).toContain('80% ACTUAL');
    await refused(
      () =>
        post(
          accountBody({ budget: { monthlyLimitUsd: 100, thresholds: [{ percent: 80, type: 'ACTUAL' }] } }),
        ),
      400,
      'budget.thresholds',
    );
    const thresholds = [
      { percent: 50, type: 'ACTUAL' },
      { percent: 75, type: 'ACTUAL' },
      { percent: 100, type: 'FORECASTED' },
    ];
    const accepted = await post(accountBody({ budget: { monthlyLimitUsd: 100, thresholds } }));
    expect(accepted.status, accepted.text).toBe(202);
    const stored = await env.pipeline.deps.requests.get(accepted.body.requestId);
    expect(stored?.request.budget.thresholds).toEqual(thresholds);
  });

  it("applies the profile's budget: its default, and its maximum", async () => {
    const error = await refused(
      () => post(accountBody({ organizationalUnit: 'Sandbox', budget: { monthlyLimitUsd: 300 } })),
      400,
      'budget.monthlyLimitUsd',
    );
    expect(error.message).toContain('most allowed in Sandbox, 200');
    const dev = await post(accountBody({ budget: { monthlyLimitUsd: 300 } }));
    expect(dev.status, dev.text).toBe(202);
    const sandbox = await post(accountBody({ organizationalUnit: 'Sandbox' }));
    const stored = await env.pipeline.deps.requests.get(sandbox.body.requestId);
    expect(stored?.request.budget.monthlyLimitUsd).toBe(50);
    expect(stored?.request.profile).toMatchObject({ name: 'Sandbox', baselineRoles: ['VendAdmin'] });
  });

  it('refuses with 403 a caller not granted the OU, naming the OU and who may ask', async () => {
    // The management account's root (the seed's key `test`) matches no access entry.
    const error = await refused(() => post(accountBody(), { credentials: ROOT }), 403, 'organizationalUnit');
    expect(error.message).toContain('may not request accounts in Workloads/Dev');
    expect(error.fix).toContain('developers (arn:aws:iam::000000000000:role/Developer');
  });

  it('a dry run answers the plan and writes and starts nothing', async () => {
    const before = await env.snapshot();
    const body = accountBody({ organizationalUnit: 'Workloads/Prod' });
    const answer = await post(body, { query: '?dryRun=true' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.dryRun).toBe(true);
    expect(answer.body.plan).toMatchObject({
      accountName: `plat-prod-${body.name}`,
      email: `aws+plat-prod-${body.name}@example.com`,
      organizationalUnit: { path: 'Workloads/Prod' },
      profile: { name: 'Workloads/Prod' },
      approval: {
        required: true,
        approvers: [
          { entry: 'platform-admins', principals: ['arn:aws:iam::000000000000:role/PlatformAdmin'] },
        ],
        expiresAfterHours: 168,
      },
      baseline: {
        roles: [{ name: 'VendAdmin' }, { name: 'VendReadOnly' }],
        passwordPolicy: true,
        securityDefaults: {
          ebsEncryptionRegions: ['us-east-1', 'us-west-2'],
          s3BlockPublicAccess: true,
          alternateContacts: ['security'],
        },
      },
      budget: { monthlyLimitUsd: 1000, subscribers: ['alice@example.com', 'finops@example.com'] },
      tags: { team: 'payments', 'cost-center': 'cc-1234', 'vend:owner': 'alice@example.com' },
      dns: { hostedZoneId: 'Z0VENDLOCALINTERNAL01' },
      guardrails: ['vend-baseline-guardrails'],
    });
    expect(await env.snapshot()).toEqual(before);
    const created = Object.values(env.pipeline.cloud.cloud.state.createAccountRequests).map(
      (c) => c.accountName,
    );
    expect(created).not.toContain(`plat-prod-${body.name}`);
    // The same body for real is then accepted: the dry run reserved nothing.
    expect((await post(body)).status).toBe(202);
    // A dry run refuses what the request would be refused for.
    await refused(
      () =>
        post(accountBody({ name: body.name, organizationalUnit: 'Workloads/Prod' }), {
          query: '?dryRun=true',
        }),
      409,
      'name',
    );
    await refused(() => post(accountBody({ tags: {} }), { query: '?dryRun=true' }), 400, 'tags.cost-center');
    await refused(() => post(accountBody(), { query: '?dryRun=yes' }), 400, 'dryRun');
  });

  it('shows callers only their own requests and accounts unless granted read-all', async () => {
    const mine = await post(accountBody({ organizationalUnit: 'Sandbox' }));
    expect(mine.status).toBe(202);
    // As the developer, its own request; as the root (no grants), none: answered as not there.
    expect((await env.call('GET', `/accounts/requests/${mine.body.requestId}`)).status).toBe(200);
    expectError(
      await env.call('GET', `/accounts/requests/${mine.body.requestId}`, { credentials: ROOT }),
      404,
      'requestId',
    );
    const now = new Date().toISOString();
    const account = (id: string, requester: string): AccountDesiredState => ({
      accountId: id,
      accountName: `acct-${id}`,
      email: `aws+${id}@example.com`,
      organizationalUnit: { id: 'ou-test-00000000', path: 'Sandbox' },
      tags: {},
      baselineVersion: '1',
      budget: { name: `acct-${id}`, monthlyLimitUsd: 50, thresholds: [] },
      owner: 'alice@example.com',
      requester,
      requestId: `req-${id}`,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    });
    await env.pipeline.deps.accounts.put(account('900000000001', DEVELOPER));
    await env.pipeline.deps.accounts.put(
      account('900000000002', 'arn:aws:iam::000000000000:user/someone-else'),
    );
    const listed = await env.call('GET', '/accounts?limit=100');
    const ids = listed.body.accounts.map((a: { accountId: string }) => a.accountId);
    expect(ids).toContain('900000000001');
    expect(ids).not.toContain('900000000002');
    expect((await env.call('GET', '/accounts/900000000001')).status).toBe(200);
    expectError(await env.call('GET', '/accounts/900000000002'), 404, 'accountId');
  });
});
