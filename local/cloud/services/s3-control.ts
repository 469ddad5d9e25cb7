import { AwsError } from '../errors.ts';
import { type S3ControlRoute, s3ControlProtocol } from '../protocols/s3-control.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { PublicAccessBlockRecord } from '../state.ts';

/** The account-level Public Access Block operations, as client-s3-control's schema places them. */
const ROUTES: readonly S3ControlRoute[] = [
  {
    operation: 'GetPublicAccessBlock',
    method: 'GET',
    path: '/v20180820/configuration/publicAccessBlock',
  },
  {
    operation: 'PutPublicAccessBlock',
    method: 'PUT',
    path: '/v20180820/configuration/publicAccessBlock',
    payload: 'PublicAccessBlockConfiguration',
  },
  {
    operation: 'DeletePublicAccessBlock',
    method: 'DELETE',
    path: '/v20180820/configuration/publicAccessBlock',
  },
];

/** The four settings, in the order of the SDK model's PublicAccessBlockConfiguration. */
const SETTINGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;

/**
 * The IAM action of each operation, which SCPs match (S3 API Reference: GetPublicAccessBlock needs
 * s3:GetAccountPublicAccessBlock; PutPublicAccessBlock and DeletePublicAccessBlock need
 * s3:PutAccountPublicAccessBlock).
 */
const IAM_ACTIONS: Record<string, string> = {
  GetPublicAccessBlock: 's3:GetAccountPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutAccountPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutAccountPublicAccessBlock',
};

/**
 * The account in `x-amz-account-id` (required, `^\d{12}$`, S3 API Reference), which must be the caller's own: S3
 * Control answers AccessDenied (HTTP 403, "Access Denied") for another account's configuration. The SDK checks the
 * id before sending (it becomes part of the host name), so a malformed one reaches the local cloud only from
 * hand-made requests; they get S3's InvalidRequest.
 */
function ownAccount({ caller }: CallContext, input: Input): string {
  const accountId = input.AccountId;
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    throw new AwsError('InvalidRequest', 'The x-amz-account-id header must be a 12-digit account ID.');
  }
  if (accountId !== caller.accountId) throw new AwsError('AccessDenied', 'Access Denied');
  return accountId;
}

/**
 * S3 Control's account-level Block Public Access (REST-XML, signing name `s3`): GetPublicAccessBlock,
 * PutPublicAccessBlock, DeletePublicAccessBlock (S3 API Reference, "Amazon S3 Control" actions; shapes from
 * client-s3-control's model). One configuration per account, global to the account; none until the first Put,
 * when Get answers NoSuchPublicAccessBlockConfiguration (HTTP 404). A setting left out of a Put is false.
 */
export const s3Control: ServiceDefinition = {
  signingName: 's3',
  eventSource: 's3.amazonaws.com',
  protocol: s3ControlProtocol(ROUTES),
  errorStatus: {
    NoSuchPublicAccessBlockConfiguration: 404,
    UnknownOperationException: 404,
  },
  invalid: (message) => new AwsError('InvalidRequest', message),
  unknownCredentialCode: 'InvalidAccessKeyId',
  unknownOperationCode: 'UnknownOperationException',
  accessDeniedCode: 'AccessDenied',
  iamAction: (operation) => IAM_ACTIONS[operation] ?? `s3:${operation}`,
  operations: {
    GetPublicAccessBlock: {
      mutating: false,
      run(context, input) {
        const accountId = ownAccount(context, input);
        const configuration = context.cloud.state.accounts[accountId]?.publicAccessBlock;
        if (!configuration) {
          throw new AwsError(
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
          );
        }
        return { PublicAccessBlockConfiguration: { ...configuration } };
      },
    },
    PutPublicAccessBlock: {
      mutating: true,
      run(context, input) {
        const accountId = ownAccount(context, input);
        const { params } = context;
        const given = params.object(input, 'PublicAccessBlockConfiguration');
        if (!given) {
          throw new AwsError(
            'MissingRequestBodyError',
            'Request Body is empty, the request must contain a PublicAccessBlockConfiguration',
          );
        }
        const configuration = Object.fromEntries(
          SETTINGS.map((setting) => [setting, params.boolean(given, setting) ?? false]),
        ) as unknown as PublicAccessBlockRecord;
        const account = context.cloud.state.accounts[accountId];
        if (account) account.publicAccessBlock = configuration;
        return undefined;
      },
    },
    DeletePublicAccessBlock: {
      mutating: true,
      run(context, input) {
        const accountId = ownAccount(context, input);
        const account = context.cloud.state.accounts[accountId];
        // Deleting a configuration that does not exist succeeds (S3 API Reference lists no error for it).
        if (account) delete account.publicAccessBlock;
        return undefined;
      },
    },
  },
};
