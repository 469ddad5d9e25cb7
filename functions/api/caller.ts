import type { APIGatewayProxyEvent } from 'aws-lambda';
import { matchArnOf } from '../shared/access.ts';
import { HttpError } from '../shared/errors.ts';

/** Who is asking, as API Gateway's IAM authorization reports it. */
export interface Caller {
  /**
   * The principal's ARN as API Gateway reports it (`requestContext.identity.userArn`): for an assumed role, the
   * session's ARN, arn:aws:sts::123456789012:assumed-role/Role/session. Stored with a request as its principal.
   */
  arn: string;
  /**
   * The ARN to match against access patterns: an assumed-role session's role
   * (arn:aws:iam::123456789012:role/Role), any other principal's ARN as it is. The session ARN carries no role
   * path, so a role with a path (role/team/Role) maps to role/Role: patterns for such roles should use `*`
   * (arn:aws:iam::123456789012:role/*Role).
   */
  matchArn: string;
  /** The caller's account, when API Gateway gives it. */
  accountId?: string;
}

export { matchArnOf };

/** Who is asking: the identity API Gateway's IAM authorization filled in; 401 when there is none. */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const identity = event.requestContext?.identity;
  const arn = identity?.userArn || identity?.caller;
  if (!arn) {
    throw new HttpError(401, 'the request carries no caller identity', {
      field: 'Authorization',
      fix: 'Sign the request with AWS credentials (SigV4, service execute-api).',
    });
  }
  return {
    arn,
    matchArn: matchArnOf(arn),
    ...(identity?.accountId ? { accountId: identity.accountId } : {}),
  };
}
