import {
  AccountClient,
  type AlternateContactType,
  GetAlternateContactCommand,
  PutAlternateContactCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-account';
import {
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
} from '@aws-sdk/client-ec2';
import {
  GetPublicAccessBlockCommand,
  NoSuchPublicAccessBlockConfiguration,
  type PublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import type { AlternateContact, AlternateContactKind, SecurityDefaults } from '../shared/config.ts';
import { AccountNotReadyError, aws, isAwsError } from '../shared/errors.ts';
import {
  type AccountContext,
  applyChanges,
  type Change,
  type Converger,
  change,
  converge,
} from './converger.ts';

/**
 * An EC2 call in the account. EC2 in a just-created account answers OptInRequired until AWS has activated it (EC2
 * API reference, error codes): not ready yet, which the state machine retries over minutes.
 */
async function ec2Call<T>(accountId: string, call: Promise<T>): Promise<T> {
  try {
    return await aws(call);
  } catch (error) {
    // EC2's error codes are not modelled in the SDK: the exception's name is the code.
    if (isAwsError(error, 'OptInRequired'))
      throw new AccountNotReadyError(`EC2 in account ${accountId} is not active yet`, { cause: error });
    throw error;
  }
}

/** The configured key for one region: `{region}` in an ARN stands for it. */
export function kmsKeyFor(kmsKeyId: string, region: string): string {
  return kmsKeyId.replaceAll('{region}', region);
}

/**
 * Whether GetEbsDefaultKmsKeyId's answer (an ARN, or `alias/aws/ebs` for the AWS managed key) is the key
 * configured: the same ARN, or an ARN ending in the configured key id or alias.
 */
function isConfiguredKey(current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  if (wanted.startsWith('arn:')) return current === wanted;
  if (wanted.startsWith('alias/')) return current === wanted || current.endsWith(`:${wanted}`);
  return current.endsWith(`:key/${wanted}`);
}

/**
 * EBS encryption by default in one region of the account (EC2: GetEbsEncryptionByDefault,
 * EnableEbsEncryptionByDefault; with a key configured, GetEbsDefaultKmsKeyId and ModifyEbsDefaultKmsKeyId). EBS
 * keeps the setting per account and per region. Both writes set the same state however often they run.
 */
export function ebsEncryptionConverger(region: string): Converger<{ kmsKeyId?: string }> {
  const aspect = `ebs-encryption:${region}`;
  return {
    aspect,
    async plan(desired, account) {
      const ec2 = async () => (await account.session(region)).client(EC2Client, { region });
      const enable = (summary: string, done: string): Change =>
        change(aspect, summary, done, async () =>
          ec2Call(account.accountId, (await ec2()).send(new EnableEbsEncryptionByDefaultCommand({}))),
        );
      const wantedKey = desired.kmsKeyId !== undefined ? kmsKeyFor(desired.kmsKeyId, region) : undefined;
      const setKey = (key: string): Change =>
        change(
          aspect,
          `set the default EBS key in ${region} to ${key}`,
          `set the default EBS key in ${region} to ${key}`,
          async () =>
            ec2Call(
              account.accountId,
              (await ec2()).send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: key })),
            ),
        );
      if (account.expectNew) {
        return [
          enable(
            `enable EBS encryption by default in ${region}`,
            `enabled EBS encryption by default in ${region}`,
          ),
          ...(wantedKey !== undefined ? [setKey(wantedKey)] : []),
        ];
      }
      const changes: Change[] = [];
      const { EbsEncryptionByDefault } = await ec2Call(
        account.accountId,
        (await ec2()).send(new GetEbsEncryptionByDefaultCommand({})),
      );
      if (EbsEncryptionByDefault !== true) {
        changes.push(
          enable(
            `turn on EBS encryption by default in ${region} (it was off)`,
            `turned on EBS encryption by default in ${region} (it was off)`,
          ),
        );
      }
      if (wantedKey !== undefined) {
        const { KmsKeyId } = await ec2Call(
          account.accountId,
          (await ec2()).send(new GetEbsDefaultKmsKeyIdCommand({})),
        );
        if (!isConfiguredKey(KmsKeyId, wantedKey)) changes.push(setKey(wantedKey));
      }
      return changes;
    },
    apply: applyChanges,
  };
}

const ALL_BLOCKED: Required<PublicAccessBlockConfiguration> = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/**
 * S3 account-level Block Public Access, all four settings on (S3 Control: GetPublicAccessBlock,
 * PutPublicAccessBlock, which replaces the whole configuration). S3 Control names the account in the request.
 */
