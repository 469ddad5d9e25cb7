import { AwsError } from '../errors.ts';
import { queryProtocol } from '../protocols/query.ts';
import type { ServiceDefinition } from '../service.ts';
import { trustPolicyAllows } from './trust.ts';

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)?([\w+=,.@-]+)$/;

export const sts: ServiceDefinition = {
  signingName: 'sts',
  eventSource: 'sts.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: queryProtocol('https://sts.amazonaws.com/doc/2011-06-15/'),
  errorStatus: {
    AccessDenied: 403,
    ValidationError: 400,
    MalformedPolicyDocument: 400,
    RegionDisabledException: 403,
  },
  invalid: (message) => new AwsError('ValidationError', message),
  unknownCredentialCode: 'InvalidClientTokenId',
  accessDeniedCode: 'AccessDenied',
  unknownOperationCode: 'InvalidAction',
  operations: {
    GetCallerIdentity: {
      mutating: false,
      run: ({ caller }) => ({ UserId: caller.principalId, Account: caller.accountId, Arn: caller.arn }),
    },

    AssumeRole: {
      mutating: true,
      run({ cloud, caller, params }, input) {
        const roleArn = params.string(input, 'RoleArn', { required: true, min: 20, max: 2048 });
        const sessionName = params.string(input, 'RoleSessionName', {
          required: true,
          min: 2,
          max: 64,
          pattern: /^[\w+=,.@-]*$/,
        });
        const duration =
          params.number(input, 'DurationSeconds', { integer: true, min: 900, max: 43_200 }) ?? 3600;
        const externalId = params.string(input, 'ExternalId', {
          min: 2,
          max: 1224,
          pattern: /^[\w+=,.@:/-]*$/,
        });
        const serialNumber = params.string(input, 'SerialNumber', { min: 9, max: 256 });
        const tokenCode = params.string(input, 'TokenCode', { min: 6, max: 6, pattern: /^\d{6}$/ });
        if ((serialNumber === undefined) !== (tokenCode === undefined)) {
          params.fail('SerialNumber and TokenCode must be given together.');
        }
        const denied = () =>
          new AwsError(
            'AccessDenied',
            `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
          );

        const match = ROLE_ARN.exec(roleArn) ?? params.fail(`${roleArn} is invalid`);
        const [, accountId, path = '/', roleName] = match;
        const account = cloud.state.accounts[accountId!];
        const role = account?.iam.roles[roleName!];
        if (account?.status !== 'ACTIVE' || !role || role.path !== path) throw denied();
        // New accounts: IAM in a fresh account is eventually consistent, and AssumeRole is refused for a while
        // (Organizations User Guide, "Accessing member accounts").
        if (
          account.joinedMethod === 'CREATED' &&
          cloud.clock.now() < account.joinedAt + cloud.settings.consistencyWindowMs
        ) {
          if (accountId !== cloud.state.organization.managementAccountId) throw denied();
        }
        const allowed = trustPolicyAllows(role.assumeRolePolicyDocument, {
          caller,
          externalId,
          roleSessionName: sessionName,
          multiFactorAuthPresent: tokenCode !== undefined,
          organizationId: cloud.state.organization.id,
        });
        if (!allowed) throw denied();
        const maximum = caller.type === 'AssumedRole' ? 3600 : role.maxSessionDuration;
        if (duration > maximum) {
          params.fail(
            `The requested DurationSeconds exceeds the ${caller.type === 'AssumedRole' ? '1 hour session limit for roles assumed by role chaining' : 'MaxSessionDuration set for this role'}.`,
          );
        }

        const accessKeyId = cloud.ids.temporaryAccessKeyId();
        const secretAccessKey = cloud.ids.secret();
        const sessionToken = `FwoGZXIvYXdzE${cloud.ids.secret(120)}`;
        const expiresAt = cloud.clock.now() + duration * 1000;
        const assumedRoleId = `${role.roleId}:${sessionName}`;
        const assumedArn = `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
        cloud.state.credentials[accessKeyId] = {
          accessKeyId,
          secretAccessKey,
          sessionToken,
          expiresAt,
          caller: {
            accountId: accountId!,
            arn: assumedArn,
            type: 'AssumedRole',
            principalId: assumedRoleId,
            roleArn: `arn:aws:iam::${accountId}:role${path}${roleName}`,
          },
        };
        pruneExpired(cloud.state.credentials, cloud.clock.now());
        return {
          Credentials: {
            AccessKeyId: accessKeyId,
            SecretAccessKey: secretAccessKey,
            SessionToken: sessionToken,
            Expiration: new Date(expiresAt),
          },
          AssumedRoleUser: { AssumedRoleId: assumedRoleId, Arn: assumedArn },
          PackedPolicySize: 0,
        };
      },
    },
  },
};

/** Forgets temporary credentials that expired over an hour ago, so the state does not grow without end. */
function pruneExpired(credentials: Record<string, { expiresAt?: number }>, now: number): void {
  for (const [id, credential] of Object.entries(credentials)) {
    if (credential.expiresAt !== undefined && credential.expiresAt < now - 3_600_000) delete credentials[id];
  }
}
