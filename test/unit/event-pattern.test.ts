import { describe, expect, it } from 'vitest';
import { DRIFT_EVENT_PATTERN } from '../../functions/shared/drift-pattern.ts';
import { UnsupportedPatternError } from '../../functions/shared/errors.ts';
import { matchesPattern } from '../../functions/shared/event-pattern.ts';

/** An Organizations CloudTrail record as EventBridge delivers it. */
function organizationsEvent(eventName: string, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'e1',
    'detail-type':
      eventName === 'CreateAccountResult'
        ? 'AWS Service Event via CloudTrail'
        : 'AWS API Call via CloudTrail',
    source: 'aws.organizations',
    account: '000000000000',
    time: '2026-11-22T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventSource: 'organizations.amazonaws.com',
      eventName,
      requestParameters: { accountId: '123456789012' },
    },
    ...overrides,
  };
}

describe('matchesPattern (EventBridge matching, for lists of values and nested objects)', () => {
  it('matches a field whose value is one of the listed values, and only then', () => {
    expect(matchesPattern({ source: ['aws.organizations', 'aws.iam'] }, { source: 'aws.iam' })).toBe(true);
    expect(matchesPattern({ source: ['aws.organizations'] }, { source: 'aws.ec2' })).toBe(false);
  });

  it('compares exactly: case, type and number value', () => {
    expect(matchesPattern({ source: ['aws.organizations'] }, { source: 'AWS.Organizations' })).toBe(false);
    expect(matchesPattern({ n: [5] }, { n: '5' })).toBe(false);
    expect(matchesPattern({ n: [5] }, { n: 5.0 })).toBe(true);
    expect(matchesPattern({ b: [true] }, { b: true })).toBe(true);
    expect(matchesPattern({ b: [true] }, { b: 'true' })).toBe(false);
    expect(matchesPattern({ v: [null] }, { v: null })).toBe(true);
  });

  it('needs every field the pattern names, and ignores the others', () => {
    const pattern = { source: ['a'], 'detail-type': ['t'] };
    expect(matchesPattern(pattern, { source: 'a', 'detail-type': 't', extra: 1 })).toBe(true);
    expect(matchesPattern(pattern, { source: 'a' })).toBe(false);
    expect(matchesPattern({}, { anything: true })).toBe(true);
  });

  it('matches nested objects field by field, and not a value where an object is wanted', () => {
    const pattern = { detail: { eventName: ['MoveAccount'], requestParameters: { accountId: ['1'] } } };
    expect(
      matchesPattern(pattern, {
        detail: { eventName: 'MoveAccount', requestParameters: { accountId: '1' } },
      }),
    ).toBe(true);
    expect(
      matchesPattern(pattern, {
        detail: { eventName: 'MoveAccount', requestParameters: { accountId: '2' } },
      }),
    ).toBe(false);
    expect(matchesPattern(pattern, { detail: 'MoveAccount' })).toBe(false);
    expect(matchesPattern(pattern, { detail: null })).toBe(false);
    expect(matchesPattern({ detail: ['x'] }, { detail: { x: 1 } })).toBe(false);
  });

  it('matches an array value when any of its items is listed', () => {
    expect(matchesPattern({ resources: ['arn:b'] }, { resources: ['arn:a', 'arn:b'] })).toBe(true);
    expect(matchesPattern({ resources: ['arn:c'] }, { resources: ['arn:a', 'arn:b'] })).toBe(false);
    expect(matchesPattern({ resources: ['arn:c'] }, { resources: [] })).toBe(false);
  });

  it('matches nothing that is not an object', () => {
    for (const event of [null, undefined, 'x', 1, [], [{ source: 'a' }]]) {
      expect(matchesPattern({ source: ['a'] }, event)).toBe(false);
    }
  });

  it('refuses what it does not implement instead of matching it wrongly', () => {
    expect(() => matchesPattern({ source: [{ prefix: 'aws.' }] } as never, { source: 'aws.iam' })).toThrow(
      UnsupportedPatternError,
    );
    expect(() => matchesPattern({ source: [] }, { source: 'a' })).toThrow(UnsupportedPatternError);
    expect(() => matchesPattern({ source: 'a' } as never, { source: 'a' })).toThrow(UnsupportedPatternError);
  });
});

describe('the drift pattern', () => {
  it.each([
    'MoveAccount',
    'TagResource',
    'UntagResource',
    'CloseAccount',
    'RemoveAccountFromOrganization',
    'CreateAccountResult',
  ])('matches %s from Organizations', (eventName) => {
    expect(matchesPattern(DRIFT_EVENT_PATTERN, organizationsEvent(eventName))).toBe(true);
  });

  it('does not match other Organizations calls, other detail types or other services', () => {
    expect(matchesPattern(DRIFT_EVENT_PATTERN, organizationsEvent('CreateOrganizationalUnit'))).toBe(false);
    expect(
      matchesPattern(DRIFT_EVENT_PATTERN, organizationsEvent('MoveAccount', { source: 'aws.iam' })),
    ).toBe(false);
    expect(
      matchesPattern(
        DRIFT_EVENT_PATTERN,
        organizationsEvent('MoveAccount', { 'detail-type': 'AWS Console Sign In via CloudTrail' }),
      ),
    ).toBe(false);
    const iamEvent = organizationsEvent('TagResource');
    iamEvent.detail.eventSource = 'iam.amazonaws.com';
    expect(matchesPattern(DRIFT_EVENT_PATTERN, iamEvent)).toBe(false);
  });
});
