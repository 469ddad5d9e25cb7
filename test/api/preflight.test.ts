import { CreateAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_COUNT_TTL_MS } from '../../functions/api/quota.ts';
import {
  type Answer,
  type ApiEnv,
  accountBody,
  expectError,
  startApiEnv,
  withRequestedRootEmails,
} from './harness.ts';

describe('POST /accounts refuses at once, naming the field and the fix, and starts nothing', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    // The email rules themselves are under test: requests may give root emails (in example.com).
    env = await startApiEnv({ config: withRequestedRootEmails() });
  });
  afterAll(() => env.close());
  afterEach(() => env.pipeline.cloud.cloud.faults.clear());

  /** Sends a request that must be refused, and checks that no request was stored and no execution started. */
  async function refused(send: () => Promise<Answer>, status: number, field?: string) {
    const before = await env.snapshot();
    const answer = await send();
    const error = expectError(answer, status, field);
    expect(await env.snapshot()).toEqual(before);
    return error;
  }
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    env.call('POST', '/accounts', { body, headers });

  it('415 for a body that is not sent as JSON', async () => {
    const raw = JSON.stringify(accountBody());
    let error = await refused(() => env.call('POST', '/accounts', { raw }), 415, 'Content-Type');
    expect(error.fix).toContain('application/json');
    error = await refused(
      () => env.call('POST', '/accounts', { raw, headers: { 'content-type': 'text/plain' } }),
      415,
      'Content-Type',
    );
    expect(error.message).toContain('text/plain');
    await refused(() => post(accountBody(), { 'content-type': 'application/xml' }), 415, 'Content-Type');
    error = await refused(
      () => post(accountBody(), { 'content-type': 'application/json; charset=iso-8859-1' }),
      415,
      'Content-Type',
    );
    expect(error.fix).toContain('UTF-8');
  });

  it('accepts application/json with a UTF-8 charset, in any case', async () => {
    const answer = await post(accountBody(), { 'Content-Type': 'Application/JSON; Charset="UTF-8"' });
    expect(answer.status, answer.text).toBe(202);
  });

  it('413 for a body over 32 KiB', async () => {
    const error = await refused(
      () => post(accountBody({ tags: { notes: 'x'.repeat(33 * 1024) } })),
      413,
      '(body)',
    );
    expect(error.message).toContain(String(32 * 1024));
  });

  it('413 at the limit the handler is given', async () => {
    const small = await env.startApi({ maxBodyBytes: 200 });
    try {
      const before = await env.snapshot();
      expectError(
        await small.call('POST', '/accounts', { body: accountBody({ tags: { notes: 'x'.repeat(200) } }) }),
        413,
        '(body)',
      );
      expect(await env.snapshot()).toEqual(before);
    } finally {
      await small.close();
    }
  });

  it('400 for a body that is not JSON, or empty', async () => {
    const headers = { 'content-type': 'application/json' };
    let error = await refused(
      () => env.call('POST', '/accounts', { raw: '{"name": "payments",', headers }),
      400,
      '(body)',
    );
    expect(error.message).toContain('not valid JSON');
    error = await refused(() => env.call('POST', '/accounts', { raw: '', headers }), 400, '(body)');
    expect(error.message).toContain('empty');
  });

  it('400 naming the field that breaks the schema', async () => {
    const { owner: _owner, ...withoutOwner } = accountBody();
    await refused(() => post(withoutOwner), 400, 'owner');
    await refused(() => post(accountBody({ owner: 'alice' })), 400, 'owner');
    await refused(
      () => post(accountBody({ budget: { monthlyLimitUsd: 'lots' } })),
      400,
      'budget.monthlyLimitUsd',
    );
    await refused(
      () => post(accountBody({ requester: { slackUserId: 'alice' } })),
      400,
      'requester.slackUserId',
    );
    await refused(() => post(accountBody({ vpc: { id: 'vpc-1', region: 'us-east-1' } })), 400, 'vpc.id');
    await refused(() => post(['not', 'an', 'object']), 400);
  });

  it('400 for a name that breaks the naming rule, saying the rule', async () => {
    const error = await refused(() => post(accountBody({ name: 'Payments_Service' })), 400, 'name');
    expect(error.message).toContain('naming rule');
    expect(error.fix).toMatch(/lower-case/);
  });

  it("400 for the bare OU name 'Dev', saying the full path", async () => {
    const error = await refused(
      () => post(accountBody({ organizationalUnit: 'Dev' })),
      400,
      'organizationalUnit',
    );
    expect(error.fix).toContain('Workloads/Dev');
  });

  it('422 for an OU accounts may not be vended into, listing the allowed ones', async () => {
    const error = await refused(
      () => post(accountBody({ organizationalUnit: 'Shared/Security' })),
      422,
      'organizationalUnit',
    );
    expect(error.fix).toContain('Sandbox, Workloads/Dev, Workloads/Prod');
  });

  it('400 for an email that is not an address, too short, too long, or made too long by the template', async () => {
    await refused(() => post(accountBody({ email: 'not-an-address' })), 400, 'email');
    await refused(() => post(accountBody({ email: 'a@b.c' })), 400, 'email');
    await refused(() => post(accountBody({ email: `${'a'.repeat(60)}@example.com` })), 400, 'email');
    const error = await refused(() => post(accountBody({ name: `p${'a'.repeat(38)}z` })), 400, 'email');
    expect(error.message).toContain('6 to 64');
    expect(error.fix).toContain('shorter name');
  });

  it('400 for a budget above the most allowed', async () => {
    await refused(
      () => post(accountBody({ budget: { monthlyLimitUsd: 6000 } })),
      400,
      'budget.monthlyLimitUsd',
    );
  });

  it('409 for a name another request holds, or an email it holds in any case', async () => {
    const first = accountBody();
    expect((await post(first)).status).toBe(202);
    let error = await refused(
      () => post(accountBody({ name: first.name, email: 'other@example.com' })),
      409,
      'name',
    );
    expect(error.fix).toContain('another name');
    const email = `Team-${first.name}@Example.com`;
    expect((await post(accountBody({ email }))).status).toBe(202);
    error = await refused(() => post(accountBody({ email: email.toLowerCase() })), 409, 'email');
    expect(error.fix).toContain('another address');
  });

  it('403, as API Gateway answers, for a request signed with a key the local cloud never issued', async () => {
    const before = await env.snapshot();
    const answer = await env.call('POST', '/accounts', {
      body: accountBody(),
      credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' },
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ message: 'The security token included in the request is invalid.' });
    expect(await env.snapshot()).toEqual(before);
  });

  it('500 with nothing internal when a dependency fails unexpectedly', async () => {
    env.pipeline.cloud.cloud.faults.add({
      service: 'organizations',
      operation: 'ListRoots',
      error: {
        code: 'AccessDeniedException',
        message: 'secret detail arn:aws:iam::000000000000:role/VendPipeline',
      },
      times: 1,
    });
    // A fresh API has not looked the OU up yet (the lookup is cached), so this POST reads the organization.
    const fresh = await env.startApi({});
    try {
      const error = await refused(() => fresh.call('POST', '/accounts', { body: accountBody() }), 500);
      expect(error).toEqual({ status: 500, message: 'Internal server error' });
    } finally {
      await fresh.close();
    }
  });

  it('looks an OU up once for many requests, not at every request', async () => {
    // Only the API's lookups are counted: the executions (whose create-account step reads the root too) are not run.
    const started: string[] = [];
    const fresh = await env.startApi({ starter: { start: async (name) => void started.push(name) } });
    try {
      const lookups = () =>
        env.pipeline.cloud.cloud.callCount(
          (service, operation) => service === 'organizations' && operation === 'ListRoots',
        );
      const before = lookups();
      for (let i = 0; i < 3; i++) {
        expect((await fresh.call('POST', '/accounts', { body: accountBody() })).status).toBe(202);
      }
      expect(lookups() - before).toBe(1);
      expect(started).toHaveLength(3);
    } finally {
      await fresh.close();
    }
  });

  describe('the account quota', () => {
    const organizationWith = (accountQuota: number) => ({
      ...env.pipeline.config,
      organization: { ...env.pipeline.config.organization, accountQuota },
    });
    const listAccountsCalls = () =>
      env.pipeline.cloud.cloud.callCount((_service, operation) => operation === 'ListAccounts');

    it('409 once the accounts reach the quota, saying how to raise it; one count serves a burst for a minute', async () => {
      let now = Date.now();
      const api = await env.startApi({ config: organizationWith(3), now: () => now });
      try {
        const calls = listAccountsCalls();
        const before = await env.snapshot();
        const answers = await Promise.all(
          Array.from({ length: 5 }, () => api.call('POST', '/accounts', { body: accountBody() })),
        );
        for (const answer of answers) {
          const error = expectError(answer, 409);
          expect(error.message).toContain('account quota');
          expect(error.fix).toContain('organization.accountQuota');
          expect(error.fix).toContain('Service Quotas');
        }
        expect(await env.snapshot()).toEqual(before);
        expect(listAccountsCalls() - calls).toBe(1);

        now += ACCOUNT_COUNT_TTL_MS;
        expectError(await api.call('POST', '/accounts', { body: accountBody() }), 409);
        expect(listAccountsCalls() - calls).toBe(2);
      } finally {
        await api.close();
      }
    });

    it('counts the creations in progress', async () => {
      await Promise.all(env.pipeline.runner.list().map((execution) => execution.done));
      const { cloud } = env.pipeline.cloud;
      const accounts = Object.keys(cloud.state.accounts).length;
      const usual = cloud.settings.creationDelayMs;
      cloud.settings.creationDelayMs = 3_600_000;
      try {
        await env.pipeline.deps
          .client(OrganizationsClient)
          .send(
            new CreateAccountCommand({ AccountName: 'outside-vend', Email: 'aws+outside-vend@example.com' }),
          );
        const api = await env.startApi({ config: organizationWith(accounts + 1) });
        try {
          const error = expectError(await api.call('POST', '/accounts', { body: accountBody() }), 409);
          expect(error.message).toContain(
            `${accounts + 1} accounts (created or being created) of ${accounts + 1}`,
          );
        } finally {
          await api.close();
        }
      } finally {
        cloud.settings.creationDelayMs = usual;
      }
    });
  });
});
