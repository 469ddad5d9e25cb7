import { resolve } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecideApproval, DecisionInput } from '../../functions/shared/approval.ts';
import { readConfigFile } from '../../functions/shared/config.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { HttpError } from '../../functions/shared/errors.ts';
import type { RequestRecord } from '../../functions/shared/model.ts';
import { signSlackRequest } from '../../functions/shared/slack-signature.ts';
import type { WorkflowStarter } from '../../functions/shared/submit.ts';
import {
  createSlackInteractionsHandler,
  type SlackInteractionsOptions,
  type SlackReply,
} from '../../functions/slack-interactions/core.ts';

const SECRET = 'c0ffee0123456789abcdef0123456789';
const REQUEST_ID = 'req-0b8e2f4a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const RESPONSE_URL = 'https://hooks.slack.com/actions/T0VEND/123456/abcdef';
const config = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));

/** The approval message as Slack hands it back in the payload: its text, its details and its two buttons. */
const APPROVAL_MESSAGE = {
  type: 'message',
  ts: '1796212800.000100',
  text: 'Approval needed',
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text: 'Request for plat-prod-ledger in Workloads/Prod' } },
    {
      type: 'actions',
      block_id: 'vend.approval',
      elements: [
        {
          type: 'button',
          action_id: 'vend.approve',
          text: { type: 'plain_text', text: 'Approve' },
          value: REQUEST_ID,
        },
        {
          type: 'button',
          action_id: 'vend.deny',
          text: { type: 'plain_text', text: 'Deny' },
          value: REQUEST_ID,
        },
      ],
    },
  ],
};

function payload(overrides: Record<string, unknown> = {}, action: Record<string, unknown> = {}) {
  return {
    type: 'block_actions',
    user: { id: 'U0PLATFORM1', username: 'platform' },
    team: { id: 'T0VEND' },
    response_url: RESPONSE_URL,
    message: APPROVAL_MESSAGE,
    actions: [{ type: 'button', action_id: 'vend.approve', value: REQUEST_ID, ...action }],
    ...overrides,
  };
}

function formBody(value: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(value) }).toString();
}

function event(
  body: string,
  headers: Record<string, string> = signSlackRequest(SECRET, body),
): APIGatewayProxyEvent {
  return {
    body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    isBase64Encoded: false,
    httpMethod: 'POST',
    path: '/slack/interactions',
  } as unknown as APIGatewayProxyEvent;
}

function record(): RequestRecord {
  return {
    requestId: REQUEST_ID,
    status: 'pending',
    request: {
      requestId: REQUEST_ID,
      name: 'ledger',
      accountName: 'plat-prod-ledger',
      email: 'aws+plat-prod-ledger@example.com',
      organizationalUnit: { id: 'ou-abcd-33333333', path: 'Workloads/Prod' },
      owner: 'alice@example.com',
      requester: { principal: 'arn:aws:iam::000000000000:role/Developer', slackUserId: 'U012ALICE' },
      budget: { monthlyLimitUsd: 1000, thresholds: [] },
      tags: {},
      submittedAt: '2026-12-02T12:00:00.000Z',
    },
    steps: {},
    createdAt: '2026-12-02T12:00:00.000Z',
    updatedAt: '2026-12-02T12:00:00.000Z',
  };
}

