import { describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  classifyAwsError,
  ThrottledError,
  TransientError,
} from '../../functions/shared/errors.ts';

/** An SDK-shaped service error: its name is the exception, with the HTTP status in `$metadata`. */
function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('mapping AWS errors to how the workflow treats them', () => {
  it('maps throttling, concurrent changes and AWS-side failures by exception name, never by message', () => {
    expect(classifyAwsError(awsError('TooManyRequestsException'))).toBeInstanceOf(ThrottledError);
    expect(classifyAwsError(awsError('Throttling'))).toBeInstanceOf(ThrottledError);
    expect(classifyAwsError(awsError('PriorRequestNotComplete'))).toBeInstanceOf(ConcurrentModificationError);
    expect(classifyAwsError(awsError('ServiceUnavailableException', 503))).toBeInstanceOf(TransientError);
    expect(classifyAwsError(awsError('SomethingNew', 502))).toBeInstanceOf(TransientError);
  });

  it('retries a call whose assumed-role credentials expired meanwhile, so the next attempt assumes the role again', () => {
    expect(classifyAwsError(awsError('ExpiredToken'))).toBeInstanceOf(TransientError);
    expect(classifyAwsError(awsError('ExpiredTokenException'))).toBeInstanceOf(TransientError);
  });

  it('leaves what retrying will not mend as it is', () => {
    const denied = awsError('AccessDenied', 403);
    expect(classifyAwsError(denied)).toBe(denied);
  });
});
