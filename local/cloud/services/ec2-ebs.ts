import { createHash } from 'node:crypto';
import type { Cloud } from '../cloud.ts';
import { AwsError } from '../errors.ts';
import type { CallContext, Input, OperationDefinition } from '../service.ts';
import type { EbsDefaultsRecord } from '../state.ts';
import { requireSubscribed } from './ec2-activation.ts';

/** The alias of the AWS managed key EBS uses when no customer managed key is set (Amazon EBS User Guide). */
export const AWS_MANAGED_EBS_ALIAS = 'alias/aws/ebs';

/**
 * The four forms ModifyEbsDefaultKmsKeyId takes (SDK model, ModifyEbsDefaultKmsKeyIdRequest.KmsKeyId): key ID
 * (a UUID, or `mrk-` and 32 hex digits for a multi-Region key), alias name, key ARN and alias ARN. Alias names
 * follow KMS's CreateAlias constraint (`alias/` then letters, digits, `/`, `_`, `-`; at most 256 characters).
 */
const KEY_ID = '(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})';
const ALIAS = 'alias/[a-zA-Z0-9/_-]+';
const ARN_PREFIX = 'arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-[a-z]+)+-\\d:\\d{12}:';
const KEY_ID_FORM = new RegExp(`^${KEY_ID}$`);
const ALIAS_FORM = new RegExp(`^${ALIAS}$`);
const ARN_FORM = new RegExp(`^${ARN_PREFIX}(?:key/${KEY_ID}|${ALIAS})$`);
const MAX_ALIAS_LENGTH = 256;

/**
 * EBS encryption by default (EC2 Query), per account and per Region, in the caller's account and the region the
 * request was signed for: EnableEbsEncryptionByDefault, DisableEbsEncryptionByDefault, GetEbsEncryptionByDefault,
 * GetEbsDefaultKmsKeyId, ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId (EC2 API reference; shapes from the
 * SDK model, `EnableEbsEncryptionByDefaultResult` ...). A new account has it off in every Region, with the AWS
 * managed key `alias/aws/ebs`. Each operation takes DryRun, answered with DryRunOperation (HTTP 412).
 */
export const ebsOperations: Record<string, OperationDefinition> = {
  EnableEbsEncryptionByDefault: {
    mutating: true,
    run: (context, input) => ({ ebsEncryptionByDefault: setEncryption(context, input, true) }),
  },
  DisableEbsEncryptionByDefault: {
    mutating: true,
    run: (context, input) => ({ ebsEncryptionByDefault: setEncryption(context, input, false) }),
  },
  GetEbsEncryptionByDefault: {
    mutating: false,
    run(context, input) {
      const defaults = readDefaults(context, input);
      // GetEbsEncryptionByDefaultResult also has SseType, "reserved for future use" (SDK model): left out.
      return { ebsEncryptionByDefault: defaults.encryptionByDefault };
    },
  },
  GetEbsDefaultKmsKeyId: {
    mutating: false,
    run(context, input) {
      const defaults = readDefaults(context, input);
      // AWS answers the alias itself while the AWS managed key is the default (AWS CLI reference, examples of
      // get-ebs-default-kms-key-id: `"KmsKeyId": "alias/aws/ebs"`), and the key's ARN once one is set.
      return { kmsKeyId: defaults.kmsKeyArn ?? AWS_MANAGED_EBS_ALIAS };
    },
  },
  ModifyEbsDefaultKmsKeyId: {
    mutating: true,
    run(context, input) {
      const { cloud, caller, region, params } = context;
      requireSubscribed(cloud, caller.accountId);
      const kmsKeyId = params.string(input, 'KmsKeyId');
      if (kmsKeyId === undefined)
        throw new AwsError('MissingParameter', 'The request must contain the parameter KmsKeyId');
      const kmsKeyArn = keyArn(kmsKeyId, caller.accountId, region);
      refuseDryRun(context, input);
      defaultsFor(cloud, caller.accountId, region).kmsKeyArn = kmsKeyArn;
      return { kmsKeyId: kmsKeyArn };
    },
  },
  ResetEbsDefaultKmsKeyId: {
    mutating: true,
    run(context, input) {
      const { cloud, caller, region } = context;
      requireSubscribed(cloud, caller.accountId);
      refuseDryRun(context, input);
      delete defaultsFor(cloud, caller.accountId, region).kmsKeyArn;
      // AWS answers the ARN of the AWS managed key for EBS (AWS CLI reference, example of
      // reset-ebs-default-kms-key-id: `arn:aws:kms:us-west-2:123456789012:key/...`).
      return { kmsKeyId: awsManagedKeyArn(caller.accountId, region) };
    },
  },
};

function setEncryption(context: CallContext, input: Input, enabled: boolean): boolean {
  const { cloud, caller, region } = context;
  requireSubscribed(cloud, caller.accountId);
  refuseDryRun(context, input);
  defaultsFor(cloud, caller.accountId, region).encryptionByDefault = enabled;
  return enabled;
}

/** The caller's defaults in the request's region, after the activation and DryRun checks; changes nothing. */
function readDefaults(context: CallContext, input: Input): EbsDefaultsRecord {
  const { cloud, caller, region } = context;
  requireSubscribed(cloud, caller.accountId);
  refuseDryRun(context, input);
  return cloud.state.accounts[caller.accountId]?.ebsDefaults?.[region] ?? { encryptionByDefault: false };
}

/** The record to change, made with AWS's defaults on first write. */
function defaultsFor(cloud: Cloud, accountId: string, region: string): EbsDefaultsRecord {
  const account = cloud.state.accounts[accountId];
  if (!account)
    throw new AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials');
  account.ebsDefaults ??= {};
  account.ebsDefaults[region] ??= { encryptionByDefault: false };
  return account.ebsDefaults[region];
}

/** DryRun: the permission check passes (the caller acts in its own account), so the answer is DryRunOperation. */
function refuseDryRun({ params }: CallContext, input: Input): void {
  if (params.boolean(input, 'DryRun') ?? false)
    throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
}

/**
 * The ARN of the key `kmsKeyId` names, in any of its four forms; anything else is InvalidParameterValue, with the
 * account's state unchanged. AWS resolves an alias to its key's ARN (AWS CLI reference, example of
 * modify-ebs-default-kms-key-id); the local cloud has no KMS to resolve it in, so an alias stays an alias ARN.
 */
function keyArn(kmsKeyId: string, accountId: string, region: string): string {
  const alias = /(?:^|:)(alias\/.*)$/.exec(kmsKeyId)?.[1];
  const valid =
    (KEY_ID_FORM.test(kmsKeyId) || ALIAS_FORM.test(kmsKeyId) || ARN_FORM.test(kmsKeyId)) &&
    (alias === undefined || alias.length <= MAX_ALIAS_LENGTH);
  if (!valid) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value (${kmsKeyId}) for parameter KmsKeyId is invalid. Use a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), ` +
        'a key ARN, an alias name (alias/ExampleAlias) or an alias ARN.',
    );
  }
  if (kmsKeyId.startsWith('arn:')) return kmsKeyId;
  return `arn:aws:kms:${region}:${accountId}:${alias ?? `key/${kmsKeyId}`}`;
}

/** The AWS managed key for EBS of one account and region, with a key id derived from both (stable across restarts). */
function awsManagedKeyArn(accountId: string, region: string): string {
  const hex = createHash('sha256').update(`${accountId}/${region}/${AWS_MANAGED_EBS_ALIAS}`).digest('hex');
  const keyId = [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20, 32),
  ].join('-');
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}
