import { AwsError } from './errors.ts';
import type { HttpRequest } from './protocols/types.ts';
import type { CallerRecord, CloudState } from './state.ts';

export interface SignatureScope {
  accessKeyId: string;
  region: string;
  service: string;
}

/**
 * Reads the access key, region and service from a SigV4 `Authorization` header (or a presigned query).
 * Signatures are not verified: the local cloud trusts the key id, as LocalStack does.
 */
export function signatureScope(request: HttpRequest): SignatureScope | undefined {
  const header = request.headers.authorization;
  const credential = header
    ? /Credential=([^,\s]+)/.exec(header)?.[1]
    : (request.query.get('X-Amz-Credential') ?? undefined);
  if (!credential) return undefined;
  const [accessKeyId, _date, region, service] = credential.split('/');
  if (!accessKeyId || !region || !service) return undefined;
  return { accessKeyId, region, service };
}

/** The principal behind an access key, or the error AWS gives for a key it does not know or that has expired. */
export function resolveCaller(
  state: CloudState,
  scope: SignatureScope,
  sessionToken: string | undefined,
  now: number,
  unknownCredentialCode: string,
): CallerRecord {
  const credential = state.credentials[scope.accessKeyId];
  if (!credential) {
    throw new AwsError(unknownCredentialCode, 'The security token included in the request is invalid.', {
      status: 403,
    });
  }
  if (credential.sessionToken !== undefined) {
    if (sessionToken !== credential.sessionToken) {
      throw new AwsError(unknownCredentialCode, 'The security token included in the request is invalid.', {
        status: 403,
      });
    }
    if (credential.expiresAt !== undefined && credential.expiresAt <= now) {
      throw new AwsError(
        unknownCredentialCode.endsWith('Exception') ? 'ExpiredTokenException' : 'ExpiredToken',
        'The security token included in the request is expired',
        {
          status: 400,
        },
      );
    }
  }
  return credential.caller;
}

/** CloudTrail's userIdentity for a caller. */
export function userIdentity(caller: CallerRecord, accessKeyId: string): Record<string, unknown> {
  const identity: Record<string, unknown> = {
    type: caller.type,
    principalId: caller.principalId,
    arn: caller.arn,
    accountId: caller.accountId,
    accessKeyId,
  };
  if (caller.type === 'AssumedRole' && caller.roleArn) {
    identity.sessionContext = {
      sessionIssuer: {
        type: 'Role',
        principalId: caller.principalId.split(':')[0],
        arn: caller.roleArn,
        accountId: caller.accountId,
        userName: caller.roleArn.split('/').pop(),
      },
    };
  }
  return identity;
}
