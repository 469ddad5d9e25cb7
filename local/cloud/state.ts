import type { IdentityCenterState } from './identity-center.ts';

/**
 * The whole local cloud as one JSON-serialisable value: what the data file holds, and what a restart restores.
 * Timestamps are epoch milliseconds on the cloud's clock.
 */
export interface CloudState {
  readonly version: 1;
  region: string;
  organization: OrganizationRecord;
  organizationalUnits: Record<string, OrganizationalUnitRecord>;
  accounts: Record<string, AccountRecord>;
  createAccountRequests: Record<string, CreateAccountRequestRecord>;
  /** Tags of Organizations resources (accounts, OUs, the root, policies), by resource id. */
  tags: Record<string, Record<string, string>>;
  /**
   * Organizations policies by id, the AWS managed `p-FullAWSAccess` included. Absent from states saved before
   * policies existed: the loader adds it (local/cloud/policies.ts, `backfillPolicies`).
   */
  policies: Record<string, PolicyRecord>;
  /** Policy types enabled on the root (EnablePolicyType); the root's `PolicyTypes`. */
  enabledPolicyTypes: string[];
  credentials: Record<string, CredentialRecord>;
  hostedZones: Record<string, HostedZoneRecord>;
  /** Global account aliases, alias -> account id (aliases are unique across AWS). */
  accountAliases: Record<string, string>;
  /**
   * IAM Identity Center: its instance and identity store. Absent from states saved before it existed
   * (local/cloud/identity-center.ts, `identityCenterOf`).
   */
  identityCenter?: IdentityCenterState;
  settings: CloudSettings;
  /** Recent audit events, oldest first (bounded). */
  audit: AuditEvent[];
  /** Sequence number of the next audit event. */
  auditSequence: number;
}

export interface CloudSettings {
  /** Simulated milliseconds a CreateAccount stays IN_PROGRESS. */
  creationDelayMs: number;
  /** Simulated milliseconds after creation during which AssumeRole into the new account is refused. */
  consistencyWindowMs: number;
  /**
   * Simulated milliseconds after creation during which EC2 in the new account answers OptInRequired (HTTP 401):
   * AWS activates a new account's services after Organizations reports it created (EC2 API reference, error codes:
   * OptInRequired, "your account might take some time to be activated").
   */
  serviceActivationMs: number;
  /** Simulated milliseconds after the activation window during which the new account has no default VPC yet. */
  defaultVpcDelayMs: number;
  /**
   * VPCs one private hosted zone may be associated with: Route 53's MAX_VPCS_ASSOCIATED_BY_ZONE, 300 by default
   * (Route 53 Developer Guide, "Quotas"; GetHostedZoneLimit).
   */
  maxVpcsPerHostedZone: number;
  /** CreateAccount requests allowed IN_PROGRESS at once. */
  maxCreationsInProgress: number;
  /**
   * CreateAccount requests allowed in any 24 hours of the simulated clock (a rolling day). Refused, like the limit
   * in progress, with ConstraintViolationException reason ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED.
   */
  maxCreationsPerDay: number;
  /** Accounts allowed in the organization (closed ones count, as in AWS). */
  maxAccounts: number;
  /** Simulated milliseconds a closing account stays PENDING_CLOSURE before it is SUSPENDED. */
  closureDelayMs: number;
  /**
   * The CloseAccount quota: in any rolling 30 days the organization may close the higher of
   * `closeAccountQuotaMinimum` accounts and `closeAccountQuotaPercent`% of its member accounts, at most
   * `closeAccountQuotaMaximum` (the SDK model, CloseAccountCommand: "the higher of either 250 or 20% of the member
   * accounts in your organization, up to a maximum of 1,000"; older documentation said 10%, between 10 and 1000).
   * Past it, CloseAccount answers ConstraintViolationException CLOSE_ACCOUNT_QUOTA_EXCEEDED. Absent from states
   * saved before the quota existed: the defaults (20, 250, 1000) apply.
   */
  closeAccountQuotaPercent?: number;
  /** See `closeAccountQuotaPercent`. @default 250 */
  closeAccountQuotaMinimum?: number;
  /** See `closeAccountQuotaPercent`. @default 1000 */
  closeAccountQuotaMaximum?: number;
  /**
   * Closures allowed PENDING_CLOSURE at once; past it CloseAccount answers ConstraintViolationException
   * CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED ("the number of accounts that you can close at a time", SDK model). AWS
   * publishes no figure: unlimited when absent.
   */
  maxClosuresInProgress?: number;
  /** How the next creations end, first in first out; when empty, they succeed. */
  nextCreationOutcomes: CreationOutcome[];
  /**
   * Simulated milliseconds an Identity Center account assignment creation or deletion, or a permission set
   * provisioning, stays IN_PROGRESS. Absent from states saved before Identity Center existed: the default applies.
   */
  identityCenterDelayMs?: number;
}

