import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountListSchema,
  accountSchema,
  requestAcceptedSchema,
  requestViewSchema,
} from '../../functions/api/schemas.ts';
import { STEP_NAMES } from '../../functions/shared/model.ts';
import { type ApiEnv, accountBody, DEVELOPER, eventually, expectError, startApiEnv } from './harness.ts';

describe('vending an account through the request API', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());

  /** Posts a request and follows it until it ends; returns the accepted answer and the final request. */
  async function vend(overrides: Record<string, unknown> = {}) {
    const accepted = await env.call('POST', '/accounts', { body: accountBody(overrides) });
    expect(accepted.status, accepted.text).toBe(202);
    // The request is `succeeded` as soon as the account is ready; the announcement is recorded just after.
    const final = await untilEnded(accepted.headers.get('location')!);
    return { accepted, final };
  }

  /** Follows a request until it ends. */
  function untilEnded(location: string) {
    return eventually(
      env,
      () => env.call('GET', location),
      (answer) =>
        answer.body?.status === 'failed' ||
        (answer.body?.status === 'succeeded' &&
          answer.body.notification !== undefined &&
          answer.body.steps.every((step: { endedAt?: string }) => step.endedAt)),
      'the request to end',
    );
  }

  it('accepts a request with 202 and a Location, then vends the account; the account is then listed', async () => {
    const { accepted, final } = await vend({ name: 'payments', budget: { monthlyLimitUsd: 250 } });
    const body = requestAcceptedSchema.parse(accepted.body);
    expect(body).toMatchObject({
      status: 'pending',
      accountName: 'plat-dev-payments',
      email: 'aws+plat-dev-payments@example.com',
      organizationalUnit: { path: 'Workloads/Dev' },
      links: { self: `/accounts/requests/${body.requestId}` },
    });
    expect(accepted.headers.get('location')).toBe(`/accounts/requests/${body.requestId}`);
    expect(body.organizationalUnit.id).toMatch(/^ou-/);

    const request = requestViewSchema.parse(final.body);
    expect(request.status, JSON.stringify(request)).toBe('succeeded');
    expect(request.accountId).toMatch(/^\d{12}$/);
    expect(request.requester).toEqual({ principal: DEVELOPER, slackUserId: 'U012ALICE' });
    expect(request.steps.map((step) => step.name)).toEqual([...STEP_NAMES]);
    expect(request.steps.every((step) => step.status === 'succeeded' && step.endedAt)).toBe(true);
    expect(request.notification).toMatchObject({ kind: 'success', status: 'sent' });
    expect(request.failure).toBeUndefined();

    const account = await env.call('GET', `/accounts/${request.accountId}`);
    expect(account.status).toBe(200);
    expect(accountSchema.parse(account.body)).toMatchObject({
      accountId: request.accountId,
      accountName: 'plat-dev-payments',
      organizationalUnit: { path: 'Workloads/Dev' },
      owner: 'alice@example.com',
      requestId: body.requestId,
      status: 'active',
      budget: { monthlyLimitUsd: 250 },
      alias: 'acme-plat-dev-payments',
    });
    expect(account.body.tags).toMatchObject({ team: 'payments' });

    const list = await env.call('GET', '/accounts');
    expect(list.status).toBe(200);
    expect(accountListSchema.parse(list.body).accounts.map((a) => a.accountId)).toContain(request.accountId);
  });

  it('shows a request in progress with the steps started so far, in workflow order', async () => {
    const { settings } = env.pipeline.cloud.cloud;
    const usual = settings.creationDelayMs;
    settings.creationDelayMs = 600_000;
    let location: string | undefined;
    try {
      const accepted = await env.call('POST', '/accounts', { body: accountBody() });
      const self = accepted.headers.get('location')!;
      location = self;
      const creating = await eventually(
        env,
        () => env.call('GET', self),
        (answer) => answer.body?.steps?.some((s: { name: string }) => s.name === 'waitForAccount'),
        'the wait for the account',
      );
      const request = requestViewSchema.parse(creating.body);
      expect(request.status).toBe('creating');
      expect(request.accountId).toBeUndefined();
      expect(request.steps[0]).toMatchObject({ name: 'createAccount', status: 'succeeded', attempts: 1 });
      expect(request.steps[1]).toMatchObject({ name: 'waitForAccount' });
    } finally {
      settings.creationDelayMs = usual;
      // Leave nothing running: an account that becomes ready during a later test would change what it lists.
      if (location) await untilEnded(location);
    }
  });

  it('pages through the accounts with limit and nextCursor', async () => {
    await vend();
    await vend();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await env.call('GET', `/accounts?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      const body = accountListSchema.parse(page.body);
      expect(body.accounts.length).toBeLessThanOrEqual(1);
      seen.push(...body.accounts.map((a) => a.accountId));
      cursor = body.nextCursor;
    } while (cursor);
    const all = accountListSchema.parse((await env.call('GET', '/accounts?limit=100')).body);
    expect(seen).toEqual(all.accounts.map((a) => a.accountId));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses a limit outside 1-100 and a cursor it did not give, naming the parameter', async () => {
    for (const limit of ['0', '101', 'ten', '2.5']) {
      expectError(await env.call('GET', `/accounts?limit=${limit}`), 400, 'limit');
    }
    expectError(await env.call('GET', '/accounts?cursor=bm90LWEtY3Vyc29y'), 400, 'cursor');
    expectError(await env.call('GET', '/accounts?cursor=%%%'), 400, 'cursor');
  });

  it('answers 404 for an unknown request or account, 400 for an account id that is not 12 digits', async () => {
    expectError(
      await env.call('GET', '/accounts/requests/req-00000000-0000-0000-0000-000000000000'),
      404,
      'requestId',
    );
    expectError(await env.call('GET', `/accounts/requests/${'x'.repeat(300)}`), 404, 'requestId');
    expectError(await env.call('GET', '/accounts/999999999999'), 404, 'accountId');
    expectError(await env.call('GET', '/accounts/12345'), 400, 'accountId');
    expectError(await env.call('GET', '/accounts/abcdefghijkl'), 400, 'accountId');
  });

  it('answers 404 for an unknown path and 405 with Allow for a method a path does not support', async () => {
    expectError(await env.call('GET', '/nowhere'), 404);
    expectError(await env.call('GET', '/accounts/requests/a/b'), 404);
    const wrong = await env.call('DELETE', '/accounts');
    expectError(wrong, 405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    const put = await env.call('PUT', '/accounts/requests/req-1');
    expectError(put, 405);
    expect(put.headers.get('allow')).toBe('GET');
  });
});
