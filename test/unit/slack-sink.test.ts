import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postToSlack, successMessage } from '../../functions/shared/slack.ts';
import { slackSignature } from '../../functions/shared/slack-signature.ts';
import { renderSlackMessage, type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { rawRequest } from './raw-request.ts';

const post = (url: string, body: string, contentType = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('the Slack sink', () => {
  let sink: SlackSink;
  let printed: string[];
  beforeEach(async () => {
    printed = [];
    sink = await startSlackSink({ print: (text) => printed.push(text) });
  });
  afterEach(() => sink.close());

  it('listens on 127.0.0.1 with a webhook-like URL', () => {
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\//);
  });

  it('answers 200 "ok" and keeps messages in order, parsed, with when they came', async () => {
    const first = await post(sink.url, JSON.stringify({ text: 'one' }));
    await post(
      sink.url,
      JSON.stringify({ text: 'two', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'two' } }] }),
    );
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('ok');
    const messages = sink.messages();
    expect(messages.map((m) => m.payload.text)).toEqual(['one', 'two']);
    expect(Date.parse(messages[0]!.receivedAt)).not.toBeNaN();
    expect(sink.requests()).toBe(2);
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON array', '[1]'],
    ['neither text nor blocks', '{"username":"x"}'],
    ['empty text', '{"text":"  "}'],
    ['blocks that are not a list', '{"blocks":"x"}'],
  ])('answers 400 invalid_payload to %s and keeps nothing', async (_what, body) => {
    const response = await post(sink.url, body);
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('invalid_payload');
    expect(sink.messages()).toEqual([]);
  });

  it('accepts a form-encoded payload field, as Slack does', async () => {
    const response = await post(
      sink.url,
      new URLSearchParams({ payload: '{"text":"form"}' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(response.status).toBe(200);
    expect(sink.messages()[0]!.payload.text).toBe('form');
  });

  it('refuses anything but POST', async () => {
    expect((await fetch(sink.url)).status).toBe(405);
  });

  it('fails the next posts as told, with the headers given, then accepts again', async () => {
    sink.failNext(429, 2, { 'Retry-After': '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post(sink.url, JSON.stringify({ text: `try ${i}` }));
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('3');
        expect(await response.text()).toBe('rate_limited');
      }
    }
    expect(statuses).toEqual([429, 429, 200]);
    expect(sink.messages().map((m) => m.payload.text)).toEqual(['try 2']);
    expect(sink.requests()).toBe(3);
  });

  it('answers injected statuses with Slack-like bodies', async () => {
    sink.failNext(404);
    sink.failNext(500);
    const a = await post(sink.url, '{"text":"x"}');
    const b = await post(sink.url, '{"text":"x"}');
    expect([a.status, await a.text(), b.status, await b.text()]).toEqual([
      404,
      'no_service',
      500,
      'internal_error',
    ]);
  });

  it('cancels queued failures when told to fail the next 0 posts', async () => {
    sink.failNext(404, 1000);
    sink.failNext(404, 0);
    expect((await post(sink.url, '{"text":"x"}')).status).toBe(200);
  });

  it('receives what postToSlack sends, retrying through an injected 429', async () => {
    sink.failNext(429, 1, { 'Retry-After': '1' });
    const waits: number[] = [];
    const message = successMessage({
      request: {
        requestId: 'req-1',
        name: 'payments',
        accountName: 'plat-dev-payments',
        email: 'aws+plat-dev-payments@example.com',
        organizationalUnit: { id: 'ou-1', path: 'Workloads/Dev' },
        owner: 'alice@example.com',
        requester: { principal: 'alice', slackUserId: 'U012ALICE' },
        budget: { monthlyLimitUsd: 200, thresholds: [] },
        tags: { note: '<!channel> & friends' },
        submittedAt: '2026-05-20T10:00:00.000Z',
      },
      accountId: '123456789012',
      roles: [{ name: 'VendAdmin', trustedAccountId: '111111111111', requireMfa: true }],
    });
    await postToSlack(sink.url, message, { sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([1000]);
    expect(sink.messages()).toHaveLength(1);
    expect(sink.messages()[0]!.payload).toEqual(JSON.parse(JSON.stringify(message)));
  });

  it('prints each message readably: mentions, links and entities as a person reads them', async () => {
    await post(
      sink.url,
      JSON.stringify({
        text: 'fallback',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: ':white_check_mark: AWS account ready' } },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: '<@U012ALICE>, your account *x* is ready: <https://example.com/a?b=1&c=2|open it>',
            },
          },
          {
            type: 'section',
            fields: [{ type: 'mrkdwn', text: '*Tags*\nnote=&lt;!channel&gt; &amp; friends' }],
          },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'Request `req-1`' }] },
        ],
      }),
    );
    expect(printed).toHaveLength(1);
    const lines = printed[0]!.split('\n');
    expect(lines[0]).toMatch(/^┌─ Slack /);
    expect(lines.slice(1, -1)).toEqual([
      '│ ✅ AWS ACCOUNT READY',
      '│ @U012ALICE, your account x is ready: open it (https://example.com/a?b=1&c=2)',
      '│ Tags: note=<!channel> & friends',
      '│ Request req-1',
    ]);
    expect(sink.messages()[0]!.rendered).toContain('note=<!channel> & friends');
  });

  it('stops listening when closed', async () => {
    const { url } = sink;
    await sink.close();
    await expect(post(url, '{"text":"late"}')).rejects.toThrow();
    sink = await startSlackSink();
  });
});

