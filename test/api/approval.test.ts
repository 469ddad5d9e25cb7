import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApprovalView,
  type RequestView,
  requestAcceptedSchema,
  requestViewSchema,
} from '../../functions/api/schemas.ts';
import { grantsFor, matchArnOf } from '../../functions/shared/access.ts';
import { decideApproval } from '../../functions/shared/approval.ts';
import { APPROVE_ACTION, DENY_ACTION } from '../../functions/shared/approval-messages.ts';
import { readConfigFile } from '../../functions/shared/config.ts';
import { HttpError } from '../../functions/shared/errors.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { DEFAULT_CONFIG } from '../../local/pipeline.ts';
import type { ReceivedSlackMessage } from '../../local/slack-sink.ts';
import {
  AUDITOR,
  DEVELOPER_ROLE,
  PLATFORM_ADMIN,
  prodBody,
  seedWithApprovers,
  type TestPrincipal,
} from './approvers.ts';
import { type Answer, type ApiEnv, DEVELOPER, eventually, expectError, startApiEnv } from './harness.ts';

const HOUR_MS = 3_600_000;
let names = 0;
/** A fresh name, unique across runs of this file in one registry. */
const freshName = (what: string) => `${what}-${++names}-${Math.random().toString(36).slice(2, 6)}`;

/** The messages the Slack sink received since `from`. */
const slackSince = (env: ApiEnv, from: number): ReceivedSlackMessage[] =>
  env.pipeline.slack.messages().slice(from);

/** CreateAccount calls the local cloud received for an account name. */
const creations = (env: ApiEnv, accountName: string) =>
  Object.values(env.pipeline.cloud.cloud.state.createAccountRequests).filter(
    (creation) => creation.accountName === accountName,
  );

async function submit(env: ApiEnv, name = freshName('ledger'), headers: Record<string, string> = {}) {
  const answer = await env.call('POST', '/accounts', { body: prodBody(name), headers });
  expect(answer.status, answer.text).toBe(202);
  return requestAcceptedSchema.parse(answer.body);
}

function decide(env: ApiEnv, requestId: string, body: unknown, as?: TestPrincipal): Promise<Answer> {
  return env.call('POST', `/accounts/requests/${requestId}/approval`, {
    body,
    ...(as ? { credentials: as.credentials } : {}),
  });
}

async function view(env: ApiEnv, requestId: string): Promise<RequestView> {
  const answer = await env.call('GET', `/accounts/requests/${requestId}`);
  expect(answer.status, answer.text).toBe(200);
  return requestViewSchema.parse(answer.body);
}