export interface CreationOutcome {
  state: 'SUCCEEDED' | 'FAILED';
  failureReason?: string;
  /** Overrides `creationDelayMs` for this creation. */
  delayMs?: number;
}

export interface OrganizationRecord {
  id: string;
  arn: string;
  featureSet: 'ALL' | 'CONSOLIDATED_BILLING';
  managementAccountId: string;
  rootId: string;
  rootName: string;
}

/** An Organizations policy and where it is attached. */
export interface PolicyRecord {
  id: string;
  name: string;
  description: string;
  type: 'SERVICE_CONTROL_POLICY';
  awsManaged: boolean;
  /** The policy document as given (JSON text): its characters count against the size limit. */
  content: string;
  createdAt: number;
  /** Roots, OUs and accounts the policy is attached to, in the order it was attached to them. */
  targets: string[];
}

export interface OrganizationalUnitRecord {
  id: string;
  name: string;
  parentId: string;
  createdAt: number;
}

export interface AccountRecord {
  id: string;
  name: string;
  email: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';
  joinedMethod: 'CREATED' | 'INVITED';
  joinedAt: number;
  parentId: string;
  /** When the closure finishes (PENDING_CLOSURE only). */
  closesAt?: number;
  /**
   * When the management account called CloseAccount on it: counts against the closure quota for 30 days, and the
   * closure's end is then a CloseAccountResult service event. Absent for an account closed from inside.
   */
  closeRequestedAt?: number;
  /** AWS itself suspended the account (DescribeAccount's `State` SUSPENDED rather than CLOSED). */
  suspendedByAws?: boolean;
  /**
   * The account left the organization (LeaveOrganization) or was removed from it: it lives on as a standalone
   * account (its IAM, budgets and VPCs stay), but Organizations no longer knows it.
   */
  departed?: { method: 'LEFT' | 'REMOVED'; at: number };
  iam: IamAccountState;
  budgets: Record<string, BudgetRecord>;
  /** VPCs by id; `region` says where each lives. */
  vpcs: Record<string, VpcRecord>;
  /**
   * EBS encryption by default, by region. A region without an entry has AWS's defaults (off, the AWS managed
   * key `alias/aws/ebs`), so states saved before this field existed need no patch.
   */
  ebsDefaults?: Record<string, EbsDefaultsRecord>;
  /** S3 account-level Block Public Access (S3 Control PutPublicAccessBlock); absent until first set. */
  publicAccessBlock?: PublicAccessBlockRecord;
  /** Alternate contacts by type (Account API PutAlternateContact); absent types are not set. */
  alternateContacts?: Partial<Record<AlternateContactType, AlternateContactRecord>>;
}

