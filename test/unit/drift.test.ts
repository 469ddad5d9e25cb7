import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOwnPrincipal, roleArnOf } from '../../functions/drift/checks.ts';
import { driftEventMessage, sweepMessage } from '../../functions/drift/messages.ts';
import { configFromEnv, parseConfig } from '../../functions/shared/config.ts';
import type { AccountDesiredState, DriftRecord } from '../../functions/shared/model.ts';
import { driftStatus } from '../../functions/shared/model.ts';
import type { SlackMessage } from '../../functions/shared/slack.ts';

const minimal = { organization: { allowedOrganizationalUnits: ['Sandbox'] } };

describe("Vend's own principals", () => {
  const lambdaRole = 'arn:aws:iam::123456789012:role/VendStack-MoveAccountRole1A2B-XYZ';
  const lambdaCall = {
    type: 'AssumedRole',
    arn: 'arn:aws:sts::123456789012:assumed-role/VendStack-MoveAccountRole1A2B-XYZ/VendStack-MoveAccount-abc',
    sessionContext: { sessionIssuer: { arn: lambdaRole } },
  };

  it("recognizes a Lambda's calls by its exact execution role, never by a prefix", () => {
    expect(isOwnPrincipal(lambdaCall, [lambdaRole])).toBe(true);
    expect(isOwnPrincipal(lambdaCall, ['arn:aws:iam::123456789012:role/VendStack-*'])).toBe(false);
  });

  it('treats a role named like the stack, but not one of its roles, as someone else (its change is drift)', () => {
    const lookalike = {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::123456789012:assumed-role/VendStack-Intruder/session',
      sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/VendStack-Intruder' } },
    };
    expect(isOwnPrincipal(lookalike, [lambdaRole])).toBe(false);
  });

  it('does not take a longer role name for the one configured without *', () => {
    const lookalike = {
      arn: 'arn:aws:sts::000000000000:assumed-role/VendPipelineEvil/x',
      sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::000000000000:role/VendPipelineEvil' } },
    };
    expect(isOwnPrincipal(lookalike, ['arn:aws:iam::000000000000:role/VendPipeline'])).toBe(false);
  });

  it('recognizes a session without sessionContext by the role in its ARN, and no one else', () => {
    expect(
      isOwnPrincipal({ arn: 'arn:aws:sts::000000000000:assumed-role/VendPipeline/vend' }, [
        'arn:aws:iam::000000000000:role/VendPipeline',
      ]),
    ).toBe(true);
    expect(isOwnPrincipal({ type: 'Root', arn: 'arn:aws:iam::000000000000:root' }, [lambdaRole])).toBe(false);
    expect(isOwnPrincipal(undefined, [lambdaRole])).toBe(false);
    expect(isOwnPrincipal({}, [lambdaRole])).toBe(false);
  });

  it('turns an assumed-role session ARN into its role ARN, in any partition', () => {
    expect(roleArnOf('arn:aws:sts::000000000000:assumed-role/VendPipeline/vend')).toBe(
      'arn:aws:iam::000000000000:role/VendPipeline',
    );
    expect(roleArnOf('arn:aws-us-gov:sts::000000000000:assumed-role/R/s')).toBe(
      'arn:aws-us-gov:iam::000000000000:role/R',
    );
    expect(roleArnOf('arn:aws:iam::000000000000:user/alice')).toBe('arn:aws:iam::000000000000:user/alice');
  });

  it('come from the configuration and VEND_OWN_PRINCIPAL_ARNS', () => {
    expect(parseConfig(minimal).drift.ownPrincipalArns).toEqual([]);
    const config = configFromEnv({
      VEND_CONFIG: JSON.stringify({
        ...minimal,
        drift: { ownPrincipalArns: ['arn:aws:iam::123456789012:role/A'] },
      }),
      VEND_OWN_PRINCIPAL_ARNS:
        ' arn:aws:iam::123456789012:role/VendStack-Move , arn:aws:iam::123456789012:role/B ',
    });
    expect(config.drift.ownPrincipalArns).toEqual([
      'arn:aws:iam::123456789012:role/A',
      'arn:aws:iam::123456789012:role/VendStack-Move',
      'arn:aws:iam::123456789012:role/B',
    ]);
    expect(() =>
      configFromEnv({ VEND_CONFIG: JSON.stringify(minimal), VEND_OWN_PRINCIPAL_ARNS: 'vend' }),
    ).toThrow(/drift\.ownPrincipalArns\.0: an exact IAM role ARN/);
    expect(() =>
      configFromEnv({
        VEND_CONFIG: JSON.stringify(minimal),
        VEND_OWN_PRINCIPAL_ARNS: 'arn:aws:iam::123456789012:role/VendStack-*',
      }),
    ).toThrow(/drift\.ownPrincipalArns\.0: an exact IAM role ARN \(no wildcard\)/);
  });

  it('sweeps two accounts at a time with a second between them, unless configured', () => {
    expect(parseConfig(minimal).drift.sweep).toEqual({ concurrency: 2, delayBetweenAccountsMs: 1000 });
    expect(() => parseConfig({ ...minimal, drift: { sweep: { concurrency: 0 } } })).toThrow(
      /drift\.sweep\.concurrency/,
    );
  });
});

