import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approvalRequestMessage, decisionMessage } from '../../functions/shared/approval-messages.ts';
import { SlackRejectedError, SlackUnavailableError } from '../../functions/shared/errors.ts';
import type { ApprovalDecision, RequestRecord, VendRequest } from '../../functions/shared/model.ts';
import {
  escapeSlack,
  failureMessage,
  postToSlack,
  type SlackBlock,
  type SlackMessage,
  type SuccessDetails,
  successMessage,
  switchRoleUrl,
} from '../../functions/shared/slack.ts';

/** The links Vend itself writes: the console's switch-role page, labelled. */
const VEND_LINK = /^<https:\/\/signin\.aws\.amazon\.com\/switchrole\?[^|<>]*\|[Ss]witch role>$/;
const ACCOUNT = '123456789012';

function request(overrides: Partial<VendRequest> = {}): VendRequest {
  return {
    requestId: 'req-0001',
    name: 'payments',
    accountName: 'plat-dev-payments',
    email: 'aws+plat-dev-payments@example.com',
    organizationalUnit: { id: 'ou-ab12-cdef3456', path: 'Workloads/Dev' },
    owner: 'alice@example.com',
    requester: { principal: 'arn:aws:iam::000000000000:user/alice', slackUserId: 'U012ALICE' },
    budget: {
      monthlyLimitUsd: 200,
      thresholds: [
        { percent: 80, type: 'ACTUAL' },
        { percent: 100, type: 'FORECASTED' },
      ],
    },
    tags: { team: 'payments' },
    submittedAt: '2026-05-20T10:00:00.000Z',
    ...overrides,
  };
}

function details(overrides: Partial<SuccessDetails> = {}): SuccessDetails {
  return {
    request: request(),
    accountId: ACCOUNT,
    roles: [
      {
        name: 'VendAdmin',
        arn: `arn:aws:iam::${ACCOUNT}:role/VendAdmin`,
        trustedAccountId: '111111111111',
        requireMfa: true,
      },
      {
        name: 'VendReadOnly',
        arn: `arn:aws:iam::${ACCOUNT}:role/VendReadOnly`,
        trustedAccountId: '111111111111',
        externalIdRequired: true,
      },
    ],
    alias: 'acme-plat-dev-payments',
    passwordPolicy: true,
    baselineVersion: '1',
    budget: {
      name: 'vend-plat-dev-payments',
      monthlyLimitUsd: 200,
      thresholds: request().budget.thresholds,
      subscribers: ['finops@example.com'],
    },
    dns: { hostedZoneId: 'Z0VENDTESTINTERNAL01', vpcId: 'vpc-0abc', region: 'us-east-1' },
    ...overrides,
  };
}

/** Every piece of text in a message, as Slack would parse it. */
function texts(message: SlackMessage): string[] {
  const out = [message.text];
  const add = (block: SlackBlock) => {
    if (block.type === 'header') out.push(block.text.text);
    if (block.type === 'section') {
      if (block.text) out.push(block.text.text);
      for (const field of block.fields ?? []) out.push(field.text);
    }
    if (block.type === 'context') for (const element of block.elements) out.push(element.text);
  };
  message.blocks.forEach(add);
  return out;
}

/**
 * Slack's control sequences (`<...>`) in a message, what could ping or link, and any stray `<` or `>`; the
 * switch-role links Vend writes are left out.
 */
function controlSequences(message: SlackMessage): string[] {
  return texts(message)
    .flatMap((text) => text.match(/<[^<>]*>?|>/g) ?? [])
    .filter((sequence) => !VEND_LINK.test(sequence));
}

const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U999EVIL>',
  '<#C123|general>',
  '<!subteam^S123>',
  '<https://evil.example|click here>',
  '@channel',
  '@here',
  '@everyone',
];