describe('renderSlackMessage', () => {
  it('shouts headers but keeps emoji codes as Slack writes them', () => {
    const header = { type: 'header', text: { type: 'plain_text', text: ':wrench: Drift fixed' } };
    expect(renderSlackMessage({ text: 'x', blocks: [header] })).toBe(':wrench: DRIFT FIXED');
  });

  it('shows the text when there are no blocks', () => {
    expect(renderSlackMessage({ text: 'hi <!here> &amp; <#C1|general>' })).toBe('hi @here & #general');
  });
});

describe('the Slack sink, for callers on this machine only', () => {
  let sink: SlackSink;
  beforeEach(async () => {
    sink = await startSlackSink();
  });
  afterEach(() => sink.close());
  const message = JSON.stringify({ text: 'hello' });

  it('refuses a post whose Host is not this machine (DNS rebinding), keeping nothing', async () => {
    const answer = await rawRequest(sink.url, {
      method: 'POST',
      headers: { host: 'evil.example:4566', 'content-type': 'application/json' },
      body: message,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/^local_callers_only: Host 'evil\.example:4566' is not a loopback/);
    expect(sink.messages()).toEqual([]);
  });

  it("refuses a web page's text/plain post from another site, keeping nothing", async () => {
    const answer = await rawRequest(sink.url, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: message,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/Origin 'https:\/\/evil\.example'/);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(sink.messages()).toEqual([]);
  });

  it('accepts a post with a loopback Origin, with none, and through [::1] or localhost as the Host', async () => {
    const port = new URL(sink.url).port;
    const path = new URL(sink.url).pathname;
    const cases: Record<string, string>[] = [
      { origin: `http://localhost:${port}` },
      {},
      { host: `[::1]:${port}` },
      { host: `localhost:${port}` },
    ];
    for (const headers of cases) {
      const answer = await rawRequest(sink.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: message,
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('ok');
    }
    expect(sink.messages().map((m) => m.path)).toEqual([path, path, path, path]);
  });
});

describe('the Slack sink, with buttons', () => {
  let sink: SlackSink;
  let printed: string[];
  beforeEach(async () => {
    printed = [];
    sink = await startSlackSink({ print: (text) => printed.push(text) });
  });
  afterEach(() => sink.close());

  const withButtons = {
    text: 'Approval needed',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: 'Approval needed for *plat-prod-ledger*' } },
      {
        type: 'actions',
        block_id: 'vend.approval',
        elements: [
          {
            type: 'button',
            action_id: 'vend.approve',
            text: { type: 'plain_text', text: 'Approve' },
            value: 'req-1',
          },
          {
            type: 'button',
            action_id: 'vend.deny',
            text: { type: 'plain_text', text: 'Deny' },
            value: 'req-1',
          },
        ],
      },
    ],
  };

  it('shows the buttons, the message number and how to press them', async () => {
    await post(sink.url, JSON.stringify({ text: 'first' }));
    await post(sink.url, JSON.stringify(withButtons));
    expect(printed[1]!.split('\n').slice(0, -1)).toEqual([
      expect.stringMatching(/^┌─ Slack \S+ · message 2$/),
      '│ Approval needed for plat-prod-ledger',
      '│ [Approve] [Deny]',
      '│ (press: npm run slack -- press 2 approve|deny --as <Slack member id>)',
    ]);
    expect(printed[0]).not.toContain('message 1');
  });

  it('lists its messages with their buttons at GET /messages', async () => {
    await post(sink.url, JSON.stringify(withButtons));
    const answer = await fetch(`${new URL(sink.url).origin}/messages`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      messages: [
        {
          number: 1,
          receivedAt: expect.any(String),
          rendered: 'Approval needed for plat-prod-ledger\n[Approve] [Deny]',
          buttons: [
            { actionId: 'vend.approve', text: 'Approve', value: 'req-1', blockId: 'vend.approval' },
            { actionId: 'vend.deny', text: 'Deny', value: 'req-1', blockId: 'vend.approval' },
          ],
        },
      ],
    });
    expect(sink.requests()).toBe(1);
  });

  it('says it is connected to no API when a press comes before npm start connected it', async () => {
    await post(sink.url, JSON.stringify(withButtons));
    await expect(sink.press(1, 'vend.approve', 'U0PLATFORM1')).rejects.toMatchObject({
      name: 'SlackPressError',
      status: 503,
    });
  });

  it('presses as Slack: a signed block_actions form with the button, the member, the message and a response_url', async () => {
    const received: { headers: Headers; body: string }[] = [];
    const { createServer } = await import('node:http');
    const endpoint = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          headers: new Headers(req.headers as Record<string, string>),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"taken"}');
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = endpoint.address() as import('node:net').AddressInfo;
      sink.connectInteractions({
        url: `http://127.0.0.1:${port}/slack/interactions`,
        signingSecret: 'local-secret-0123456789',
      });
      await post(sink.url, JSON.stringify(withButtons));
      expect(await sink.press(1, 'vend.deny', 'U0PLATFORM1')).toEqual({
        status: 200,
        body: '{"text":"taken"}',
      });

      const [request] = received;
      expect(request!.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
      const timestamp = request!.headers.get('x-slack-request-timestamp')!;
      expect(request!.headers.get('x-slack-signature')).toBe(
        slackSignature('local-secret-0123456789', timestamp, request!.body),
      );
      const payload = JSON.parse(new URLSearchParams(request!.body).get('payload')!);
      expect(payload).toMatchObject({
        type: 'block_actions',
        user: { id: 'U0PLATFORM1' },
        message: { text: 'Approval needed', blocks: withButtons.blocks },
        actions: [{ type: 'button', action_id: 'vend.deny', value: 'req-1', block_id: 'vend.approval' }],
      });
      expect(payload.response_url).toMatch(
        new RegExp(`^${new URL(sink.url).origin}/actions/1/[0-9a-f]{24}$`),
      );
    } finally {
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });
});
