import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DecideApproval, DecisionInput } from '../../functions/shared/approval.ts';
import { HttpError } from '../../functions/shared/errors.ts';
import type { RequestRecord } from '../../functions/shared/model.ts';
import { signSlackRequest } from '../../functions/shared/slack-signature.ts';
import { runSlackCli } from '../../local/cli/slack.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { SPEED } from './harness.ts';

/**
 * `POST /slack/interactions` through the local API over HTTP, on the local pipeline with its registry, with a
 * stand-in for `decideApproval` that applies the one rule these tests need (the decider's grants for the request's
 * OU) and records what it was asked. The real decision is tested with its own code.
 */

const REQUEST_ID = 'req-7d0f6c2e-5b1a-4c3d-9e8f-112233445566';

function awaitingRecord(): RequestRecord {
  const now = new Date().toISOString();
  return {
    requestId: REQUEST_ID,
    status: 'awaiting-approval',
    request: {
      requestId: REQUEST_ID,
      name: 'ledger',
      accountName: 'plat-prod-ledger',
      email: 'aws+plat-prod-ledger@example.com',
      organizationalUnit: { id: 'ou-abcd-33333333', path: 'Workloads/Prod' },
      owner: 'alice@example.com',
      requester: { principal: 'arn:aws:iam::000000000000:role/Developer', slackUserId: 'U012ALICE' },
      budget: { monthlyLimitUsd: 1000, thresholds: [] },
      tags: { 'cost-center': 'cc-1234' },
      submittedAt: now,
    },
    steps: {},
    approval: { approvers: ['platform-admins'], requestedAt: now, expiresAt: now },
    createdAt: now,
    updatedAt: now,
  };
}

/** The approval message as the approval helper sends it: text, details, and Approve and Deny buttons. */
const APPROVAL_MESSAGE = {
  text: 'Approval needed: plat-prod-ledger in Workloads/Prod',
  blocks: [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: 'Approval needed: `plat-prod-ledger` in `Workloads/Prod`' },
    },
    {
      type: 'actions',
      block_id: 'vend.approval',
      elements: [
        {
          type: 'button',
          action_id: 'vend.approve',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: REQUEST_ID,
        },
        {
          type: 'button',
          action_id: 'vend.deny',
          style: 'danger',
          text: { type: 'plain_text', text: 'Deny' },
          value: REQUEST_ID,
        },
      ],
    },
  ],
};

describe('POST /slack/interactions on the local API', () => {
  let pipeline: LocalPipeline;
  let url: string;
  const decisions: DecisionInput[] = [];
  const decide: DecideApproval = async (deps, input) => {
    decisions.push(input);
    const record = await deps.requests.get(input.requestId);
    if (!record) throw new HttpError(404, `there is no request ${input.requestId}`);
    const ou = record.request.organizationalUnit.path;
    if (!input.decider.grants.mayApprove(ou)) {
      throw new HttpError(403, `${input.decider.by} may not approve requests in ${ou}`, {
        fix: 'Ask a member of platform-admins.',
      });
    }
    return record;
  };

  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      apiPort: 0,
      clock: steppedClock(SPEED),
      speed: SPEED,
      decide,
    });
    url = `${pipeline.api!.url}/slack/interactions`;
    const created = await pipeline.deps.requests.create(awaitingRecord());
    expect(created.created).toBe(true);
  }, 30_000);
  afterAll(() => pipeline?.close());
  beforeEach(() => {
    decisions.length = 0;
  });

  /** A block_actions payload pressing `actionId` as `userId`, as Slack sends it (form-encoded). */
  function body(userId: string, actionId = 'vend.approve'): string {
    return new URLSearchParams({
      payload: JSON.stringify({
        type: 'block_actions',
        user: { id: userId },
        team: { id: 'TLOCAL000' },
        // The local sink: a test never reaches Slack.
        response_url: `${new URL(pipeline.slack.url).origin}/actions/1/from-test`,
        actions: [{ type: 'button', action_id: actionId, value: REQUEST_ID }],
      }),
    }).toString();
  }

  async function post(text: string, headers: Record<string, string>) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: text,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** What the registry holds of the request, to show a refusal changed nothing. */
  const stored = () => pipeline.deps.requests.get(REQUEST_ID);

  it('refuses an unsigned callback with 401 and decides nothing', async () => {
    const before = await stored();
    const answer = await post(body('U0PLATFORM1'), {});
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { status: 401 } });
    expect(decisions).toEqual([]);
    expect(await stored()).toEqual(before);
  });

  it('refuses a callback signed with another secret with 401', async () => {
    const text = body('U0PLATFORM1');
    const answer = await post(text, signSlackRequest('0123456789abcdef0123456789abcdef', text));
    expect(answer.status).toBe(401);
    expect(decisions).toEqual([]);
  });

  it('refuses a callback signed ten minutes ago with 401', async () => {
    const text = body('U0PLATFORM1');
    const answer = await post(
      text,
      signSlackRequest(pipeline.slackSigningSecret, text, Date.now() - 10 * 60_000),
    );
    expect(answer.status).toBe(401);
    expect(decisions).toEqual([]);
  });

  it('decides a valid press of Approve by a configured approver, as that Slack member, once', async () => {
    const text = body('U0PLATFORM1');
    const headers = signSlackRequest(pipeline.slackSigningSecret, text);
    const answer = await post(text, headers);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ replace_original: true, text: expect.stringContaining('approved') });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      requestId: REQUEST_ID,
      decision: 'approve',
      decider: { by: 'slack:U0PLATFORM1', via: 'slack', slackUserId: 'U0PLATFORM1' },
    });
    expect(decisions[0]!.decider.grants.entries).toEqual(['platform-admins']);

    // The same signed callback again is a replay.
    expect((await post(text, headers)).status).toBe(401);
    expect(decisions).toHaveLength(1);
  });

  it('answers a member the configuration does not list with the refusal, in Slack, changing nothing', async () => {
    const before = await stored();
    const text = body('U0STRANGER');
    const answer = await post(text, signSlackRequest(pipeline.slackSigningSecret, text));

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `:no_entry: Vend did not approve request \`${REQUEST_ID}\`: slack:U0STRANGER may not approve requests in Workloads/Prod. Ask a member of platform-admins.`,
    });
    expect(decisions[0]!.decider.grants.entries).toEqual([]);
    expect(await stored()).toEqual(before);
  });
});