const ACCOUNT: AccountDesiredState = {
  accountId: '123456789012',
  accountName: 'plat-dev-<!here>',
  email: 'aws+x@example.com',
  organizationalUnit: { id: 'ou-abcd-12345678', path: 'Workloads/Dev' },
  tags: { team: 'payments' },
  baselineVersion: '1',
  budget: { name: 'vend-x', monthlyLimitUsd: 100, thresholds: [] },
  owner: 'alice@example.com',
  requestId: 'req-1',
  status: 'active',
  createdAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:00:00.000Z',
};

const RECORD: DriftRecord = {
  id: 'evt-1',
  source: 'event',
  eventName: 'TagResource',
  aspects: ['tags'],
  what: 'tagged team=<!channel> @here <https://evil.example|click>',
  by: 'arn:aws:iam::123456789012:user/mallory`x',
  at: '2026-11-22T10:01:00.000Z',
  outcome: 'fixed',
  action: 'restored the tag(s) team',
  recordedAt: '2026-11-22T10:01:01.000Z',
};

describe('drift messages', () => {
  it('escape everything someone else wrote, so that it cannot ping, link or break out of code', () => {
    const message = driftEventMessage(RECORD, ACCOUNT);
    const text = JSON.stringify(message);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil');
    expect(text).not.toMatch(/@here/);
    expect(text).not.toMatch(/https?:\/\/evil/);
    expect(text).toContain('&lt;!channel&gt;');
    expect(message.text).toContain('Drift fixed');
    expect(message.text).toContain('Put back: restored the tag(s) team');
  });

  it('say that a fix failed and where to look, never the error AWS gave', () => {
    const failed = driftEventMessage(
      { ...RECORD, outcome: 'failed', reason: 'AccessDenied: User arn:aws:iam::1:role/x SECRET-DETAIL-7f3a' },
      ACCOUNT,
    );
    expect(failed.text).toContain('Not fixed: an AWS call failed');
    expect(JSON.stringify(failed)).toContain('Vend could not put it back');
    expect(JSON.stringify(failed)).not.toContain('SECRET-DETAIL-7f3a');
    expect(JSON.stringify(failed)).not.toContain('AccessDenied');
    const swept = sweepMessage({
      mode: 'fix',
      checked: 2,
      findings: [
        {
          accountId: '123456789012',
          accountName: 'a',
          outcome: 'failed',
          changes: [],
          failures: [
            'tags: AccessDenied: SECRET-DETAIL-7f3a',
            'could not check the account: SECRET-DETAIL-7f3a',
          ],
        },
      ],
    });
    expect(JSON.stringify(swept)).toContain('could not check or fix tags');
    expect(JSON.stringify(swept)).toContain('could not check the account');
    expect(JSON.stringify(swept)).not.toContain('SECRET-DETAIL-7f3a');
  });

  it('say that report mode changed nothing, and that a closed account is not reopened', () => {
    const reported = driftEventMessage(
      { ...RECORD, outcome: 'reported', action: 'would restore the tag(s) team' },
      ACCOUNT,
    );
    expect(JSON.stringify(reported.blocks)).toContain('report mode');
    const closed = driftEventMessage(
      { ...RECORD, eventName: 'CloseAccount', aspects: ['membership'], outcome: 'reported', what: 'closed' },
      ACCOUNT,
    );
    expect(JSON.stringify(closed.blocks)).toContain('does not reopen accounts');
  });

  it('sum a sweep up, listing each account found drifted within Slack’s limits', () => {
    const findings = Array.from({ length: 30 }, (_, i) => ({
      accountId: String(100000000000 + i),
      accountName: `acct-${i}`,
      outcome: 'fixed' as const,
      changes: ['created role VendAdmin'],
      failures: [],
    }));
    const message = sweepMessage({ mode: 'fix', checked: 40, findings });
    expect(message.text).toContain('Checked 40 vended account(s): 30 put back');
    for (const block of message.blocks) {
      if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    }
    expect(JSON.stringify(message.blocks)).toContain('…and 10 more');
  });
});

