import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callerOf, matchArnOf } from '../../functions/api/caller.ts';
import { HttpError } from '../../functions/shared/errors.ts';

/** An event with only the identity API Gateway's IAM authorization fills in. */
function eventWith(identity: Record<string, string | null> | undefined): APIGatewayProxyEvent {
  return { requestContext: { identity } } as unknown as APIGatewayProxyEvent;
}

describe('the caller of an API request', () => {
  it('maps an assumed-role session to its role for matching, in every partition', () => {
    expect(matchArnOf('arn:aws:sts::123456789012:assumed-role/Developer/alice')).toBe(
      'arn:aws:iam::123456789012:role/Developer',
    );
    expect(matchArnOf('arn:aws-us-gov:sts::123456789012:assumed-role/PlatformAdmin/bob@example.com')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/PlatformAdmin',
    );
    expect(matchArnOf('arn:aws-cn:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0a1b2c/carol')).toBe(
      'arn:aws-cn:iam::123456789012:role/AWSReservedSSO_Dev_0a1b2c',
    );
  });

  it('keeps users, roots and anything that is not a session ARN as they are', () => {
    for (const arn of [
      'arn:aws:iam::123456789012:user/alice',
      'arn:aws:iam::123456789012:user/team/alice',
      'arn:aws:iam::123456789012:root',
      'arn:aws:iam::123456789012:role/Developer',
      'arn:aws:sts::123456789012:federated-user/alice',
      'arn:aws:sts::123456789012:assumed-role/Developer',
      'arn:aws:sts::12345:assumed-role/Developer/alice',
      'arn:aws:sts::123456789012:assumed-role/Developer/alice/extra',
    ]) {
      expect(matchArnOf(arn), arn).toBe(arn);
    }
  });

  it('reads userArn first, as API Gateway reports it, with the matching ARN and the account', () => {
    const event = eventWith({
      userArn: 'arn:aws:sts::123456789012:assumed-role/Developer/alice',
      caller: 'AROAEXAMPLEROLEID0000:alice',
      accountId: '123456789012',
    });
    expect(callerOf(event)).toEqual({
      arn: 'arn:aws:sts::123456789012:assumed-role/Developer/alice',
      matchArn: 'arn:aws:iam::123456789012:role/Developer',
      accountId: '123456789012',
    });
    expect(callerOf(eventWith({ userArn: null, caller: 'arn:aws:iam::123456789012:user/bob' }))).toEqual({
      arn: 'arn:aws:iam::123456789012:user/bob',
      matchArn: 'arn:aws:iam::123456789012:user/bob',
    });
  });

  it('refuses a request with no identity with 401 naming the Authorization header', () => {
    for (const identity of [undefined, { userArn: null, caller: null }, { userArn: '', caller: '' }]) {
      let thrown: unknown;
      try {
        callerOf(eventWith(identity));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(HttpError);
      expect(thrown).toMatchObject({ statusCode: 401, details: { field: 'Authorization' } });
    }
  });
});
