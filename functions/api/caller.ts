import type { APIGatewayProxyEvent } from 'aws-lambda';
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

/** arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION (IAM User Guide, "IAM identifiers"). */
const ASSUMED_ROLE_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/;

/** The role ARN an assumed-role session ARN stands for; any other ARN as it is. */
export function matchArnOf(arn: string): string {
  const session = ASSUMED_ROLE_ARN.exec(arn);
  if (!session) return arn;
  const [, partition, accountId, roleName] = session;
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

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
