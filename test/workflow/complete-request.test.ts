import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CompleteRequestInput, completeRequest } from '../../functions/complete-request/core.ts';
import { deliverMessages } from '../../functions/deliver-messages/core.ts';
import { resolveProfile } from '../../functions/shared/config.ts';
import type { MemoryMetrics } from '../../functions/shared/metrics.ts';
import { METRIC } from '../../functions/shared/metrics-names.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import { OUTBOX_LEASE_MS } from '../../functions/shared/slack.ts';
import { slackWebhookFromSecret } from '../../functions/shared/slack-secret.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { pollOnClock } from '../local-cloud/wait.ts';
import {
  announceInput,
  createMemberAccount,
  startWorkflowEnv,
  storeRequest,
  testRequest,
  type WorkflowEnv,
} from './harness.ts';

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

let nextAccount = 0;

describe('complete-request ("Announce ready")', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;
  /** Where a rotated webhook posts. */
  let rotatedSink: SlackSink;
  /** The webhook the steps have read (and keep, as a Lambda caches the secret). */
  let webhook: string | undefined;
  /** What the secret holds now: read again only on `refresh`. */
  let secret: string | undefined;
  /** SlackUndelivered emitted since the test began (the harness keeps metrics in memory). */
  let undeliveredBefore = 0;
  const undelivered = () =>
    (env.deps.metrics as MemoryMetrics).total(METRIC.slackUndelivered) - undeliveredBefore;

  beforeAll(async () => {
    sink = await startSlackSink();
    rotatedSink = await startSlackSink();
    webhook = secret = sink.url;
    env = await startWorkflowEnv({
      slackWebhookUrl: async (options) => {
        if (options?.refresh) webhook = secret;
        return webhook;
      },
    });
  });
  afterAll(async () => {
    await env.close();
    await sink.close();
    await rotatedSink.close();
  });
  afterEach(() => {
    webhook = secret = sink.url;
    sink.failNext(200, 0);
    undeliveredBefore = (env.deps.metrics as MemoryMetrics).total(METRIC.slackUndelivered);
  });

  /** Runs the deliverer every simulated minute until `done` holds (at most 20 s of real time). */
  const deliverUntil = (done: () => Promise<boolean> | boolean, what: string) =>
    pollOnClock(
      env.deps.sleep,
      async () => {
        await deliverMessages(env.deps);
        if (await done()) return true;
        await env.deps.sleep(59_000);
        return false;
      },
      (ok) => ok,
      what,
    );

  /** A stored request whose account was created and configured, and the input "Announce ready" gets for it. */
  async function readyRequest(overrides: Partial<VendRequest> = {}) {
    const request = testRequest(overrides);
    await storeRequest(env.deps, request);
    // A real member account: Announce ready lifts its quarantine through Organizations.
    const accountId = await createMemberAccount(env, `ready-${++nextAccount}`);
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

  it('records the profile the request was vended to, and lists only that profile’s roles', async () => {
    const profile = { ...resolveProfile(env.config, 'Workloads/Dev'), baselineRoles: ['VendAdmin'] };
    const { request, accountId, input } = await readyRequest({ profile });
    const [baseline, ...others] = input.configured as Record<string, unknown>[];
    const onlyAdmin = { ...baseline, roles: (baseline!.roles as { name: string }[]).slice(0, 1) };

    await completeRequest(env.deps, { ...input, configured: [onlyAdmin, ...others] });

    expect((await env.deps.accounts.get(accountId))?.profile).toEqual(profile);
    const [message] = messagesFor(request);
    expect(message!.rendered).toContain('VendAdmin');
    expect(message!.rendered).not.toContain('VendReadOnly');
  });

  it('records the configuration’s profile for the OU with an account whose request has none', async () => {
    const { accountId, input } = await readyRequest();
    await completeRequest(env.deps, input);
    expect((await env.deps.accounts.get(accountId))?.profile).toEqual(
      resolveProfile(env.config, 'Workloads/Dev'),
    );
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

  it('when Slack answers 500 three times, succeeds with the message pending; the deliverer delivers it later, once', async () => {
    const { request, input } = await readyRequest();
    sink.failNext(500, 3);

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: false, pending: true });

    const record = await env.deps.requests.get(request.requestId);
    expect(record).toMatchObject({
      status: 'succeeded',
      notification: { kind: 'success', status: 'pending' },
    });
    expect(record?.steps.notify?.status).toBe('succeeded');
    expect(messagesFor(request)).toEqual([]);
    expect(await env.deps.outbox.get(`${request.requestId}#ready`)).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('Vend.SlackUnavailable'),
    });

    await deliverUntil(() => messagesFor(request).length > 0, 'the deliverer to deliver the message');
    await deliverMessages(env.deps);
    await env.deps.sleep(20 * 60_000);
    await deliverMessages(env.deps);

    expect(messagesFor(request)).toHaveLength(1);
    expect(await env.deps.outbox.get(`${request.requestId}#ready`)).toMatchObject({ state: 'delivered' });
    expect((await env.deps.requests.get(request.requestId))?.notification).toMatchObject({ status: 'sent' });
    expect(undelivered()).toBe(0);
  });

  it('after the message was delivered, a retried step sends nothing, even when the crash came before the record', async () => {
    const { request, input } = await readyRequest();
    await completeRequest(env.deps, input);
    // As if the step had crashed between the outbox's delivered mark and the request's record of it.
    await env.deps.requests.update(request.requestId, {
      notification: { kind: 'success', status: 'pending', at: new Date().toISOString() },
    });
    const before = sink.requests();

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: true });

    expect(sink.requests()).toBe(before);
    expect(messagesFor(request)).toHaveLength(1);
    expect((await env.deps.requests.get(request.requestId))?.notification).toMatchObject({ status: 'sent' });
  });

  it('leaves a message a live attempt holds to that attempt, and the deliverer sends one whose claim expired, once', async () => {
    const live = await readyRequest();
    const liveId = `${live.request.requestId}#ready`;
    await env.deps.outbox.enqueue(
      { id: liveId, kind: 'ready', message: { text: `held ${live.request.requestId}`, blocks: [] } },
      env.deps.now(),
    );
    // A lease far longer than the test: the scaled clock runs on while the test works.
    expect(
      await env.deps.outbox.claim(liveId, 'live-attempt', env.deps.now(), 30 * 86_400_000),
    ).toMatchObject({
      claimed: true,
    });
    const crashed = await readyRequest();
    const crashedId = `${crashed.request.requestId}#ready`;
    await env.deps.outbox.enqueue(
      { id: crashedId, kind: 'ready', message: { text: `lost ${crashed.request.requestId}`, blocks: [] } },
      env.deps.now() - 2 * OUTBOX_LEASE_MS,
    );
    // An attempt that crashed: its claim ran out a lease ago.
    await env.deps.outbox.claim(
      crashedId,
      'crashed-attempt',
      env.deps.now() - 2 * OUTBOX_LEASE_MS,
      OUTBOX_LEASE_MS,
    );
    const before = sink.requests();

    await expect(completeRequest(env.deps, live.input)).resolves.toEqual({ notified: false, pending: true });
    await deliverMessages(env.deps);
    await deliverMessages(env.deps);

    expect(sink.requests()).toBe(before + 1);
    expect(messagesFor(live.request)).toEqual([]);
    expect(messagesFor(crashed.request)).toHaveLength(1);
    expect(await env.deps.outbox.get(liveId)).toMatchObject({ state: 'sending', attempts: 1 });
    expect(await env.deps.outbox.get(crashedId)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('on Slack 404, reads the webhook secret again and delivers with the rotated URL', async () => {
    const { request, input } = await readyRequest();
    // The secret as a Lambda reads it: cached after the first read, read again only when Slack says it is gone.
    const read = vi
      .fn<(arn: string) => Promise<string | undefined>>()
      .mockResolvedValueOnce(sink.url)
      .mockResolvedValueOnce(rotatedSink.url);
    const deps = {
      ...env.deps,
      slackWebhookUrl: slackWebhookFromSecret('arn:aws:secretsmanager:us-east-1:000000000000:secret:hook', {
        read,
        allowLoopback: true,
      }),
    };
    expect(await deps.slackWebhookUrl()).toBe(sink.url);
    sink.failNext(404, 1);

    await expect(completeRequest(deps, input)).resolves.toEqual({ notified: true });

    expect(read).toHaveBeenCalledTimes(2);
    expect(messagesFor(request)).toEqual([]);
    const delivered = rotatedSink
      .messages()
      .filter((m) => JSON.stringify(m.payload).includes(request.requestId));
    expect(delivered).toHaveLength(1);
    expect(await deps.slackWebhookUrl()).toBe(rotatedSink.url);
  });

  it('on Slack 404 with the same URL in the secret, posts no more and keeps the message for the deliverer', async () => {
    const { request, input } = await readyRequest();
    sink.failNext(404, 1);
    const before = sink.requests();

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: false, pending: true });

    expect(sink.requests()).toBe(before + 1);
    expect(await env.deps.outbox.get(`${request.requestId}#ready`)).toMatchObject({
      state: 'pending',
      lastError: expect.stringContaining('HTTP 404'),
    });
    await deliverUntil(() => messagesFor(request).length > 0, 'the deliverer to deliver the message');
    expect(messagesFor(request)).toHaveLength(1);
  });

  it('reports a message undelivered for an hour with SlackUndelivered, once, and keeps trying', async () => {
    const { request, input } = await readyRequest();
    sink.failNext(503, 100_000);
    await completeRequest(env.deps, input);
    const id = `${request.requestId}#ready`;
    const created = (await env.deps.outbox.get(id))!.createdAt;

    await deliverUntil(() => undelivered() > 0, 'SlackUndelivered');

    expect(undelivered()).toBe(1);
    expect(env.deps.now() - created).toBeGreaterThanOrEqual(60 * 60_000);
    expect(await env.deps.outbox.get(id)).toMatchObject({ state: 'pending' });
    for (let round = 0; round < 5; round++) {
      await env.deps.sleep(15 * 60_000);
      await deliverMessages(env.deps);
    }
    expect(undelivered()).toBe(1);

    sink.failNext(200, 0);
    await deliverUntil(() => messagesFor(request).length > 0, 'the deliverer to deliver the message');
    expect(messagesFor(request)).toHaveLength(1);
  });

  it('refuses a webhook that is not on a Slack host: nothing is sent, the message waits in the outbox', async () => {
    const { request, input } = await readyRequest();
    webhook = 'https://hooks.evil.example/services/T0/B0/x';
    const before = sink.requests();

    await expect(completeRequest(env.deps, input)).resolves.toEqual({ notified: false, pending: true });

    expect(sink.requests()).toBe(before);
    expect(await env.deps.outbox.get(`${request.requestId}#ready`)).toMatchObject({
      state: 'pending',
      lastError: expect.stringContaining('ConfigError'),
    });
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
    webhook = secret = undefined;
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