export const s3BlockPublicAccessConverger: Converger<true> = {
  aspect: 's3-block-public-access',
  async plan(_desired, account) {
    const s3control = async () =>
      (await account.session()).client(S3ControlClient, { accountHostPrefix: true });
    const put = (summary: string, done: string): Change =>
      change('s3-block-public-access', summary, done, async () =>
        aws(
          (await s3control()).send(
            new PutPublicAccessBlockCommand({
              AccountId: account.accountId,
              PublicAccessBlockConfiguration: ALL_BLOCKED,
            }),
          ),
        ),
      );
    const turnOn = () => put('turn on S3 Block Public Access', 'turned on S3 Block Public Access');
    if (account.expectNew) return [turnOn()];
    let current: PublicAccessBlockConfiguration | undefined;
    try {
      current = (
        await aws((await s3control()).send(new GetPublicAccessBlockCommand({ AccountId: account.accountId })))
      ).PublicAccessBlockConfiguration;
    } catch (error) {
      if (!(error instanceof NoSuchPublicAccessBlockConfiguration)) throw error;
      return [turnOn()];
    }
    const off = (Object.keys(ALL_BLOCKED) as (keyof PublicAccessBlockConfiguration)[]).filter(
      (setting) => current?.[setting] !== true,
    );
    if (off.length === 0) return [];
    return [
      put(
        `turn on S3 Block Public Access (${off.join(', ')} off)`,
        `turned on S3 Block Public Access (${off.join(', ')} off)`,
      ),
    ];
  },
  apply: applyChanges,
};

/**
 * One alternate contact of the account (Account API: GetAlternateContact, PutAlternateContact, which replaces the
 * contact), set through a principal of the account itself, so without AccountId.
 */
export function alternateContactConverger(kind: AlternateContactKind): Converger<AlternateContact> {
  const aspect = `alternate-contact:${kind}`;
  const type = kind.toUpperCase() as AlternateContactType;
  return {
    aspect,
    async plan(desired, account) {
      const client = async () => (await account.session()).client(AccountClient);
      const put = (summary: string, done: string): Change =>
        change(aspect, summary, done, async () =>
          aws(
            (await client()).send(
              new PutAlternateContactCommand({
                AlternateContactType: type,
                Name: desired.name,
                Title: desired.title,
                EmailAddress: desired.email,
                PhoneNumber: desired.phone,
              }),
            ),
          ),
        );
      const set = () => put(`set the ${kind} contact`, `set the ${kind} contact`);
      if (account.expectNew) return [set()];
      try {
        const { AlternateContact: current } = await aws(
          (await client()).send(new GetAlternateContactCommand({ AlternateContactType: type })),
        );
        const same =
          current?.Name === desired.name &&
          current.Title === desired.title &&
          current.EmailAddress === desired.email &&
          current.PhoneNumber === desired.phone;
        return same ? [] : [put(`restore the ${kind} contact`, `restored the ${kind} contact`)];
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return [set()];
        throw error;
      }
    },
    apply: applyChanges,
  };
}

/** What converging the security defaults left in place (the apply-baseline step's output). */
export interface SecurityDefaultsOutcome {
  /** The regions EBS encryption by default is kept on in; empty when not managed. */
  ebsEncryptionRegions: string[];
  s3BlockPublicAccess: 'on' | 'not-managed';
  /** The alternate contact types set. */
  alternateContacts: AlternateContactKind[];
}

/**
 * Converges the account's security defaults, one converger after another: EBS encryption by default in each of
 * `regions`, S3 Block Public Access, the alternate contacts. Returns what they are, and each change made (in a dry
 * run, each change that would be) in words.
 */
export async function convergeSecurityDefaults(
  account: AccountContext,
  defaults: SecurityDefaults,
  regions: readonly string[],
  options: { dryRun?: boolean } = {},
): Promise<{ outcome: SecurityDefaultsOutcome; changeLog: string[] }> {
  const changeLog: string[] = [];
  const { ebsEncryption } = defaults;
  if (ebsEncryption) {
    for (const region of regions) {
      changeLog.push(
        ...(await converge(ebsEncryptionConverger(region), ebsEncryption, account, options)).changeLog,
      );
    }
  }
  if (defaults.s3BlockPublicAccess) {
    changeLog.push(...(await converge(s3BlockPublicAccessConverger, true, account, options)).changeLog);
  }
  const kinds = (['security', 'billing', 'operations'] as const).filter(
    (kind) => defaults.alternateContacts[kind] !== undefined,
  );
  for (const kind of kinds) {
    const contact = defaults.alternateContacts[kind] as AlternateContact;
    changeLog.push(...(await converge(alternateContactConverger(kind), contact, account, options)).changeLog);
  }
  return {
    outcome: {
      ebsEncryptionRegions: ebsEncryption ? [...regions] : [],
      s3BlockPublicAccess: defaults.s3BlockPublicAccess ? 'on' : 'not-managed',
      alternateContacts: kinds,
    },
    changeLog,
  };
}