/** Every text of a message, as Slack parses it. */
function messageTexts(message: SlackMessage): string[] {
  return [
    message.text,
    ...message.blocks.flatMap((block) => ('text' in block && block.text ? [block.text.text] : [])),
  ];
}

/** Controls except newline, bidi controls, zero-width characters. */
const INVISIBLE_OR_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

describe('drift messages with hostile fields (property)', () => {
  const messagesWith = (value: string, outcome: DriftRecord['outcome']) => {
    const account = {
      ...ACCOUNT,
      accountName: value,
      owner: value,
      organizationalUnit: { id: value, path: value },
    };
    const record = {
      ...RECORD,
      what: value,
      by: value,
      action: value,
      reason: value,
      eventName: value,
      outcome,
    };
    const finding = {
      accountId: value,
      accountName: value,
      outcome: 'failed' as const,
      changes: [value],
      failures: [value],
    };
    return [
      driftEventMessage(record, account),
      sweepMessage({ mode: 'fix', checked: 1, findings: [finding] }),
    ];
  };
  const hostile = fc
    .array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom(
          '<!channel>',
          '@here',
          '*',
          '_',
          '~',
          '`',
          '\n> ',
          'https://evil.example',
          'www.x',
          '\u202e',
          '\u200b',
          '\u0085',
        ),
      ),
      { maxLength: 10 },
    )
    .map((parts) => parts.join(''));
  const outcomes = fc.constantFrom<DriftRecord['outcome']>('fixed', 'reported', 'failed', 'in-sync');

  it('neither link, mention, format, quote nor hide text, whatever the account name, owner, tags or ARN say', () => {
    fc.assert(
      fc.property(hostile, outcomes, (value, outcome) => {
        const neutral = messagesWith('x', outcome);
        for (const [i, message] of messagesWith(value, outcome).entries()) {
          const neutralText = messageTexts(neutral[i]!).join('\n');
          const all = messageTexts(message);
          for (const text of all) {
            expect(text).not.toMatch(/[<>]/);
            expect(text).not.toMatch(/@(channel|here|everyone)/i);
            expect(text).not.toMatch(/:\/\/|www\./i);
            expect(text).not.toMatch(INVISIBLE_OR_CONTROL);
            expect(text).not.toMatch(/^\s*(&gt;|>)/m);
          }
          // Vend's own formatting only: no more formatting characters than with a plain value.
          for (const char of ['*', '_', '~', '`'])
            expect(all.join('\n').split(char).length, char).toBeLessThanOrEqual(
              neutralText.split(char).length,
            );
        }
      }),
      { seed: 21, numRuns: 200 },
    );
  });
});

describe('drift status', () => {
  it('is unknown before any check, drifted while any aspect is, else in sync', () => {
    const at = '2026-11-22T10:00:00.000Z';
    expect(driftStatus(undefined)).toBe('unknown');
    const state = { accountId: '1', history: [], version: 1, updatedAt: at };
    expect(driftStatus({ ...state, aspects: {} })).toBe('unknown');
    expect(driftStatus({ ...state, aspects: { tags: { status: 'in-sync', checkedAt: at } } })).toBe(
      'in-sync',
    );
    expect(
      driftStatus({
        ...state,
        aspects: {
          tags: { status: 'in-sync', checkedAt: at },
          baseline: { status: 'drifted', checkedAt: at },
        },
      }),
    ).toBe('drifted');
  });
});
