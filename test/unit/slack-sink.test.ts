import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postToSlack, successMessage } from '../../functions/shared/slack.ts';
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