describe('POST /slack/interactions', () => {
  let decisions: DecisionInput[];
  let remembered: string[];
  let posted: { url: string; reply: SlackReply }[];
  let log: {
    info: ReturnType<typeof vi.fn>;
    warn: ReturnType<typeof vi.fn>;
    error: ReturnType<typeof vi.fn>;
  };
  let decide: DecideApproval;

  beforeEach(() => {
    decisions = [];
    remembered = [];
    posted = [];
    log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    decide = async (_deps, input) => {
      decisions.push(input);
      return { ...record(), status: input.decision === 'approve' ? 'pending' : 'denied' };
    };
  });

  function handler(overrides: Partial<SlackInteractionsOptions> = {}) {
    const deps = {
      config,
      log,
      starter: { start: async () => undefined } satisfies WorkflowStarter,
      slackCallbacks: {
        remember: async (timestamp: number, signature: string) => {
          const key = `${timestamp}#${signature}`;
          if (remembered.includes(key)) return false;
          remembered.push(key);
          return true;
        },
      },
    } as unknown as Deps & { starter: WorkflowStarter };
    return createSlackInteractionsHandler({
      deps,
      signingSecret: async () => SECRET,
      decide: (d, input) => decide(d, input),
      respond: async (url, reply) => void posted.push({ url, reply }),
      ...overrides,
    });
  }

  it('approves as the Slack member with its grants, and replaces the buttons with the outcome', async () => {
    const answer = await handler()(event(formBody(payload())));

    expect(answer.statusCode).toBe(200);
    expect(decisions).toHaveLength(1);
    const [decision] = decisions;
    expect(decision).toMatchObject({
      requestId: REQUEST_ID,
      decision: 'approve',
      decider: { by: 'slack:U0PLATFORM1', via: 'slack', slackUserId: 'U0PLATFORM1' },
    });
    expect(decision).not.toHaveProperty('reason');
    expect(decision!.decider.grants.entries).toEqual(['platform-admins']);
    expect(decision!.decider.grants.mayApprove('Workloads/Prod')).toBe(true);

    const reply = JSON.parse(answer.body) as SlackReply;
    expect(reply.replace_original).toBe(true);
    expect(reply.text).toBe(
      ':white_check_mark: <@U0PLATFORM1> approved request `' +
        REQUEST_ID +
        '` (`plat-prod-ledger` in `Workloads/Prod`): the account is being created.',
    );
    expect(reply.blocks).toEqual([
      APPROVAL_MESSAGE.blocks[0],
      { type: 'section', text: { type: 'mrkdwn', text: reply.text, verbatim: true } },
    ]);
    expect(posted).toEqual([{ url: RESPONSE_URL, reply }]);
    expect(remembered).toHaveLength(1);
  });

  it('denies with a reason that says who denied in Slack (a button has no reason box)', async () => {
    const answer = await handler()(event(formBody(payload({}, { action_id: 'vend.deny' }))));
    expect(answer.statusCode).toBe(200);
    expect(decisions).toEqual([
      expect.objectContaining({ decision: 'deny', reason: 'denied in Slack by U0PLATFORM1' }),
    ]);
    expect((JSON.parse(answer.body) as SlackReply).text).toContain('denied request');
  });

  it('gives a member no grants the configuration does not list, and shows the refusal only to that member', async () => {
    decide = async (_deps, input) => {
      decisions.push(input);
      throw new HttpError(403, `slack:U0STRANGER may not approve requests in Workloads/Prod`, {
        fix: 'Ask a member of platform-admins.',
      });
    };
    const answer = await handler()(event(formBody(payload({ user: { id: 'U0STRANGER' } }))));

    expect(answer.statusCode).toBe(200);
    expect(decisions[0]!.decider.grants.entries).toEqual([]);
    expect(decisions[0]!.decider.grants.mayApprove('Workloads/Prod')).toBe(false);
    const reply = JSON.parse(answer.body) as SlackReply;
    expect(reply).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text:
        ':no_entry: Vend did not approve request `' +
        REQUEST_ID +
        '`: slack:U0STRANGER may not approve requests in Workloads/Prod. Ask a member of platform-admins.',
    });
    expect(posted).toEqual([{ url: RESPONSE_URL, reply }]);
  });

  it.each([404, 409])('tells the member a %i refusal in words', async (status) => {
    decide = async () => {
      throw new HttpError(status, `request ${REQUEST_ID} is not awaiting approval`);
    };
    const reply = JSON.parse((await handler()(event(formBody(payload())))).body) as SlackReply;
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('is not awaiting approval');
  });

  it('says nothing internal when the decision fails for another reason', async () => {
    decide = async () => {
      throw new Error('ProvisionedThroughputExceededException: table vend-registry arn:aws:dynamodb:...');
    };
    const answer = await handler()(event(formBody(payload())));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).not.toMatch(/Provisioned|dynamodb|vend-registry/);
    expect((JSON.parse(answer.body) as SlackReply).text).toContain('could not take your decision');
    expect(log.error).toHaveBeenCalledWith(
      'a decision in Slack failed',
      expect.objectContaining({ error: expect.stringContaining('ProvisionedThroughputExceededException') }),
    );
  });

  it.each([
    ['another action', payload({}, { action_id: 'vend.something-else' })],
    ['another kind of interaction', payload({ type: 'view_submission' })],
    ['no actions', payload({ actions: [] })],
  ])('answers %s politely and does nothing', async (_what, body) => {
    const answer = await handler()(event(formBody(body)));
    expect(answer.statusCode).toBe(200);
    expect((JSON.parse(answer.body) as SlackReply).text).toContain(
      'only handles the Approve and Deny buttons',
    );
    expect(decisions).toEqual([]);
    expect(posted).toEqual([]);
  });

  it.each([
    ['a value that is no request id', payload({}, { value: '../../etc' })],
    ['a user id that is not a member id', payload({ user: { id: 'not a member' } })],
  ])('decides nothing for %s', async (_what, body) => {
    const answer = await handler()(event(formBody(body)));
    expect(answer.statusCode).toBe(200);
    expect((JSON.parse(answer.body) as SlackReply).text).toContain('nothing was decided');
    expect(decisions).toEqual([]);
  });

  it("decides but posts nowhere when the response_url is not Slack's", async () => {
    const answer = await handler()(
      event(formBody(payload({ response_url: 'https://evil.example/collect' }))),
    );
    expect(answer.statusCode).toBe(200);
    expect(decisions).toHaveLength(1);
    expect(posted).toEqual([]);
  });

  it('still answers Slack when the response_url does not take the reply', async () => {
    const answer = await handler({
      respond: async () => {
        throw new Error('the response_url answered HTTP 404');
      },
    })(event(formBody(payload())));
    expect(answer.statusCode).toBe(200);
    expect(log.warn).toHaveBeenCalledWith('the reply to Slack’s response_url failed', expect.anything());
  });

  it('refuses an unsigned, a badly signed or a replayed callback with 401, deciding and posting nothing', async () => {
    const body = formBody(payload());
    const signed = signSlackRequest(SECRET, body);
    const answers = [
      await handler()(event(body, {})),
      await handler()(event(body, signSlackRequest('not-the-secret-0123456789abcdef', body))),
      await handler()(event(body, signed)),
      await handler()(event(body, signed)),
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 200, 401]);
    expect(JSON.parse(answers[0]!.body)).toEqual({
      error: {
        status: 401,
        message: 'the request does not carry a valid Slack signature',
        fix: "Only Slack calls this endpoint, signed with the app's signing secret, within five minutes, once.",
      },
    });
    expect(decisions).toHaveLength(1);
    expect(posted).toHaveLength(1);
    expect(log.warn.mock.calls.map(([, extra]) => extra.reason)).toEqual([
      'missing X-Slack-Request-Timestamp or X-Slack-Signature',
      'signature does not match',
      'replayed',
    ]);
  });

  it('refuses every callback with 401 while no signing secret is configured', async () => {
    const body = formBody(payload());
    const answer = await handler({ signingSecret: async () => undefined })(event(body));
    expect(answer.statusCode).toBe(401);
    expect(decisions).toEqual([]);
    expect(remembered).toEqual([]);
  });

  it('checks the signature over the bytes of a base64-encoded body', async () => {
    const body = formBody(payload());
    const encoded = { ...event(Buffer.from(body).toString('base64'), signSlackRequest(SECRET, body)) };
    encoded.isBase64Encoded = true;
    expect((await handler()(encoded)).statusCode).toBe(200);
  });

  it('refuses a signed body that holds no payload field with 400', async () => {
    const answer = await handler()(event('text=hello'));
    expect(answer.statusCode).toBe(400);
    expect(decisions).toEqual([]);
  });

  it('answers 500, saying nothing internal, when the signing secret cannot be read', async () => {
    const answer = await handler({
      signingSecret: async () => {
        throw new Error('AccessDeniedException: arn:aws:secretsmanager:us-east-1:000000000000:secret:x');
      },
    })(event(formBody(payload())));
    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toMatch(/AccessDenied|secretsmanager/);
    expect(decisions).toEqual([]);
  });
});
