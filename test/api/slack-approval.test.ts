import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestAcceptedSchema, requestViewSchema } from '../../functions/api/schemas.ts';
import { APPROVE_ACTION, DENY_ACTION } from '../../functions/shared/approval-messages.ts';
import { buttonsOf, type PressResult } from '../../local/slack-sink.ts';
import { DEVELOPER_ROLE, prodBody, seedWithApprovers } from './approvers.ts';
import { type ApiEnv, eventually, startApiEnv } from './harness.ts';

/**
 * Approving from Slack, end to end: a Workloads/Prod request waits for approval, the approvers' message carries the
 * buttons, and the Slack sink presses them as Slack would (signed with the pipeline's signing secret) through
 * `POST /slack/interactions` of the pipeline's own API, which decides with the real `decideApproval`.
 */

let names = 0;
const freshName = (what: string) => `${what}-${++names}-${Math.random().toString(36).slice(2, 6)}`;

describe('approving from Slack', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv({ seed: seedWithApprovers(), apiPort: 0 });
  });
  afterAll(() => env.close());

  /** Submits a Prod request as Developer and finds the approvers' message with its buttons. */
  async function awaitingRequest() {
    const name = freshName('ledger');
    const answer = await env.call('POST', '/accounts', {
      body: prodBody(name),
      credentials: DEVELOPER_ROLE.credentials,
    });
    expect(answer.status, answer.text).toBe(202);
    const { requestId, status } = requestAcceptedSchema.parse(answer.body);
    expect(status).toBe('awaiting-approval');
    const message = await eventually(
      env,
      async () =>
        env.pipeline.slack
          .messages()
          .find((m) => buttonsOf(m.payload).some((button) => button.value === requestId)),
      (found) => found !== undefined,
      `the approval message of ${requestId}`,
    );
    return { requestId, accountName: `plat-prod-${name}`, number: message!.number };
  }

  const press = (number: number, actionId: string, userId: string): Promise<PressResult> =>
    env.pipeline.slack.press(number, actionId, userId);

  async function view(requestId: string) {
    const answer = await env.call('GET', `/accounts/requests/${requestId}`, {
      credentials: DEVELOPER_ROLE.credentials,
    });
    expect(answer.status, answer.text).toBe(200);
    return requestViewSchema.parse(answer.body);
  }

  const creations = (accountName: string) =>
    Object.values(env.pipeline.cloud.cloud.state.createAccountRequests).filter(
      (creation) => creation.accountName === accountName,
    );

  it('refuses a Slack member the configuration does not name, in Slack, changing nothing', async () => {
    const { requestId, accountName, number } = await awaitingRequest();

    const result = await press(number, APPROVE_ACTION, 'U0STRANGER');

    expect(result.status).toBe(200);
    const reply = JSON.parse(result.body) as { response_type: string; text: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/^:no_entry: Vend did not approve request/);
    expect((await view(requestId)).status).toBe('awaiting-approval');
    expect(creations(accountName)).toEqual([]);
  });

  it('approves as the platform team’s member: the request runs to an account, and the decision names the member', async () => {
    const { requestId, accountName, number } = await awaitingRequest();
    const before = env.pipeline.slack.messages().length;

    const result = await press(number, APPROVE_ACTION, 'U0PLATFORM1');

    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ replace_original: true });
    const reply = env.pipeline.slack.messages().find((m) => m.number > before && m.replyTo === number);
    expect(reply?.rendered).toContain('@U0PLATFORM1 approved request');
    expect(buttonsOf(reply!.payload)).toEqual([]);
    const done = await eventually(
      env,
      () => view(requestId),
      (request) => request.status === 'succeeded',
      `${requestId} to succeed`,
    );
    expect(done.approval?.decision).toMatchObject({
      outcome: 'approved',
      by: 'slack:U0PLATFORM1',
      via: 'slack',
    });
    expect(creations(accountName)).toHaveLength(1);

    // The same button again: already decided, said only to the member.
    const again = JSON.parse((await press(number, APPROVE_ACTION, 'U0PLATFORM1')).body) as { text: string };
    expect(again.text).toMatch(/^:no_entry: Vend did not approve request/);
    expect(creations(accountName)).toHaveLength(1);
  });

  it('denies with the reason that says who denied in Slack, and frees the name', async () => {
    const { requestId, accountName, number } = await awaitingRequest();

    const result = await press(number, DENY_ACTION, 'U0PLATFORM1');

    expect(result.status).toBe(200);
    const denied = await view(requestId);
    expect(denied.status).toBe('denied');
    expect(denied.approval?.decision).toMatchObject({
      outcome: 'denied',
      by: 'slack:U0PLATFORM1',
      via: 'slack',
      reason: 'denied in Slack by U0PLATFORM1',
    });
    expect(creations(accountName)).toEqual([]);
    const name = accountName.replace(/^plat-prod-/, '');
    const again = await env.call('POST', '/accounts', {
      body: prodBody(name),
      credentials: DEVELOPER_ROLE.credentials,
    });
    expect(again.status, again.text).toBe(202);
  });
});
