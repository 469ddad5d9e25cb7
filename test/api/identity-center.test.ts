import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestViewSchema } from '../../functions/api/schemas.ts';
import { type ApiEnv, accountBody, eventually, startApiEnv } from './harness.ts';

/** The default configuration's Identity Center access, seen through the request API. */
describe('Identity Center access in the request status', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());

  async function vend(owner: string) {
    const accepted = await env.call('POST', '/accounts', { body: accountBody({ owner }) });
    expect(accepted.status, accepted.text).toBe(202);
    const final = await eventually(
      env,
      () => env.call('GET', accepted.headers.get('location')!),
      (answer) =>
        answer.body?.status === 'failed' ||
        (answer.body?.status === 'succeeded' &&
          answer.body.steps.every((step: { endedAt?: string }) => step.endedAt)),
      'the request to end',
    );
    return requestViewSchema.parse(final.body);
  }

  const grantAccess = (request: ReturnType<typeof requestViewSchema.parse>) =>
    request.steps.find((step) => step.name === 'grantAccess');

  it("shows the owner's and the group's assignments in the grantAccess step", async () => {
    const request = await vend('alice@example.com');
    expect(request.status).toBe('succeeded');
    expect(grantAccess(request)).toMatchObject({ status: 'succeeded' });
    expect(grantAccess(request)?.detail).toContain('assigned VendDeveloper for group developers');
    expect(grantAccess(request)?.detail).toContain('assigned VendDeveloper for owner alice@example.com');
  });

  it('shows an owner without an Identity Center user as not assigned, and why, in a succeeded request', async () => {
    const request = await vend('erin@example.com');
    expect(request.status).toBe('succeeded');
    expect(request.failure).toBeUndefined();
    expect(grantAccess(request)?.detail).toContain(
      'owner erin@example.com not assigned VendDeveloper: no Identity Center user has the email or user name erin@example.com',
    );
  });
});
