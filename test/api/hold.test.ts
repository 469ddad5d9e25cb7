import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountSchema } from '../../functions/api/schemas.ts';
import { AUDITOR, DEVELOPER_ROLE, PLATFORM_ADMIN, seedWithApprovers } from './approvers.ts';
import { type ApiEnv, accountBody, eventually, expectError, startApiEnv } from './harness.ts';

describe('POST and DELETE /accounts/{accountId}/hold', () => {
  let env: ApiEnv;
  let accountId: string;
  const admin = { credentials: PLATFORM_ADMIN.credentials };
  const path = () => `/accounts/${accountId}/hold`;
  /** The account record and the Slack messages so far: a refusal must change neither. */
  const state = async () => ({
    account: await env.pipeline.deps.accounts.get(accountId),
    messages: env.pipeline.slack.messages().length,
  });

  beforeAll(async () => {
    env = await startApiEnv({ seed: seedWithApprovers() });
    const accepted = await env.call('POST', '/accounts', { body: accountBody() });
    const done = await eventually(
      env,
      () => env.call('GET', accepted.headers.get('location')!),
      (answer) => answer.body?.status === 'succeeded' && answer.body.notification !== undefined,
      'the account',
    );
    accountId = done.body.accountId;
  });
  afterAll(() => env.close());

  it('refuses bad input naming the field and the fix, changing nothing', async () => {
    const before = await state();
    const cases: [body: unknown, field: string, message: RegExp][] = [
      [{}, 'reason', /reason: /],
      [{ reason: '' }, 'reason', /a reason is required/],
      [{ reason: '   ' }, 'reason', /a reason is required/],
      [{ reason: 'x'.repeat(501) }, 'reason', /at most 500 characters/],
      [{ reason: 42 }, 'reason', /reason: /],
      [{ reason: 'INC-1', until: 'tomorrow' }, 'until', /unknown field until/],
      [[], '(body)', /expected object/],
    ];
    for (const [body, field, message] of cases) {
      const error = expectError(await env.call('POST', path(), { body, ...admin }), 400, field);
      expect(error.message, JSON.stringify(body)).toMatch(message);
      expect(error.fix).toContain('{"reason"');
    }
    expectError(
      await env.call('POST', path(), { raw: '{', headers: { 'content-type': 'application/json' }, ...admin }),
      400,
      '(body)',
    );
    expectError(
      await env.call('POST', '/accounts/12345/hold', { body: { reason: 'x' }, ...admin }),
      400,
      'accountId',
    );
    const unknown = expectError(
      await env.call('POST', '/accounts/123456789012/hold', { body: { reason: 'x' }, ...admin }),
      404,
      'accountId',
    );
    expect(unknown.message).toBe('accountId: Vend has not vended account 123456789012');
    expectError(await env.call('DELETE', '/accounts/123456789012/hold', admin), 404, 'accountId');
    const notHeld = expectError(await env.call('DELETE', path(), admin), 409, 'accountId');
    expect(notHeld.message).toContain('is not on hold');
    expect(await state()).toEqual(before);
  });

  it('is for administrators only: others get 403 naming the grant, whatever the account', async () => {
    const before = await state();
    for (const principal of [DEVELOPER_ROLE, AUDITOR]) {
      for (const target of [path(), '/accounts/123456789012/hold']) {
        for (const method of ['POST', 'DELETE']) {
          const error = expectError(
            await env.call(method, target, {
              ...(method === 'POST' ? { body: { reason: 'INC-1' } } : {}),
              credentials: principal.credentials,
            }),
            403,
            'Authorization',
          );
          expect(error.message).toMatch(/needs the administer grant/);
          expect(error.fix).toContain('platform-admins (arn:aws:iam::000000000000:role/PlatformAdmin)');
        }
      }
    }
    expect(await state()).toEqual(before);
  });

  it('records the hold with the signed caller, shows it, repeats it idempotently, and refuses another reason', async () => {
    const held = await env.call('POST', path(), { body: { reason: '  INC-9: investigating  ' }, ...admin });
    expect(held.status, held.text).toBe(200);
    const account = accountSchema.parse(held.body);
    expect(account.hold).toEqual({
      by: PLATFORM_ADMIN.arn,
      at: expect.any(String),
      reason: 'INC-9: investigating',
    });
    expect(account.holdHistory).toEqual([{ action: 'hold', ...account.hold }]);
    const shown = await env.call('GET', `/accounts/${accountId}`, admin);
    expect(accountSchema.parse(shown.body).hold).toEqual(account.hold);

    const before = await state();
    const again = await env.call('POST', path(), { body: { reason: 'INC-9: investigating' }, ...admin });
    expect(again.status).toBe(200);
    expect(accountSchema.parse(again.body).hold).toEqual(account.hold);
    const other = expectError(
      await env.call('POST', path(), { body: { reason: 'INC-10' }, ...admin }),
      409,
      'reason',
    );
    expect(other.message).toContain(
      `since ${account.hold!.at} by ${PLATFORM_ADMIN.arn}: INC-9: investigating`,
    );
    expect(other.fix).toContain(`DELETE /accounts/${accountId}/hold`);
    expect(await state()).toEqual(before);

    const released = await env.call('DELETE', path(), admin);
    expect(released.status, released.text).toBe(200);
    const after = accountSchema.parse(released.body);
    expect(after.hold).toBeUndefined();
    expect(after.holdHistory.map((entry) => [entry.action, entry.by])).toEqual([
      ['release', PLATFORM_ADMIN.arn],
      ['hold', PLATFORM_ADMIN.arn],
    ]);
  });
});
