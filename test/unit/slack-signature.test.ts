import { describe, expect, it } from 'vitest';
import {
  SLACK_SIGNATURE_MAX_SKEW_SECONDS,
  type SlackVerificationInput,
  signSlackRequest,
  slackSignature,
  verifySlackRequest,
} from '../../functions/shared/slack-signature.ts';

const SECRET = 'e3b98f5c1a2d4e6f8091a2b3c4d5e6f7';
const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);
const BODY = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0PLATFORM1' } }))}`;

/** Remembers (timestamp, signature) pairs in memory, as the registry's store does. */
function memory() {
  const seen = new Set<string>();
  return {
    seen,
    remember: async (timestamp: number, signature: string) => {
      const key = `${timestamp}#${signature}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
}

function input(overrides: Partial<SlackVerificationInput> = {}): SlackVerificationInput {
  return {
    headers: signSlackRequest(SECRET, BODY, NOW_MS),
    rawBody: Buffer.from(BODY),
    secret: SECRET,
    nowMs: NOW_MS,
    remember: memory().remember,
    ...overrides,
  };
}

describe("Slack's v0 request signature", () => {
  it("computes Slack's documented example signature", () => {
    // Slack API docs, "Verifying requests from Slack": the example signing secret, timestamp and body, and the
    // signature they give.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('accepts a request signed with the secret, now, and remembers it', async () => {
    const store = memory();
    const result = await verifySlackRequest(input({ remember: store.remember }));
    expect(result).toEqual({
      ok: true,
      timestamp: NOW_MS / 1000,
      signature: slackSignature(SECRET, NOW_MS / 1000, BODY),
    });
    expect(store.seen.size).toBe(1);
  });

  it('reads the headers whatever their case', async () => {
    const signed = signSlackRequest(SECRET, BODY, NOW_MS);
    const headers = Object.fromEntries(
      Object.entries(signed).map(([name, value]) => [name.replace(/(^|-)x/g, '$1X').toUpperCase(), value]),
    );
    expect((await verifySlackRequest(input({ headers }))).ok).toBe(true);
  });

  it.each([
    ['no headers at all', {}],
    ['no signature', { 'x-slack-request-timestamp': String(NOW_MS / 1000) }],
    ['no timestamp', { 'x-slack-signature': slackSignature(SECRET, NOW_MS / 1000, BODY) }],
  ])('refuses a request with %s, remembering nothing', async (_what, headers) => {
    const store = memory();
    expect(await verifySlackRequest(input({ headers, remember: store.remember }))).toEqual({
      ok: false,
      reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature',
    });
    expect(store.seen.size).toBe(0);
  });

  it('refuses a signature made with another secret, remembering nothing', async () => {
    const store = memory();
    const headers = signSlackRequest('another-secret-0123456789abcdef', BODY, NOW_MS);
    expect(await verifySlackRequest(input({ headers, remember: store.remember }))).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(store.seen.size).toBe(0);
  });

  it('refuses a body changed after signing, by one byte', async () => {
    const tampered = Buffer.from(BODY.replace('U0PLATFORM1', 'U0PLATFORM2'));
    expect(await verifySlackRequest(input({ rawBody: tampered }))).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('refuses a signature of another timestamp than the header says', async () => {
    const headers = {
      'x-slack-request-timestamp': String(NOW_MS / 1000),
      'x-slack-signature': slackSignature(SECRET, NOW_MS / 1000 - 1, BODY),
    };
    expect((await verifySlackRequest(input({ headers }))).ok).toBe(false);
  });

  it('refuses a timestamp more than five minutes old, and takes one just within', async () => {
    const old = NOW_MS - (SLACK_SIGNATURE_MAX_SKEW_SECONDS + 1) * 1000;
    expect(await verifySlackRequest(input({ headers: signSlackRequest(SECRET, BODY, old) }))).toEqual({
      ok: false,
      reason: 'timestamp more than five minutes from now',
    });
    const edge = NOW_MS - SLACK_SIGNATURE_MAX_SKEW_SECONDS * 1000;
    expect((await verifySlackRequest(input({ headers: signSlackRequest(SECRET, BODY, edge) }))).ok).toBe(
      true,
    );
  });

  it('refuses a timestamp more than five minutes ahead', async () => {
    const ahead = NOW_MS + (SLACK_SIGNATURE_MAX_SKEW_SECONDS + 1) * 1000;
    expect(await verifySlackRequest(input({ headers: signSlackRequest(SECRET, BODY, ahead) }))).toEqual({
      ok: false,
      reason: 'timestamp more than five minutes from now',
    });
  });

  it('refuses the same signed request a second time (a replay)', async () => {
    const store = memory();
    expect((await verifySlackRequest(input({ remember: store.remember }))).ok).toBe(true);
    expect(await verifySlackRequest(input({ remember: store.remember }))).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it.each([
    [
      'a timestamp that is not a number',
      { 'x-slack-request-timestamp': '1e9' },
      'malformed X-Slack-Request-Timestamp',
    ],
    [
      'a signature of another version',
      { 'x-slack-signature': `v1=${'0'.repeat(64)}` },
      'malformed X-Slack-Signature',
    ],
    ['a short signature', { 'x-slack-signature': 'v0=abc' }, 'malformed X-Slack-Signature'],
    ['a signature header sent twice', { 'x-slack-signature': 'v0=aa,v0=bb' }, 'malformed X-Slack-Signature'],
  ])('refuses %s', async (_what, replaced, reason) => {
    const headers = { ...signSlackRequest(SECRET, BODY, NOW_MS), ...replaced };
    expect(await verifySlackRequest(input({ headers }))).toEqual({ ok: false, reason });
  });

  it('refuses every request while no signing secret is configured', async () => {
    expect(await verifySlackRequest(input({ secret: undefined }))).toEqual({
      ok: false,
      reason: 'no signing secret configured',
    });
    expect(await verifySlackRequest(input({ secret: '' }))).toMatchObject({ ok: false });
  });
});
