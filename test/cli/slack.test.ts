import { describe, expect, it } from 'vitest';
import { runSlackCli, type SlackCliIo } from '../../local/cli/slack.ts';

function io(fetchImpl: typeof fetch = async () => new Response('{"messages":[]}')) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: string[] = [];
  const value: SlackCliIo = {
    env: {},
    fetch: async (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return fetchImpl(input, init);
    },
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  };
  return { io: value, out, err, calls };
}

describe('npm run slack', () => {
  it.each([
    [['press', '3', 'approve'], '--as is required'],
    [
      ['press', 'three', 'approve', '--as', 'U0PLATFORM1'],
      "<message> must be a message number (1, 2, ...), got 'three'",
    ],
    [['press', '3'], 'press takes a message number and a button'],
    [['approve', '3'], "unknown command 'approve'"],
  ])('refuses %j naming the fix, calling nothing', async (argv, message) => {
    const run = io();
    expect(await runSlackCli(argv, run.io)).toBe(2);
    expect(run.err[0]).toContain(message);
    expect(run.calls).toEqual([]);
  });

  it('presses through the sink at the default port, approve meaning the vend.approve button', async () => {
    const run = io(async () =>
      Response.json({ status: 200, reply: { text: ':white_check_mark: <@U0PLATFORM1> approved' } }),
    );
    expect(await runSlackCli(['press', '3', 'approve', '--as', 'U0PLATFORM1'], run.io)).toBe(0);
    expect(run.calls).toEqual([
      'POST http://127.0.0.1:4580/messages/3/actions/vend.approve?user=U0PLATFORM1',
    ]);
    expect(run.out).toEqual([
      'Pressed vend.approve on message 3 as U0PLATFORM1: /slack/interactions answered 200.',
      '✅ @U0PLATFORM1 approved',
    ]);
  });

  it('exits 1 when the endpoint refused the press', async () => {
    const run = io(async () =>
      Response.json({
        status: 401,
        reply: { error: { message: 'the request does not carry a valid Slack signature' } },
      }),
    );
    expect(
      await runSlackCli(
        ['press', '1', 'deny', '--as', 'U0PLATFORM1', '--sink', 'http://127.0.0.1:9'],
        run.io,
      ),
    ).toBe(1);
    expect(run.out[1]).toBe('the request does not carry a valid Slack signature');
  });

  it('says where it looked when the sink does not answer', async () => {
    const run = io(async () => {
      throw new TypeError('fetch failed');
    });
    expect(await runSlackCli(['messages'], { ...run.io, env: { VEND_SLACK_PORT: '4999' } })).toBe(2);
    expect(run.err[0]).toContain('the Slack sink at http://127.0.0.1:4999 did not answer');
    expect(run.err[0]).toContain('is npm start running?');
  });
});