describe('approval of requests in Workloads/Prod', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv({ seed: seedWithApprovers() });
  });
  afterAll(() => env.close());

  it('holds a Prod request in awaiting-approval with its name reserved, creates nothing, and asks the approvers on Slack with buttons', async () => {
    // Prepare
    const name = freshName('ledger');
    const slackBefore = env.pipeline.slack.messages().length;

    // Act
    const accepted = await submit(env, name, { 'idempotency-key': `approval-${name}` });
    const replayed = await env.call('POST', '/accounts', {
      body: prodBody(name),
      headers: { 'idempotency-key': `approval-${name}` },
    });
    const taken = await env.call('POST', '/accounts', { body: prodBody(name) });

    // Assess: waiting, reserved, nothing started in AWS.
    expect(accepted.status).toBe('awaiting-approval');
    expect(accepted.approval?.approvers).toEqual(['platform-admins']);
    const approval = accepted.approval as ApprovalView;
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt)).toBe(168 * HOUR_MS);
    expect(replayed.status, replayed.text).toBe(202);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(accepted);
    // The email is reserved first, then the name: both stay held by the waiting request.
    expect(expectError(taken, 409, 'email').message).toContain(accepted.requestId);
    expect(await env.pipeline.deps.requests.reservationHolder('name', accepted.accountName)).toBe(
      accepted.requestId,
    );
    expect(env.pipeline.runner.get(accepted.requestId)).toBeUndefined();
    expect(creations(env, accepted.accountName)).toEqual([]);
    const current = await view(env, accepted.requestId);
    expect(current).toMatchObject({ status: 'awaiting-approval', steps: [], approval });

    // Assess: one message to the approvers, however often the submission was sent.
    const asked = slackSince(env, slackBefore).filter((m) => m.rendered.includes(accepted.accountName));
    expect(asked).toHaveLength(1);
    const { payload, rendered } = asked[0]!;
    expect(payload.channel).toBe('#vend-prod');
    expect(payload.text).toContain('<@U0PLATFORM1>');
    for (const shown of [
      DEVELOPER,
      '@U012ALICE',
      accepted.accountName,
      'Workloads/Prod',
      'alice@example[.]com',
      '1000 USD a month',
      'cost-center=cc-1234',
      'platform-admins',
      approval.expiresAt.slice(0, 16).replace('T', ' '),
      '[Approve] [Deny]',
    ]) {
      expect(rendered, shown).toContain(shown);
    }
    const actions = (payload.blocks as { type: string; elements?: unknown[] }[]).find(
      (b) => b.type === 'actions',
    );
    expect(actions?.elements).toEqual([
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value: accepted.requestId,
      },
      {
        type: 'button',
        action_id: DENY_ACTION,
        text: { type: 'plain_text', text: 'Deny' },
        style: 'danger',
        value: accepted.requestId,
      },
    ]);
  });

  it('refuses the requester and principals not granted approve, naming who may decide, and changes nothing', async () => {
    // Prepare
    const accepted = await submit(env);
    const before = await view(env, accepted.requestId);

    // Act
    const byRequester = await decide(env, accepted.requestId, { decision: 'approve' });
    const byDeveloper = await decide(env, accepted.requestId, { decision: 'approve' }, DEVELOPER_ROLE);
    const byAuditor = await decide(env, accepted.requestId, { decision: 'deny', reason: 'no' }, AUDITOR);

    // Assess
    const requesterError = expectError(byRequester, 403, 'Authorization');
    expect(requesterError.message).toContain('asked for request');
    for (const refused of [byRequester, byDeveloper, byAuditor]) {
      const error = expectError(refused, 403, 'Authorization');
      expect(error.fix).toContain('platform-admins (arn:aws:iam::000000000000:role/PlatformAdmin)');
    }
    expect(expectError(byDeveloper, 403).message).toContain(`${DEVELOPER_ROLE.arn} may not decide`);
    expect(await view(env, accepted.requestId)).toEqual(before);
    expect(env.pipeline.runner.get(accepted.requestId)).toBeUndefined();
  });

  it('vends the account once PlatformAdmin approves, records who decided, and tells the requester', async () => {
    // Prepare
    const accepted = await submit(env);
    const slackBefore = env.pipeline.slack.messages().length;

    // Act
    const approved = await decide(
      env,
      accepted.requestId,
      { decision: 'approve', reason: 'payments go live in May' },
      PLATFORM_ADMIN,
    );
    const again = await decide(
      env,
      accepted.requestId,
      { decision: 'deny', reason: 'changed my mind' },
      PLATFORM_ADMIN,
    );

    // Assess
    expect(approved.status, approved.text).toBe(200);
    const decided = requestViewSchema.parse(approved.body);
    expect(decided.approval?.decision).toMatchObject({
      outcome: 'approved',
      by: PLATFORM_ADMIN.arn,
      as: ['platform-admins'],
      via: 'api',
      reason: 'payments go live in May',
    });
    const twice = expectError(again, 409, 'requestId');
    expect(twice.message).toContain(`approved by ${PLATFORM_ADMIN.arn}`);
    const done = await eventually(
      env,
      () => view(env, accepted.requestId),
      (current) => current.status === 'succeeded' && current.notification?.kind === 'success',
      'the approved request to be vended',
    );
    expect(done.accountId).toMatch(/^\d{12}$/);
    expect(done.approval?.decision?.outcome).toBe('approved');
    expect(creations(env, accepted.accountName)).toHaveLength(1);
    const told = slackSince(env, slackBefore).filter((m) => m.rendered.includes(accepted.accountName));
    const approvedMessage = told.find((m) => m.rendered.includes('was approved by'));
    expect(approvedMessage?.payload.text).toContain('<@U012ALICE>');
    expect(approvedMessage?.payload.channel).toBe('#vend-prod');
    expect(approvedMessage?.rendered).toContain(PLATFORM_ADMIN.arn);
    expect(approvedMessage?.rendered).toContain('payments go live in May');
    expect(told.some((m) => m.rendered.includes('is ready'))).toBe(true);
  });

  it('needs a reason to deny; a denial ends the request, frees its name for a new request and tells the requester why', async () => {
    // Prepare
    const name = freshName('ledger');
    const accepted = await submit(env, name);
    const slackBefore = env.pipeline.slack.messages().length;

    // Act
    const noReason = await decide(env, accepted.requestId, { decision: 'deny' }, PLATFORM_ADMIN);
    const blankReason = await decide(
      env,
      accepted.requestId,
      { decision: 'deny', reason: '  ' },
      PLATFORM_ADMIN,
    );
    const untouched = await view(env, accepted.requestId);
    const denied = await decide(
      env,
      accepted.requestId,
      { decision: 'deny', reason: 'use Workloads/Dev for <b>load</b> tests @channel' },
      PLATFORM_ADMIN,
    );
    const approveAfter = await decide(env, accepted.requestId, { decision: 'approve' }, PLATFORM_ADMIN);
    const anew = await env.call('POST', '/accounts', { body: prodBody(name) });

    // Assess
    expectError(noReason, 400, 'reason');
    expectError(blankReason, 400, 'reason');
    expect(untouched.status).toBe('awaiting-approval');
    expect(denied.status, denied.text).toBe(200);
    const ended = requestViewSchema.parse(denied.body);
    expect(ended.status).toBe('denied');
    expect(ended.approval?.decision).toMatchObject({
      outcome: 'denied',
      by: PLATFORM_ADMIN.arn,
      via: 'api',
      reason: 'use Workloads/Dev for <b>load</b> tests @channel',
    });
    expect(ended.notification).toMatchObject({ kind: 'decision', status: 'sent' });
    expect(expectError(approveAfter, 409, 'requestId').message).toContain(`denied by ${PLATFORM_ADMIN.arn}`);
    expect(anew.status, anew.text).toBe(202);
    expect(anew.body.requestId).not.toBe(accepted.requestId);
    expect(anew.body.status).toBe('awaiting-approval');
    expect(env.pipeline.runner.get(accepted.requestId)).toBeUndefined();
    expect(creations(env, accepted.accountName)).toEqual([]);
    const told = slackSince(env, slackBefore).find((m) => m.rendered.includes('was denied by'));
    expect(told?.payload.text).toContain('<@U012ALICE>');
    expect(told?.rendered).toContain(PLATFORM_ADMIN.arn);
    expect(told?.rendered).toContain('use Workloads/Dev for <b>load</b> tests');
    // What the approver typed is shown, never acted on: no markup, no @channel.
    expect(JSON.stringify(told?.payload)).not.toMatch(/<b>|@channel|<!channel>/);
  });

  it('answers a denial at once while Slack is down, and the deliverer tells the requester later', async () => {
    // Prepare
    const accepted = await submit(env);
    env.pipeline.slack.failNext(503, 1);

    // Act
    const denied = await decide(
      env,
      accepted.requestId,
      { decision: 'deny', reason: 'not this quarter' },
      PLATFORM_ADMIN,
    );
    const delivered = await eventually(
      env,
      async () => {
        await env.pipeline.deliver();
        return view(env, accepted.requestId);
      },
      (current) => current.notification?.status === 'sent',
      'the deliverer to send the denial',
    );

    // Assess
    expect(denied.status, denied.text).toBe(200);
    expect(denied.body.notification).toMatchObject({ kind: 'decision', status: 'pending' });
    expect(delivered.notification?.kind).toBe('decision');
    const told = env.pipeline.slack
      .messages()
      .filter((m) => m.rendered.includes(accepted.accountName) && m.rendered.includes('not this quarter'));
    expect(told).toHaveLength(1);
  });

  it('lets exactly one of concurrent decisions win', async () => {
    // Prepare
    const requests = await Promise.all([1, 2, 3, 4].map(() => submit(env)));

    // Act
    const rounds = await Promise.all(
      requests.map((accepted) =>
        Promise.all([
          decide(env, accepted.requestId, { decision: 'approve' }, PLATFORM_ADMIN),
          decide(env, accepted.requestId, { decision: 'deny', reason: 'not now' }, PLATFORM_ADMIN),
        ]),
      ),
    );

    // Assess
    for (const [i, [approve, deny]] of rounds.entries()) {
      const { requestId } = requests[i]!;
      expect([approve.status, deny.status].sort(), `${approve.text} ${deny.text}`).toEqual([200, 409]);
      const winner = approve.status === 200 ? 'approved' : 'denied';
      const stored = await env.pipeline.deps.requests.get(requestId);
      expect(stored?.approval?.decision?.outcome).toBe(winner);
      expect(env.pipeline.runner.get(requestId) !== undefined).toBe(winner === 'approved');
    }
  });

  it('refuses a body with unknown fields or another decision, an unknown request, and one needing no approval', async () => {
    // Prepare
    const accepted = await submit(env);
    const dev = await env.call('POST', '/accounts', {
      body: { ...prodBody(freshName('dev')), organizationalUnit: 'Workloads/Dev' },
    });
    expect(dev.status, dev.text).toBe(202);

    // Act
    const unknown = await decide(
      env,
      accepted.requestId,
      { decision: 'approve', approver: 'me', force: true },
      PLATFORM_ADMIN,
    );
    const other = await decide(env, accepted.requestId, { decision: 'maybe' }, PLATFORM_ADMIN);
    const missing = await decide(env, 'req-does-not-exist', { decision: 'approve' }, PLATFORM_ADMIN);
    const needless = await decide(env, dev.body.requestId, { decision: 'approve' }, PLATFORM_ADMIN);

    // Assess
    const error = expectError(unknown, 400, 'approver, force');
    expect(error.message).toBe('unknown fields approver, force');
    expectError(other, 400, 'decision');
    expectError(missing, 404, 'requestId');
    expect(expectError(needless, 409, 'requestId').message).toMatch(/not awaiting approval: its status is/);
    expect((await view(env, accepted.requestId)).status).toBe('awaiting-approval');
  });

  it('starts an approved request whose start was lost: the reaper picks it up', async () => {
    // Prepare: an API whose StartExecution fails after the decision is written.
    const accepted = await submit(env);
    const lost = await env.startApi({
      starter: { start: () => Promise.reject(new Error('the Lambda timed out')) },
    });

    // Act
    let approved: Answer;
    try {
      approved = await lost.call('POST', `/accounts/requests/${accepted.requestId}/approval`, {
        body: { decision: 'approve' },
        credentials: PLATFORM_ADMIN.credentials,
      });
    } finally {
      await lost.close();
    }
    const notStarted = env.pipeline.runner.get(accepted.requestId);
    const reaped = await env.pipeline.reap({ reapAfterMs: 0 });

    // Assess
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.status).toBe('pending');
    expect(notStarted).toBeUndefined();
    expect(reaped.started).toContain(accepted.requestId);
    const done = await eventually(
      env,
      () => view(env, accepted.requestId),
      (current) => current.status === 'succeeded',
      'the reaped request to be vended',
    );
    expect(done.approval?.decision?.outcome).toBe('approved');
  });

  it('ends a request whose approval has expired when someone tries to decide it', async () => {
    // Prepare: a week and a day later on the pipeline's clock.
    const accepted = await submit(env);
    const deps = {
      ...env.pipeline.deps,
      now: () => env.pipeline.deps.now() + 8 * 24 * HOUR_MS,
      starter: env.pipeline.runner,
    };
    const decider = {
      by: PLATFORM_ADMIN.arn,
      via: 'api' as const,
      grants: grantsFor(env.pipeline.config, {
        arn: PLATFORM_ADMIN.arn,
        matchArn: matchArnOf(PLATFORM_ADMIN.arn),
      }),
    };

    // Act
    const refusal = await decideApproval(deps, {
      requestId: accepted.requestId,
      decision: 'approve',
      decider,
    }).catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(HttpError);
    expect((refusal as HttpError).statusCode).toBe(409);
    expect((refusal as HttpError).message).toContain('its status is expired');
    const stored = await env.pipeline.deps.requests.get(accepted.requestId);
    expect(stored?.status).toBe('expired');
    expect(stored?.approval?.decision).toMatchObject({ outcome: 'expired', via: 'expiry' });
    expect(env.pipeline.runner.get(accepted.requestId)).toBeUndefined();
    expect(await env.pipeline.deps.requests.reservationHolder('name', accepted.accountName)).toBeUndefined();
  });
});

