import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CompleteRequestInput, completeRequest } from '../../functions/complete-request/core.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { announceInput, startWorkflowEnv, storeRequest, testRequest, type WorkflowEnv } from './harness.ts';

/** What "Configure account" hands on, as its three steps report it. */
function configured(accountId: string, request: VendRequest): CompleteRequestInput['configured'] {
  return [
    {
      step: 'applyBaseline',
      version: '1',
      roles: [
        { name: 'VendAdmin', arn: `arn:aws:iam::${accountId}:role/VendAdmin`, action: 'created' },
        { name: 'VendReadOnly', arn: `arn:aws:iam::${accountId}:role/VendReadOnly`, action: 'created' },
      ],
      passwordPolicy: 'applied',
      alias: `acme-${request.accountName}`,
      changes: 4,
    },
    {
      step: 'applyBudget',
      budgetName: `vend-${request.accountName}`,
      monthlyLimitUsd: 200,
      action: 'created',
    },
    {
      step: 'connectDns',
      action: 'associated',
      hostedZoneId: 'Z0VENDTESTINTERNAL01',
      vpcId: 'vpc-0123456789abcdef0',
      region: 'us-east-1',
    },
  ];
}

let nextAccount = 100_000_000_000;

describe('complete-request ("Announce ready")', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;
  let webhook: string | undefined;

  beforeAll(async () => {
    sink = await startSlackSink();
    webhook = sink.url;
    env = await startWorkflowEnv({ slackWebhookUrl: async () => webhook });
  });
  afterAll(async () => {
    await env.close();
    await sink.close();
  });
  afterEach(() => {
    webhook = sink.url;
  });

  /** A stored request whose account was created and configured, and the input "Announce ready" gets for it. */
  async function readyRequest(overrides: Partial<VendRequest> = {}) {
    const request = testRequest(overrides);
    await storeRequest(env.deps, request);
    const accountId = String(nextAccount++);
    await env.deps.requests.update(request.requestId, { status: 'configuring', accountId });
    const input: CompleteRequestInput = announceInput({
      request,
      configured: configured(accountId, request),
    });
    return { request, accountId, input };
  }

  /** The messages the sink got for a request. */
  const messagesFor = (request: VendRequest) =>
    sink.messages().filter((m) => JSON.stringify(m.payload).includes(request.requestId));

  it('registers the account as promised, marks the request succeeded, and tells the requester how to get in', async () => {
    const { request, accountId, input } = await readyRequest();

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: true });

    const account = await env.deps.accounts.get(accountId);
    expect(account).toMatchObject({
      accountId,
      accountName: request.accountName,
      email: request.email,
      organizationalUnit: request.organizationalUnit,
      tags: { team: 'payments', 'vend:request-id': request.requestId, 'vend:owner': 'alice@example.com' },
      baselineVersion: '1',
      budget: {
        name: `vend-${request.accountName}`,
        monthlyLimitUsd: 200,
        thresholds: request.budget.thresholds,
      },
      dns: { hostedZoneId: 'Z0VENDTESTINTERNAL01', vpcId: 'vpc-0123456789abcdef0', region: 'us-east-1' },
      alias: `acme-${request.accountName}`,
      owner: 'alice@example.com',
      requestId: request.requestId,
      status: 'active',
    });
    const record = await env.deps.requests.get(request.requestId);
    expect(record).toMatchObject({
      status: 'succeeded',
      accountId,
      notification: { kind: 'success', status: 'sent' },
    });
    expect(record?.steps.notify).toMatchObject({ status: 'succeeded', attempts: 1 });

    const [message, ...more] = messagesFor(request);
    expect(more).toEqual([]);
    const text = JSON.stringify(message!.payload);
    expect(text).toContain('<@U012ALICE>');
    expect(text).toContain(
      `<https://signin.aws.amazon.com/switchrole?roleName=VendAdmin&amp;account=${accountId}|switch role>`,
    );
    expect(text).toContain('MFA');
    expect(text).toContain(`arn:aws:iam::${accountId}:role/VendReadOnly`);
    expect(text).not.toContain('vend-audit-7f3a');
    expect(text).toContain('200 USD a month');
    expect(text).toContain('vpc-0123456789abcdef0');
    expect(message!.rendered).toContain('Organizational unit: Workloads/Dev');
  });

  it('announces once: a second run after the message went out sends nothing and changes nothing', async () => {
    const { request, accountId, input } = await readyRequest();
    await completeRequest(env.deps, input);
    const account = await env.deps.accounts.get(accountId);
    const record = await env.deps.requests.get(request.requestId);

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: true });

    expect(messagesFor(request)).toHaveLength(1);
    expect(await env.deps.accounts.get(accountId)).toEqual(account);
    const again = await env.deps.requests.get(request.requestId);
    expect(again?.notification).toEqual(record?.notification);
    expect(again?.status).toBe('succeeded');
  });

  it('waits out a 429 with Retry-After and delivers the message once', async () => {
    const { request, input } = await readyRequest();
    const before = sink.requests();
    sink.failNext(429, 1, { 'Retry-After': '2' });

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: true });

    expect(sink.requests() - before).toBe(2);
    expect(messagesFor(request)).toHaveLength(1);
  });

  it('raises SlackUnavailableError when Slack is down, recording no message, and a later run delivers it once', async () => {
    const { request, input } = await readyRequest();
    sink.failNext(503, 3);

    await expect(completeRequest(env.deps, input)).rejects.toMatchObject({
      name: 'Vend.SlackUnavailable',
    });

    const record = await env.deps.requests.get(request.requestId);
    expect(record?.notification).toBeUndefined();
    expect(record?.status).toBe('succeeded');
    expect(record?.steps.notify?.status).toBe('running');
    expect(messagesFor(request)).toEqual([]);

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: true });
    expect(messagesFor(request)).toHaveLength(1);
    expect((await env.deps.requests.get(request.requestId))?.steps.notify).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
  });

  it('treats Slack 404 no_service as final: Vend.SlackRejected, which the state machine does not retry', async () => {
    const { request, input } = await readyRequest();
    sink.failNext(404, 1);

    await expect(completeRequest(env.deps, input)).rejects.toMatchObject({
      name: 'Vend.SlackRejected',
      status: 404,
    });

    expect(messagesFor(request)).toEqual([]);
    expect((await env.deps.requests.get(request.requestId))?.notification).toBeUndefined();
  });

  it('escapes hostile text from the request in what it posts', async () => {
    const { request, input } = await readyRequest({
      name: '<!channel> @here',
      tags: { team: '<https://evil.example|click me>', '<!everyone>': '<@U999EVIL> @channel' },
      owner: '<!here>@example.com',
    });

    await completeRequest(env.deps, input);

    const [message] = messagesFor(request);
    const posted = JSON.stringify(message!.payload);
    expect(posted).not.toContain('<!channel>');
    expect(posted).not.toContain('<!here>');
    expect(posted).not.toContain('<!everyone>');
    expect(posted).not.toContain('<@U999EVIL>');
    expect(posted).not.toContain('<https://evil');
    expect(posted).not.toMatch(/@(channel|here|everyone)/);
    expect(posted).not.toContain('https://evil');
    expect(posted).toContain('&lt;!channel&gt;');
    expect(posted).toContain('&lt;https[:]//evil[.]example|click me&gt;');
    expect(message!.rendered).toContain('team=<https[:]//evil[.]example|click me>');
  });

  it('without a Slack webhook, completes the request and records that nobody was told', async () => {
    const { request, accountId, input } = await readyRequest();
    webhook = undefined;
    const before = sink.requests();

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: false });

    expect(sink.requests()).toBe(before);
    const record = await env.deps.requests.get(request.requestId);
    expect(record).toMatchObject({
      status: 'succeeded',
      notification: { kind: 'success', status: 'skipped', error: 'no Slack webhook configured' },
    });
    expect(await env.deps.accounts.get(accountId)).toBeDefined();
  });

  it('reads results it does not recognise defensively: without step names, by position; missing ones from the request', async () => {
    const { request, accountId } = await readyRequest({ vpc: { id: 'vpc-0feedbeef', region: 'us-east-1' } });

    await completeRequest(
      env.deps,
      announceInput({ request, accountId, configured: [null, {}, 'odd'] as unknown[] }),
    );

    expect(await env.deps.accounts.get(accountId)).toMatchObject({
      baselineVersion: '1',
      budget: { monthlyLimitUsd: 200 },
      status: 'active',
    });
    const [message] = messagesFor(request);
    expect(JSON.stringify(message!.payload)).toContain(`roleName=VendAdmin&amp;account=${accountId}`);
  });
});