/** The four account-level Block Public Access settings (S3 Control's PublicAccessBlockConfiguration). */
export interface PublicAccessBlockRecord {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/** The Account API's AlternateContactType. */
export type AlternateContactType = 'BILLING' | 'OPERATIONS' | 'SECURITY';

/** One alternate contact, as the Account API's AlternateContact shape has it (its type is the record's key). */
export interface AlternateContactRecord {
  Name: string;
  Title: string;
  EmailAddress: string;
  PhoneNumber: string;
}

/**
 * One account's EBS encryption defaults in one region (EC2 API reference: EnableEbsEncryptionByDefault,
 * ModifyEbsDefaultKmsKeyId): EBS keeps them per account and per Region.
 */
export interface EbsDefaultsRecord {
  encryptionByDefault: boolean;
  /** The customer managed key set by ModifyEbsDefaultKmsKeyId, as an ARN; absent for the AWS managed key. */
  kmsKeyArn?: string;
}

export interface IamAccountState {
  roles: Record<string, RoleRecord>;
  passwordPolicy?: Record<string, unknown>;
}

export interface RoleRecord {
  roleName: string;
  roleId: string;
  path: string;
  description?: string;
  maxSessionDuration: number;
  /** The trust policy as JSON text (not URL-encoded). */
  assumeRolePolicyDocument: string;
  createdAt: number;
  tags: { Key: string; Value: string }[];
  /** Inline policies: name -> JSON text. */
  inlinePolicies: Record<string, string>;
  /** Attached managed policy ARNs. */
  attachedPolicies: string[];
}

export interface BudgetRecord {
  /** The budget as the Budgets API shapes it, timestamps in epoch milliseconds. */
  budget: Record<string, unknown>;
  notifications: { notification: Record<string, unknown>; subscribers: Record<string, unknown>[] }[];
}

export interface VpcRecord {
  vpcId: string;
  region: string;
  cidrBlock: string;
  isDefault: boolean;
  /**
   * Accounts this VPC is shared with through AWS RAM (VPC sharing): they see it in DescribeVpcs with the owner's
   * OwnerId, but it stays the owner's VPC.
   */
  sharedWith?: string[];
}

export interface CreateAccountRequestRecord {
  id: string;
  accountName: string;
  email: string;
  roleName: string;
  iamUserAccessToBilling: 'ALLOW' | 'DENY';
  tags: { Key: string; Value: string }[];
  state: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  requestedAt: number;
  completesAt: number;
  completedAt?: number;
  accountId?: string;
  failureReason?: string;
  /** The outcome decided at request time. */
  outcome: CreationOutcome;
  /** Who asked, for the CreateAccountResult event. */
  requestedBy: CallerRecord;
}

/** An access key, its secret, and the principal it acts as. */
export interface CredentialRecord {
  accessKeyId: string;
  /**
   * The secret that signs with this key. The local cloud does not check signatures on its own endpoints (as
   * LocalStack does not); the local request API does (local/sigv4.ts).
   */
  secretAccessKey: string;
  caller: CallerRecord;
  /** Present for temporary credentials (AssumeRole). */
  sessionToken?: string;
  expiresAt?: number;
}

export interface CallerRecord {
  accountId: string;
  arn: string;
  /** As CloudTrail's userIdentity.type: Root, IAMUser, AssumedRole. */
  type: 'Root' | 'IAMUser' | 'AssumedRole';
  principalId: string;
  /** For AssumedRole: the role's ARN. */
  roleArn?: string;
}

export interface HostedZoneRecord {
  id: string;
  name: string;
  ownerAccountId: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  vpcs: { VPCRegion: string; VPCId: string }[];
  authorizations: { VPCRegion: string; VPCId: string }[];
  createdAt: number;
}

/** A CloudTrail record, as CloudTrail writes it and EventBridge carries it in `detail`. */
export interface AuditEvent {
  /** Position in the trail, from 1. Not part of CloudTrail's record: used by subscribers to resume. */
  sequence: number;
  eventVersion: string;
  userIdentity: Record<string, unknown>;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  eventType: 'AwsApiCall' | 'AwsServiceEvent';
  managementEvent: boolean;
  recipientAccountId: string;
  serviceEventDetails?: Record<string, unknown>;
}

export const DEFAULT_SETTINGS: CloudSettings = {
  creationDelayMs: 3_000,
  consistencyWindowMs: 2_000,
  serviceActivationMs: 4_000,
  defaultVpcDelayMs: 2_000,
  maxVpcsPerHostedZone: 300,
  maxCreationsInProgress: 5,
  maxCreationsPerDay: 100,
  maxAccounts: 50,
  closureDelayMs: 5_000,
  nextCreationOutcomes: [],
  identityCenterDelayMs: 2_000,
};
