import { CreateAccountFailureReason } from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import {
  EXPLAINED_CREATION_FAILURE_REASONS,
  explainCreationFailure,
} from '../../functions/shared/failure-reasons.ts';

const GENERIC = 'AWS Organizations could not create the account (reason:';

describe('explainCreationFailure', () => {
  // Values, not keys: the SDK's keys have had typos (PENDING_BUSINESS_VALIDATIONv).
  it.each(Object.values(CreateAccountFailureReason))(
    'explains %s with its own reason and advice',
    (reason) => {
      const explained = explainCreationFailure(reason);
      expect(explained.reason).not.toContain(GENERIC);
      expect(explained.reason.length).toBeGreaterThan(20);
      expect(explained.advice.length).toBeGreaterThan(20);
    },
  );

  it('has text for exactly the SDK enum values, so a reason AWS adds shows up here', () => {
    expect([...EXPLAINED_CREATION_FAILURE_REASONS].sort()).toEqual(
      [...Object.values(CreateAccountFailureReason)].sort(),
    );
  });

  it('tells the requester to use another address when the email already belongs to an account', () => {
    const { reason, advice } = explainCreationFailure('EMAIL_ALREADY_EXISTS');
    expect(reason).toMatch(/already belongs to an AWS account/);
    expect(advice).toMatch(/another address/);
  });

  it('says how to raise the account quota when the organization is at it', () => {
    const { advice } = explainCreationFailure('ACCOUNT_LIMIT_EXCEEDED');
    expect(advice).toMatch(/Service Quotas/);
    expect(advice).toMatch(/AWS Support/);
  });

  it('explains a reason it does not know by naming it', () => {
    const { reason, advice } = explainCreationFailure('SOMETHING_AWS_ADDED_LATER');
    expect(reason).toContain('SOMETHING_AWS_ADDED_LATER');
    expect(advice).toMatch(/platform team/);
  });

  it.each([[''], ['  '], [undefined]])('explains a missing reason (%j) without leaving a blank', (reason) => {
    expect(explainCreationFailure(reason).reason).toContain('no reason given');
  });

  it.each(['constructor', 'toString', '__proto__'])('does not mistake %s for a known reason', (reason) => {
    expect(explainCreationFailure(reason).reason).toContain(`reason: ${reason}`);
  });
});
