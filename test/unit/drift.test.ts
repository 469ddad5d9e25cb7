import { describe, expect, it } from 'vitest';
import { isOwnPrincipal, roleArnOf } from '../../functions/drift/checks.ts';
import { driftEventMessage, sweepMessage } from '../../functions/drift/messages.ts';
import { configFromEnv, parseConfig } from '../../functions/shared/config.ts';
import type { AccountDesiredState, DriftRecord } from '../../functions/shared/model.ts';
import { driftStatus } from '../../functions/shared/model.ts';

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
    expect(text).not.toMatch(/(^|[^\u200d])@here/);
    expect(text).toContain('&lt;!channel&gt;');
    expect(message.text).toContain('Drift fixed');
    expect(message.text).toContain('Put back: restored the tag(s) team');
  });

  it('say why a fix failed, that report mode changed nothing, and that a closed account is not reopened', () => {
    expect(
      driftEventMessage({ ...RECORD, outcome: 'failed', reason: 'AccessDenied' }, ACCOUNT).text,
    ).toContain('Not fixed: AccessDenied');
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