describe('escapeSlack', () => {
  it('turns &, < and > into entities', () => {
    expect(escapeSlack('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });

  it.each([
    '<!channel>',
    '<!here>',
    '<!everyone>',
    '<@U123>',
    '<https://evil.example|click>',
    '<!subteam^S1>',
  ])('leaves no control sequence in %s', (text) => {
    const escaped = escapeSlack(text);
    expect(escaped).not.toMatch(/[<>]/);
    expect(escaped).toContain('&lt;');
  });

  it.each(['@channel', '@here', '@everyone', '@Here', 'ping @EVERYONE now'])(
    'defuses the bare mention in %s',
    (text) => {
      const escaped = escapeSlack(text);
      expect(escaped).not.toMatch(/@(channel|here|everyone)/i);
      expect(escaped.replaceAll('\uff20', '@')).toBe(text);
    },
  );

  it('escapes an ampersand first, so that text that looks escaped cannot turn back into a control character', () => {
    expect(escapeSlack('&lt;!channel&gt;')).toBe('&amp;lt;!channel&amp;gt;');
  });

  it('turns newlines and other control characters into spaces, so a value cannot start a quote or a fake line', () => {
    expect(escapeSlack('name\n> *Why*: fake\r\n\tx')).toBe('name &gt; \uff0aWhy\uff0a: fake x');
  });

  it('clips long values before escaping, never cutting an entity in half', () => {
    const escaped = escapeSlack('<'.repeat(50), 10);
    expect(escaped).toBe(`${'&lt;'.repeat(9)}…`);
  });

  it('leaves no half of a character where it clips: the half becomes U+FFFD', () => {
    expect(escapeSlack('\u{1f600}'.repeat(5), 4)).toBe('\u{1f600}\ufffd…');
  });

  it('shows undefined and null as nothing, and numbers as they are', () => {
    expect(escapeSlack(undefined)).toBe('');
    expect(escapeSlack(null)).toBe('');
    expect(escapeSlack(200)).toBe('200');
  });
});

describe('escapeSlack neutralizes what Slack would parse', () => {
  it.each([
    ['*bold*', '\uff0abold\uff0a'],
    ['_italic_', '\uff3fitalic\uff3f'],
    ['~strike~', '\uff5estrike\uff5e'],
    ['`code`', '\uff40code\uff40'],
    ['> quote', '\uff1e quote'],
    ['  > quote', '  \uff1e quote'],
    ['a > b', 'a &gt; b'],
  ])('shows the formatting character in %s literally', (text, expected) => {
    expect(escapeSlack(text)).toBe(expected);
  });

  it.each([
    ['https://evil.example', 'https[:]//evil[.]example'],
    ['HTTP://evil.example/x?a=1&b=2', 'HTTP[:]//evil[.]example/x?a=1&amp;b=2'],
    ['www.evil.example', 'www[.]evil[.]example'],
    ['evil.com', 'evil[.]com'],
    ['mallory@evil.example', 'mallory@evil[.]example'],
    ['ftp://1.2.3.4', 'ftp[:]//1.2.3.4'],
  ])('defangs the bare link %s so that Slack does not link it', (text, expected) => {
    expect(escapeSlack(text)).toBe(expected);
  });

  it.each([
    ['bidi override', 'pay\u202ements\u202c', 'payments'],
    ['bidi isolate', '\u2066abc\u2069', 'abc'],
    ['marks', 'a\u200eb\u200fc\u061cd', 'abcd'],
    ['zero-width', 'a\u200bb\u200cc\u200dd\u2060e\ufefff', 'abcdef'],
    ['C1 controls', 'a\u0085b\u009bc', 'a b c'],
    ['line separators', 'a\u2028b\u2029c', 'a b c'],
    ['lone surrogates', 'a\ud800b\udc00c', 'a\ufffdb\ufffdc'],
  ])('removes %s, or makes a space of it', (_kind, text, expected) => {
    expect(escapeSlack(text)).toBe(expected);
  });
});

/** Characters no message may hold: controls except newline, bidi controls, zero-width characters, line separators. */
const INVISIBLE_OR_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the property looks for
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

/** Strings rich in what Slack parses, mixed with any Unicode. */
const hostileText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom(
        ...HOSTILE,
        '*',
        '_',
        '~',
        '`',
        '>',
        '<',
        '&',
        '|',
        '\n',
        '\n> ',
        'https://',
        'http://evil.example',
        'www.',
        '.com',
        '@',
        '!',
        'channel',
        'here',
        'everyone',
        '\u202e',
        '\u2066',
        '\u200b',
        '\ufeff',
        '\u0085',
        '\u009b',
        '&lt;',
        '&amp;',
      ),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

/** Every user-supplied field of a request set to `value`. */
function hostileRequest(value: string): VendRequest {
  return request({
    name: value,
    accountName: value,
    email: value,
    owner: value,
    organizationalUnit: { id: value, path: value },
    requester: { principal: value, slackUserId: 'U012ALICE' },
    tags: { [value]: value, team: value },
    vpc: { id: value, region: value },
  });
}

const FORMATTING_CHARACTERS = ['*', '_', '~', '`'];
const count = (text: string, char: string) => text.split(char).length - 1;

/**
 * What user text could add to a message: a control sequence other than the requester's mention and Vend's links, a
 * mention word, a link Slack would make of a bare URL or host name, a formatting character, a quote, an invisible
 * or control character. `neutral` is the same message built with plain values, for Vend's own formatting.
 */
function assertNothingParsed(
  message: SlackMessage,
  neutral: SlackMessage,
  mentions: readonly string[] = ['<@U012ALICE>'],
): void {
  expect(controlSequences(message).filter((sequence) => !mentions.includes(sequence))).toEqual([]);
  const all = texts(message);
  const neutralAll = texts(neutral).join('\n');
  for (const text of all) {
    const outsideLinks = text.replace(/<[^<>]*>/g, '');
    expect(outsideLinks).not.toMatch(/@(channel|here|everyone)/i);
    expect(outsideLinks).not.toMatch(/[a-z0-9+.-]:\/\//i);
    expect(outsideLinks).not.toMatch(/www\./i);
    expect(text).not.toMatch(INVISIBLE_OR_CONTROL);
    expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(text).not.toMatch(/^\s*(>|&gt;)/m);
  }
  const joined = all.join('\n');
  for (const char of FORMATTING_CHARACTERS)
    expect(count(joined, char), char).toBeLessThanOrEqual(count(neutralAll, char));
  const hostNames = (text: string) =>
    text.replace(/<[^<>]*>/g, '').match(/[\p{L}\p{N}]\.\p{L}/gu)?.length ?? 0;
  expect(hostNames(joined)).toBeLessThanOrEqual(hostNames(neutralAll));
}

describe('no user field can link, mention, format, quote or hide text (property)', () => {
  const plain = 'x';
  it('in the "ready" message', () => {
    const neutral = successMessage(details({ request: hostileRequest(plain), alias: plain, dnsNote: plain }));
    fc.assert(
      fc.property(hostileText, (value) => {
        const message = successMessage(
          details({
            request: hostileRequest(value),
            alias: value,
            dns: { hostedZoneId: value, vpcId: value, region: value },
            budget: { name: value, monthlyLimitUsd: 1, thresholds: [], subscribers: [value] },
          }),
        );
        assertNothingParsed(message, neutral);
        assertNothingParsed(
          successMessage(details({ request: hostileRequest(value), dns: undefined, dnsNote: value })),
          neutral,
        );
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('in the "failed" message', () => {
    const base = { step: 'applyBudget', reason: 'Vend says why.', advice: 'Vend says what to do.' };
    const neutral = failureMessage({ ...base, request: hostileRequest(plain), accountId: plain });
    fc.assert(
      fc.property(hostileText, (value) => {
        assertNothingParsed(
          failureMessage({ ...base, request: hostileRequest(value), accountId: value }),
          neutral,
        );
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});

describe('the approval messages: no user field can link, mention, format, quote or hide text (property)', () => {
  const plain = 'x';
  const approvers = [{ name: 'platform-admins', slackUserIds: ['U0PLATFORM1'] }];
  const waiting = (value: string): RequestRecord => ({
    requestId: 'req-0001',
    status: 'awaiting-approval',
    request: hostileRequest(value),
    steps: {},
    approval: {
      approvers: ['platform-admins'],
      requestedAt: '2026-05-20T10:00:00.000Z',
      expiresAt: '2026-05-27T10:00:00.000Z',
    },
    createdAt: '2026-05-20T10:00:00.000Z',
    updatedAt: '2026-05-20T10:00:00.000Z',
  });
  const decided = (value: string, decision: ApprovalDecision): RequestRecord => ({
    ...waiting(value),
    status: 'denied',
    approval: { ...waiting(value).approval!, decision },
  });

  it('in the request for approval, which mentions only the approvers and the requester', () => {
    const neutral = approvalRequestMessage(waiting(plain), approvers, '#vend-prod');
    fc.assert(
      fc.property(hostileText, (value) => {
        assertNothingParsed(approvalRequestMessage(waiting(value), approvers, '#vend-prod'), neutral, [
          '<@U012ALICE>',
          '<@U0PLATFORM1>',
        ]);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it('in the decision, whatever the reason and whoever decided', () => {
    const at = '2026-05-21T10:00:00.000Z';
    const neutral = decisionMessage(
      decided(plain, { outcome: 'denied', by: plain, via: 'api', at, reason: plain }),
    );
    fc.assert(
      fc.property(hostileText, (value) => {
        for (const by of [value, `slack:${value}`]) {
          assertNothingParsed(
            decisionMessage(decided(value, { outcome: 'denied', by, via: 'api', at, reason: value })),
            neutral,
          );
        }
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it('asks with Approve and Deny buttons, mentions only valid member ids, and goes to the channel given', () => {
    const message = approvalRequestMessage(
      waiting('payments'),
      [{ name: 'platform-admins', slackUserIds: ['U0PLATFORM1', 'not-a-member'] }],
      '#vend-prod',
    );
    expect(message.channel).toBe('#vend-prod');
    // In the notification text and in the blocks: the requester once, the approver once.
    expect(controlSequences(message).sort()).toEqual(
      ['<@U012ALICE>', '<@U012ALICE>', '<@U0PLATFORM1>', '<@U0PLATFORM1>'].sort(),
    );
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions).toMatchObject({
      elements: [
        { action_id: 'vend.approve', style: 'primary', value: 'req-0001' },
        { action_id: 'vend.deny', style: 'danger', value: 'req-0001' },
      ],
    });
    expect(approvalRequestMessage(waiting('payments'), approvers)).not.toHaveProperty('channel');
  });
});

describe('successMessage', () => {
  it('mentions the requester and says which account is ready, where', () => {
    const message = successMessage(details());
    expect(message.text).toContain('<@U012ALICE>');
    expect(message.text).toContain(ACCOUNT);
    const all = texts(message).join('\n');
    expect(all).toContain('<@U012ALICE>, your AWS account *plat-dev-payments* is ready.');
    expect(all).toContain(`\`${ACCOUNT}\``);
    expect(all).toContain('Workloads/Dev');
    expect(all).toContain('team=payments');
    expect(all).toContain('req-0001');
  });

  it('names the principal when the request has no Slack user, and pings nobody', () => {
    const message = successMessage(
      details({ request: request({ requester: { principal: 'arn:aws:iam::000000000000:user/bob' } }) }),
    );
    expect(texts(message).join('\n')).toContain('requested by `arn:aws:iam::000000000000:user/bob`');
    expect(controlSequences(message)).toEqual([]);
  });

  it('does not trust a Slack user id that is not one', () => {
    const message = successMessage(
      details({ request: request({ requester: { principal: 'p', slackUserId: 'U1> <!channel' } }) }),
    );
    expect(controlSequences(message)).toEqual([]);
  });

  it('says how to sign in through each role: a switch-role link, from which account, with MFA', () => {
    const all = texts(successMessage(details())).join('\n');
    expect(all).toContain(
      `<https://signin.aws.amazon.com/switchrole?roleName=VendAdmin&amp;account=${ACCOUNT}|switch role>`,
    );
    const admin = all.split('\n').find((line) => line.includes('*VendAdmin*'));
    expect(admin).toContain('`111111111111`');
    expect(admin).toContain('MFA');
  });

  it('gives a role that needs an external id no console link (the console cannot pass one) and keeps the id itself out', () => {
    const all = texts(successMessage(details())).join('\n');
    const readOnly = all.split('\n').find((line) => line.includes('*VendReadOnly*'));
    expect(readOnly).toContain('external id');
    expect(readOnly).toContain(`arn:aws:iam::${ACCOUNT}:role/VendReadOnly`);
    expect(readOnly).not.toContain('switchrole');
  });

  it('states the budget with its thresholds and who hears of them, the DNS association, and the alias', () => {
    const all = texts(successMessage(details())).join('\n');
    expect(all).toContain('*Budget*: 200 USD a month (`vend-plat-dev-payments`)');
    expect(all).toContain(
      '80% of actual spend, 100% of forecasted spend, to alice@example[.]com, finops@example[.]com',
    );
    expect(all).toContain(
      'VPC `vpc-0abc` (us-east-1) is associated with the private hosted zone `Z0VENDTESTINTERNAL01`',
    );
    expect(all).toContain('`acme-plat-dev-payments`');
    expect(all).toContain('password policy applied');
  });

  it('says why there is no DNS association when there is none', () => {
    const all = texts(
      successMessage(details({ dns: undefined, dnsNote: 'no shared private DNS is configured' })),
    ).join('\n');
    expect(all).toContain('*DNS*: no shared private DNS is configured');
  });

  it('escapes hostile text in the name, tags, owner, email and principal: nothing in it pings or links', () => {
    for (const hostile of HOSTILE) {
      const message = successMessage(
        details({
          request: request({
            name: hostile,
            accountName: `plat-dev-${hostile}`,
            owner: hostile,
            email: hostile,
            tags: { [hostile]: hostile, team: hostile },
            organizationalUnit: { id: 'ou-x', path: hostile },
            requester: { principal: hostile, slackUserId: 'U012ALICE' },
          }),
        }),
      );
      expect(
        controlSequences(message).every((sequence) => sequence === '<@U012ALICE>'),
        hostile,
      ).toBe(true);
      for (const text of texts(message)) expect(text).not.toMatch(/@(channel|here|everyone)/i);
    }
  });

  it('stays within Slack block limits however many roles and tags there are', () => {
    const roles = Array.from({ length: 200 }, (_, i) => ({
      name: `Role${i}`,
      trustedAccountId: '111111111111',
      requireMfa: true,
    }));
    const tags = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`key-${i}-${'<'.repeat(100)}`, '&'.repeat(250)]),
    );
    const message = successMessage(details({ roles, request: request({ tags }) }));
    for (const block of message.blocks) {
      if (block.type === 'section') {
        expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
        expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
      }
      if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
    }
    expect(texts(message).join('\n')).toContain('more');
  });
});

describe('failureMessage', () => {
  const failure = {
    request: request(),
    step: 'waitForAccount',
    reason: 'That email address already belongs to an AWS account.',
    advice: 'Use another address.',
  };

  it('says at which step, in words, why, what to do, and the request id, to the requester', () => {
    const message = failureMessage(failure);
    const all = texts(message).join('\n');
    expect(all).toContain(
      '<@U012ALICE>, your request for the AWS account *plat-dev-payments* failed while waiting for AWS to create the account.',
    );
    expect(all).toContain('*Why*: That email address already belongs to an AWS account.');
    expect(all).toContain('*What to do*: Use another address.');
    expect(all).toContain('`req-0001`');
    expect(message.text).toContain('<@U012ALICE>');
    expect(message.text).toContain('Use another address.');
  });

  it('mentions the account when one was created before the failure', () => {
    expect(texts(failureMessage({ ...failure, accountId: ACCOUNT })).join('\n')).toContain(
      `\`${ACCOUNT}\` was created`,
    );
  });

  it('escapes a hostile reason and advice', () => {
    for (const hostile of HOSTILE) {
      const message = failureMessage({
        ...failure,
        reason: `x ${hostile}`,
        advice: hostile,
        request: request({ name: hostile, accountName: hostile }),
      });
      expect(
        controlSequences(message).every((sequence) => sequence === '<@U012ALICE>'),
        hostile,
      ).toBe(true);
      for (const text of texts(message)) expect(text).not.toMatch(/@(channel|here|everyone)/i);
    }
  });
});

describe('switchRoleUrl', () => {
  it('encodes the role name', () => {
    expect(switchRoleUrl('Vend+Admin@x', ACCOUNT)).toBe(
      `https://signin.aws.amazon.com/switchrole?roleName=Vend%2BAdmin%40x&account=${ACCOUNT}`,
    );
  });
});

type Scripted = { status: number; headers?: Record<string, string>; body?: string } | 'drop';

describe('postToSlack', () => {
  let server: Server;
  let url: string;
  let script: Scripted[] = [];
  let received: { body: string; contentType: string | undefined }[] = [];
  let waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const message = successMessage(details());

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: req.headers['content-type'],
        });
        const next = script.shift() ?? { status: 200, body: 'ok' };
        if (next === 'drop') {
          req.socket.destroy();
          return;
        }
        res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers });
        res.end(next.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/secret-token`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    script = [];
    received = [];
    waits = [];
  });

  it('posts the message as JSON once when Slack answers 200', async () => {
    await postToSlack(url, message, { sleep });
    expect(received).toHaveLength(1);
    expect(received[0]!.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(received[0]!.body)).toEqual(JSON.parse(JSON.stringify(message)));
    expect(waits).toEqual([]);
  });

  it('waits as long as Retry-After says on 429, then delivers', async () => {
    script = [{ status: 429, headers: { 'Retry-After': '2' }, body: 'rate_limited' }];
    await postToSlack(url, message, { sleep });
    expect(received).toHaveLength(2);
    expect(waits).toEqual([2000]);
  });

  it('leaves a Retry-After over 30 s to the state machine: SlackUnavailableError at once', async () => {
    script = [{ status: 429, headers: { 'Retry-After': '120' }, body: 'rate_limited' }];
    const error = await postToSlack(url, message, { sleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackUnavailableError);
    expect(error).toMatchObject({ name: 'Vend.SlackUnavailable' });
    expect(received).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('gives up with SlackUnavailableError after three rate-limited attempts, waiting between them only', async () => {
    script = Array.from({ length: 3 }, () => ({
      status: 429,
      headers: { 'Retry-After': '1' },
      body: 'rate_limited',
    }));
    await expect(postToSlack(url, message, { sleep })).rejects.toMatchObject({
      name: 'Vend.SlackUnavailable',
    });
    expect(received).toHaveLength(3);
    expect(waits).toEqual([1000, 1000]);
  });

  it('waits a second on a 429 without Retry-After', async () => {
    script = [{ status: 429, body: 'rate_limited' }];
    await postToSlack(url, message, { sleep });
    expect(waits).toEqual([1000]);
  });

  it('backs off briefly on 5xx and delivers when Slack recovers', async () => {
    script = [
      { status: 500, body: 'internal_error' },
      { status: 503, body: 'service_unavailable' },
    ];
    await postToSlack(url, message, { sleep });
    expect(received).toHaveLength(3);
    expect(waits).toEqual([500, 1000]);
  });

  it('throws SlackUnavailableError after three 5xx answers, never more attempts even when asked', async () => {
    script = Array.from({ length: 5 }, () => ({ status: 503, body: 'service_unavailable' }));
    const error = await postToSlack(url, message, { sleep, maxAttempts: 10 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'Vend.SlackUnavailable' });
    expect(String((error as Error).message)).toContain('503');
    expect(received).toHaveLength(3);
  });

  it('retries a dropped connection', async () => {
    script = ['drop'];
    await postToSlack(url, message, { sleep });
    expect(received).toHaveLength(2);
    expect(waits).toEqual([500]);
  });

  it('throws SlackUnavailableError when nothing listens, without the webhook URL in the message', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await postToSlack(`http://127.0.0.1:${port}/services/T/B/secret-token`, message, {
      sleep,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'Vend.SlackUnavailable' });
    expect(String((error as Error).message)).not.toContain('secret-token');
    expect(waits).toEqual([500, 1000]);
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'invalid_token'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('treats %i %s as a permanent refusal: Vend.SlackRejected, no retry', async (status, body) => {
    script = [{ status, body }];
    const error = await postToSlack(url, message, { sleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackRejectedError);
    expect(error).toMatchObject({ name: 'Vend.SlackRejected', status, body });
    expect(String((error as Error).message)).not.toContain('secret-token');
    expect(received).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});