describe('expiry of undecided requests on the simulated clock', () => {
  /** Simulated milliseconds per real one: the reaper's five-minute runs follow each other within milliseconds. */
  const FAST = 100_000;
  let env: ApiEnv;
  beforeAll(async () => {
    const seed = seedWithApprovers();
    const base = readConfigFile(DEFAULT_CONFIG);
    const config = {
      ...base,
      profiles: {
        ...base.profiles,
        'Workloads/Prod': {
          ...base.profiles['Workloads/Prod'],
          approval: { required: true, approvers: ['platform-admins'], expiresAfterHours: 2 },
        },
      },
    };
    env = await startApiEnv({
      seed,
      config,
      clock: steppedClock(FAST),
      speed: FAST,
      reapIntervalMs: 5 * 60_000,
    });
  });
  afterAll(() => env.close());

  it('the scheduled reaper expires a request nobody decided, frees its name and tells the requester what to do', async () => {
    // Prepare
    const name = freshName('ledger');
    const accepted = await submit(env, name);
    const slackBefore = env.pipeline.slack.messages().length;

    // Act: wait on the pipeline's clock, five simulated minutes at a time, for the reaper.
    const expired = await eventuallyEvery(
      env,
      5 * 60_000,
      () => view(env, accepted.requestId),
      (current) => current.status === 'expired' && current.notification !== undefined,
    );
    const anew = await env.call('POST', '/accounts', { body: prodBody(name) });

    // Assess
    const decision = expired.approval?.decision;
    expect(decision).toMatchObject({ outcome: 'expired', via: 'expiry' });
    expect(decision?.by).toBeUndefined();
    expect(Date.parse(decision!.at)).toBeGreaterThanOrEqual(Date.parse(expired.approval!.expiresAt));
    expect(Date.parse(decision!.at) - Date.parse(expired.approval!.expiresAt)).toBeLessThanOrEqual(
      6 * 60_000,
    );
    expect(expired.notification).toMatchObject({ kind: 'decision', status: 'sent' });
    expect(env.pipeline.runner.get(accepted.requestId)).toBeUndefined();
    expect(creations(env, accepted.accountName)).toEqual([]);
    expect(anew.status, anew.text).toBe(202);
    const told = slackSince(env, slackBefore).find((m) => m.rendered.includes('expired'));
    expect(told?.payload.text).toContain('<@U012ALICE>');
    expect(told?.rendered).toContain('What to do');
    expect(told?.rendered).toContain('ask again');
  });
});

/** Polls `probe`, sleeping `stepMs` of the pipeline's clock between looks, until `condition` holds (20 s real at most). */
async function eventuallyEvery<T>(
  env: ApiEnv,
  stepMs: number,
  probe: () => Promise<T>,
  condition: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out: last ${JSON.stringify(value)}`);
    await env.pipeline.deps.sleep(stepMs);
  }
}