describe('the Slack sink presses the buttons of a message', () => {
  let pipeline: LocalPipeline;
  const decisions: DecisionInput[] = [];

  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      apiPort: 0,
      clock: steppedClock(SPEED),
      speed: SPEED,
      decide: async (_deps, input) => {
        decisions.push(input);
        return { ...awaitingRecord(), status: input.decision === 'approve' ? 'pending' : 'denied' };
      },
    });
  }, 30_000);
  afterAll(() => pipeline?.close());
  beforeEach(() => {
    decisions.length = 0;
  });

  async function postApprovalMessage(): Promise<number> {
    const response = await fetch(pipeline.slack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(APPROVAL_MESSAGE),
    });
    expect(response.status).toBe(200);
    return pipeline.slack.messages().length;
  }

  it('through its URL: signed as Slack does, and the reply replaces the message', async () => {
    const number = await postApprovalMessage();
    const sink = new URL(pipeline.slack.url).origin;

    const response = await fetch(`${sink}/messages/${number}/actions/vend.approve?user=U0PLATFORM1`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { status: number; reply: { text: string } };
    expect(answer.status).toBe(200);
    expect(answer.reply.text).toContain('<@U0PLATFORM1> approved request');
    expect(decisions).toEqual([
      expect.objectContaining({
        requestId: REQUEST_ID,
        decision: 'approve',
        decider: expect.objectContaining({ by: 'slack:U0PLATFORM1' }),
      }),
    ]);

    const reply = pipeline.slack.messages().at(-1)!;
    expect(reply).toMatchObject({ replyTo: number, payload: { replace_original: true } });
    expect(reply.rendered).toContain('Approval needed: plat-prod-ledger in Workloads/Prod');
    expect(reply.rendered).toContain('@U0PLATFORM1 approved request');
    expect(reply.rendered).not.toContain('[Approve]');
  });

  it('through npm run slack -- press <message> deny --as <member>', async () => {
    const number = await postApprovalMessage();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSlackCli(['press', String(number), 'deny', '--as', 'U0PLATFORM1'], {
      env: { VEND_SLACK_PORT: new URL(pipeline.slack.url).port },
      fetch,
      out: (text) => out.push(text),
      err: (text) => err.push(text),
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toBe(
      `Pressed vend.deny on message ${number} as U0PLATFORM1: /slack/interactions answered 200.`,
    );
    expect(out[1]).toContain('❌ @U0PLATFORM1 denied request req-7d0f6c2e-5b1a-4c3d-9e8f-112233445566');
    expect(decisions).toEqual([
      expect.objectContaining({ decision: 'deny', reason: 'denied in Slack by U0PLATFORM1' }),
    ]);
  });

  it('names the fix when the message or the button does not exist, pressing nothing', async () => {
    const number = await postApprovalMessage();
    const sink = `http://127.0.0.1:${new URL(pipeline.slack.url).port}`;
    const press = (path: string) => fetch(`${sink}${path}`, { method: 'POST' });

    const missing = await press(`/messages/${number + 100}/actions/vend.approve?user=U0PLATFORM1`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/there is no message \d+/);
    const button = await press(`/messages/${number}/actions/vend.escalate?user=U0PLATFORM1`);
    expect(button.status).toBe(404);
    expect(((await button.json()) as { error: string }).error).toContain(
      'its buttons: vend.approve, vend.deny',
    );
    const user = await press(`/messages/${number}/actions/vend.approve`);
    expect(user.status).toBe(400);
    expect(((await user.json()) as { error: string }).error).toContain('is not a Slack member id');
    expect(decisions).toEqual([]);
  });
});
