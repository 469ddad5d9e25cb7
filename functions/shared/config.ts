import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ENV } from './env.ts';
import { ConfigError } from './errors.ts';
import { policyContent, QUARANTINE_POLICY_NAME, renderPolicy } from './policy-document.ts';
import { EMAIL_PATTERN } from './text.ts';

const accountId = z.string().regex(/^\d{12}$/, 'an account id is 12 digits');
const email = z.string().regex(EMAIL_PATTERN, 'an email address such as finops@example.com');
const regex = z.string().refine((value) => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

const roleSchema = z.strictObject({
  /** IAM role name created in every vended account. */
  name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name: 1-64 of letters, digits and +=,.@_-'),
  description: z.string().max(1000).optional(),
  /** The account whose principals may assume the role (typically the security account). */
  trustedAccountId: accountId,
  /** Require MFA in the trust policy (aws:MultiFactorAuthPresent). */
  requireMfa: z.boolean().default(false),
  /** Require this external id in the trust policy (sts:ExternalId). */
  externalId: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/)
    .optional(),
  managedPolicyArns: z
    .array(z.string().regex(/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/.+$/, 'a managed policy ARN'))
    .max(10)
    .default([]),
  /** Inline policies by name: each a policy document. */
  inlinePolicies: z
    .record(z.string().regex(/^[\w+=,.@-]{1,128}$/), z.record(z.string(), z.unknown()))
    .default({}),
  maxSessionDurationSeconds: z.number().int().min(3600).max(43_200).default(3600),
});

const passwordPolicySchema = z.strictObject({
  minimumPasswordLength: z.number().int().min(6).max(128).default(14),
  requireSymbols: z.boolean().default(true),
  requireNumbers: z.boolean().default(true),
  requireUppercaseCharacters: z.boolean().default(true),
  requireLowercaseCharacters: z.boolean().default(true),
  allowUsersToChangePassword: z.boolean().default(true),
  maxPasswordAgeDays: z.number().int().min(1).max(1095).optional(),
  passwordReusePrevention: z.number().int().min(1).max(24).optional(),
  hardExpiry: z.boolean().default(false),
});

const thresholdSchema = z.strictObject({
  percent: z.number().positive().max(1000),
  type: z.enum(['ACTUAL', 'FORECASTED']),
});

const domain = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'a lower-case domain such as example.com',
  );

/** An OU path from `organization.allowedOrganizationalUnits`, or `*` for all of them. */
const ouRef = z.string().min(1).max(512);

/** A role or user ARN, where `*` stands for any run of characters: `arn:aws:iam::123456789012:role/Developer*`. */
const principalPattern = z
  .string()
  .max(512)
  .regex(
    /^arn:aws[\w*-]*:(iam|sts)::(\d{12}|\*):[\w+=,.@/*-]+$/,
    'a role or user ARN such as arn:aws:iam::123456789012:role/Developer (* matches any characters)',
  );

/** The longest an undecided request may wait for approval: 90 days. The reaper looks back this far for them. */
export const MAX_APPROVAL_HOURS = 24 * 90;

/**
 * An alternate contact of an account, with the Account API's constraints (Account Management API Reference,
 * AlternateContact: name 1-64, title 1-50, email 1-254 characters, phone 1-25 of digits, spaces, ()+-).
 */
const alternateContactSchema = z.strictObject({
  name: z.string().min(1).max(64),
  title: z.string().min(1).max(50),
  email: z
    .string()
    .max(254)
    .regex(/^[\w+=.#|!&-]+@[\w.-]+\.\w+$/, 'an email address such as security@example.com'),
  phone: z
    .string()
    .max(25)
    .regex(/^[\s0-9()+-]+$/, 'a phone number of digits, spaces and ()+- such as +1 555 010 0000'),
});

/**
 * A KMS key for EBS encryption by default (ModifyEbsDefaultKmsKeyId): a key id, an alias name (`alias/...`), or a
 * key or alias ARN, where `{region}` stands for each allowed region. AWS answers the key's ARN for an alias, so a
 * key id or key ARN converges without rewriting it at each sweep.
 */
const kmsKeySchema = z
  .string()
  .max(2048)
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[\w/-]+|arn:aws[\w-]*:kms:(?:\{region\}|[a-z]{2}(?:-[a-z]+)+-\d):\d{12}:(?:key\/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})|alias\/[\w/-]+))$/,
    'a KMS key id, alias/<name>, or a key or alias ARN (with {region} for each allowed region)',
  );

/** The account security defaults Vend converges in a profile's accounts (see `SecurityDefaults`). */
const securityDefaultsSchema = z.strictObject({
  /** EBS encryption by default in each of `organization.allowedRegions`; `enabled: false` leaves it as it is. */
  ebsEncryption: z.strictObject({ enabled: z.boolean(), kmsKeyId: kmsKeySchema.optional() }).optional(),
  /** S3 account-level Block Public Access, all four settings on; `false` leaves it as it is. */
  s3BlockPublicAccess: z.boolean().optional(),
  /** The account's alternate contacts, by type; a type left out is left as it is. */
  alternateContacts: z
    .strictObject({
      security: alternateContactSchema.optional(),
      billing: alternateContactSchema.optional(),
      operations: alternateContactSchema.optional(),
    })
    .optional(),
});

/** What a tag a profile declares may hold. */
const tagRuleSchema = z
  .strictObject({
    /** A request without this tag is refused. @default true */
    required: z.boolean().default(true),
    /** The values allowed, exactly. */
    allowedValues: z.array(z.string().max(256)).min(1).max(100).optional(),
    /** A regular expression the whole value must match (anchors are added). */
    pattern: regex.optional(),
    /** Shown in a refusal, e.g. "the finance cost center, cc-0000 to cc-9999". */
    description: z.string().max(256).optional(),
  })
  .refine((rule) => !(rule.allowedValues && rule.pattern), 'give allowedValues or pattern, not both');

/** Minutes of an ISO 8601 duration of hours and minutes (PT8H, PT1H30M); undefined for any other form. */
export function isoMinutes(value: string): number | undefined {
  const match = /^PT(?:(\d{1,2})H)?(?:(\d{1,3})M)?$/.exec(value);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

/** A permission set's name (SDK model, CreatePermissionSetRequest.Name: 1-32 of letters, digits and +=,.@_-). */
const permissionSetName = z
  .string()
  .regex(/^[\w+=,.@-]{1,32}$/, 'a permission set name: 1-32 of letters, digits and +=,.@_-');

/** A permission set Vend creates and keeps in the Identity Center instance. */
const permissionSetSchema = z.strictObject({
  name: permissionSetName,
  /** SDK model, CreatePermissionSetRequest.Description: up to 700 characters. */
  description: z.string().min(1).max(700).optional(),
  /**
   * How long a sign-in lasts, ISO 8601 (SDK model, CreatePermissionSetRequest.SessionDuration; AWS allows 1 to 12
   * hours). @default PT1H
   */
  sessionDuration: z
    .string()
    .refine((value) => {
      const minutes = isoMinutes(value);
      return minutes !== undefined && minutes >= 60 && minutes <= 720;
    }, 'an ISO 8601 duration of 1 to 12 hours, such as PT1H or PT8H')
    .default('PT1H'),
  /** AWS managed or customer managed policies attached to it (AWS allows 20 per permission set by default). */
  managedPolicyArns: z
    .array(z.string().regex(/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/.+$/, 'a managed policy ARN'))
    .max(20)
    .default([]),
});

/** One assignment a profile gives each account: a permission set for groups, and for the requester and owner. */
const assignmentSchema = z.strictObject({
  /** A permission set of `identityCenter.permissionSets`, or one that exists in the instance, by name. */
  permissionSet: permissionSetName,
  /** Groups of the identity store, by display name. */
  groups: z.array(z.string().min(1).max(1024)).max(20).default([]),
  /** The requester, found by user name or email (the session name of the role they signed in with). @default false */
  requester: z.boolean().default(false),
  /** The owner, found by email or user name. @default false */
  owner: z.boolean().default(false),
});
/** Organizations' policy name pattern, narrowed to what a file name and a Slack line can carry. */
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const POLICY_NAME_HINT = 'a policy name: 1-128 of letters, digits and +=,.@_-';

/**
 * Service control policies one account may have attached at once (Organizations User Guide, "Quotas and service
 * limits": 5 SCPs per root, OU or account).
 */
export const MAX_SCPS_PER_TARGET = 5;

/** Characters one SCP may have, whitespace included (same quotas page: 5,120). */
export const MAX_SCP_CHARACTERS = 5_120;

/**
 * A service control policy Vend attaches: either one Vend creates and keeps (its document in `file`, a path
 * relative to the configuration file such as `policies/vend-baseline-guardrails.json`, or inline as `document`),
 * or an existing one named by `id`, which Vend attaches and never edits.
 */
const policySchema = z
  .strictObject({
    description: z.string().max(512).optional(),
    /** The policy document's file, relative to the configuration file. */
    file: z
      .string()
      .regex(/^[\w./-]+\.json$/, 'a JSON file such as policies/my-guardrail.json')
      .optional(),
    /** The policy document itself (what `file` holds, read when the configuration is loaded). */
    document: z.record(z.string(), z.unknown()).optional(),
    /** An existing policy's id (`p-...`): attached, never created or edited. */
    id: z
      .string()
      .regex(/^p-[0-9a-zA-Z_]{8,128}$/, 'a policy id such as p-examplepolicyid111')
      .optional(),
  })
  .refine(
    (policy) => [policy.file, policy.document, policy.id].filter((x) => x !== undefined).length === 1,
    'give exactly one of file, document and id',
  );

/**
 * A profile: how accounts in an OU are vended. `profiles.default` applies to every vendable OU; `profiles["<OU
 * path>"]` overrides it key by key (a section such as `budget` is merged field by field).
 */
const profileSchema = z.strictObject({
  /** What the profile is for, shown in a dry run. */
  description: z.string().max(256).optional(),
  /** The names of the `baseline.roles` created in each account. @default every role of `baseline.roles` */
  baselineRoles: z
    .array(z.string().regex(/^[\w+=,.@-]{1,64}$/))
    .max(20)
    .optional(),
  budget: z
    .strictObject({
      defaultMonthlyLimitUsd: z.number().positive().max(1_000_000).optional(),
      /** The most a request may ask for. */
      maxMonthlyLimitUsd: z.number().positive().max(10_000_000).optional(),
      /**
       * The organization's alerts, a floor: a request may add alerts or lower a threshold, never remove one or raise
       * it. Each must be met by a request's threshold of the same type at the same or a lower percent.
       */
      thresholds: z.array(thresholdSchema).max(10).optional(),
    })
    .optional(),
  /** Tags by key, with what they may hold. */
  tags: z.record(z.string().min(1).max(128), tagRuleSchema).optional(),
  /** Whether a request may carry tags the profile does not declare. @default true */
  allowUndeclaredTags: z.boolean().optional(),
  /**
   * The service control policies attached to each account of the profile, by name of `policies` (see there), once
   * the account is configured. @default none
   */
  policies: z.array(z.string().regex(POLICY_NAME, POLICY_NAME_HINT)).max(MAX_SCPS_PER_TARGET).optional(),
  approval: z
    .strictObject({
      /** Whether a request waits for an approver before anything starts in AWS. */
      required: z.boolean().optional(),
      /**
       * The `access` entries whose principals decide (each must be granted `approve` for the OU); empty means
       * every entry granted `approve` for the OU.
       */
      approvers: z.array(z.string().min(1).max(64)).max(20).optional(),
      /** An undecided request expires after this many hours and frees its name and email. @default 168 */
      expiresAfterHours: z.number().int().min(1).max(MAX_APPROVAL_HOURS).optional(),
    })
    .optional(),
  /** The Slack channel for announcements and approvals (honoured by webhooks that may post to several channels). */
  slackChannel: z
    .string()
    .regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, 'a channel name such as #vend-prod')
    .optional(),
  /**
   * Where the root email comes from. `template`: only from `email.template` (a request that gives one is
   * refused), so the organization owns every root mailbox. `request-in-domains`: a request may give an address in
   * `allowedDomains`; the template fills it in otherwise. @default template
   */
  rootEmail: z
    .discriminatedUnion('source', [
      z.strictObject({ source: z.literal('template') }),
      z.strictObject({
        source: z.literal('request-in-domains'),
        allowedDomains: z.array(domain).min(1).max(20),
      }),
    ])
    .optional(),
  /** The domains an owner's address may be in (budget alerts go there). @default the domain of `email.template` */
  ownerDomains: z.array(domain).min(1).max(20).optional(),
  /**
   * Account security defaults, converged with the baseline and by the drift sweep. A profile for an OU overrides
   * `profiles.default` setting by setting (each alternate contact type on its own). @default none managed
   */
  securityDefaults: securityDefaultsSchema.optional(),
  /** Who gets which permission set in each account through IAM Identity Center (needs `identityCenter`). */
  identityCenter: z
    .strictObject({
      assignments: z.array(assignmentSchema).max(20),
    })
    .optional(),
});

/** What principals matching an `access` entry may do. */
const accessEntrySchema = z.strictObject({
  description: z.string().max(256).optional(),
  /**
   * Who: role or user ARNs, `*` matching any characters. A caller that assumed a role matches as the role's ARN
   * (`arn:aws:iam::<account>:role/<name>`: an STS session ARN carries no role path, so match roles with paths
   * with `*`).
   */
  principals: z.array(principalPattern).min(1).max(50),
  /** Slack member ids of the people behind these principals, for Slack's Approve and Deny buttons. */
  slackUserIds: z
    .array(z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack member id such as U0123ABCD'))
    .max(100)
    .default([]),
  /** OUs they may request accounts in (`*`: every vendable OU). */
  request: z.array(ouRef).max(100).default([]),
  /** OUs whose requests they may approve or deny (`*`: every vendable OU). */
  approve: z.array(ouRef).max(100).default([]),
  /** `own`: the requests and accounts they asked for; `all`: every one. @default own */
  read: z.enum(['own', 'all']).default('own'),
  /** Everything an administrator does (adopting, closing, holding accounts), and reading all. */
  administer: z.boolean().default(false),
});

/** The organization's policy for vending: one file, checked at start. */
/**
 * Email subscribers AWS Budgets allows per notification: "one SNS subscriber and up to 10 email subscribers"
 * (SDK model, CreateNotificationRequest.Subscribers; Budgets API reference).
 */
export const MAX_BUDGET_EMAIL_SUBSCRIBERS = 10;

export const configSchema = z.strictObject({
  organization: z.strictObject({
    /** Where new accounts' default VPCs live, and the region the pipeline calls regional APIs in. */
    homeRegion: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1')
      .default('us-east-1'),
    /** The role Organizations creates in each new account, trusted by the management account. */
    accessRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/)
      .default('OrganizationAccountAccessRole'),
    /**
     * OUs a request may name: full paths from the root (`Workloads/Dev`) or OU ids (`ou-...`). A bare OU name
     * is never accepted, since names repeat under different parents.
     */
    allowedOrganizationalUnits: z
      .array(
        z
          .string()
          .regex(
            /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[^/\s][^/]*(\/[^/]+)*)$/,
            'an OU path such as Workloads/Dev, or an OU id',
          ),
      )
      .min(1),
    /**
     * How many accounts the organization may hold (AWS Organizations' quota, 10 by default; raised through
     * Service Quotas). The request API refuses new requests once the accounts plus the creations in progress
     * reach it, instead of letting CreateAccount fail minutes later.
     */
    accountQuota: z.number().int().min(1).max(100_000).default(10),
    /**
     * The regions vended accounts may use: `vend-baseline-guardrails` denies actions elsewhere (global services
     * excepted), and the account security defaults that are regional (EBS encryption by default) are set in each.
     * Must include `homeRegion`.
     */
    allowedRegions: z
      .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-west-2'))
      .min(1)
      .default(['us-east-1', 'us-west-2']),
  }),
  naming: z
    .strictObject({
      /** What the requested name must look like. */
      pattern: regex.default('^[a-z][a-z0-9-]{1,38}[a-z0-9]$'),
      /** Prefix of the account name by OU path: `{ "Workloads/Dev": "plat-dev-" }` makes `payments` `plat-dev-payments`. */
      prefixes: z
        .record(z.string(), z.string().regex(/^[a-z0-9-]*$/, 'lower-case letters, digits and dashes'))
        .default({}),
    })
    .prefault({}),
  email: z
    .strictObject({
      /** Address for a request that gives none: `{accountName}` is replaced, e.g. `aws+{accountName}@example.com`. */
      template: z
        .string()
        .refine((value) => value.includes('{accountName}'), 'must contain {accountName}')
        .optional(),
    })
    .prefault({}),
  creation: z
    .strictObject({
      /** First wait before asking whether the account exists; AWS takes minutes. */
      firstWaitSeconds: z.number().int().min(1).max(3600).default(45),
      /** Each following wait is this many times the previous one, so polls grow logarithmically with time. */
      backoffRate: z.number().min(1).max(4).default(1.5),
      maxWaitSeconds: z.number().int().min(1).max(86_400).default(900),
      /** Give up (and say so) when the account does not exist after this long. */
      deadlineMinutes: z.number().int().min(1).max(1440).default(60),
    })
    .prefault({}),
  baseline: z
    .strictObject({
      /** Recorded with each account, so that a later baseline can find accounts that need it. */
      version: z.string().min(1).default('1'),
      roles: z.array(roleSchema).default([]),
      passwordPolicy: passwordPolicySchema.optional(),
      /** Alias of each account: `{accountName}` is replaced. None when absent. */
      accountAliasTemplate: z
        .string()
        .refine((value) => value.includes('{accountName}'), 'must contain {accountName}')
        .optional(),
    })
    .prefault({}),
  budget: z
    .strictObject({
      defaultMonthlyLimitUsd: z.number().positive().max(1_000_000).default(100),
      /** The most a request may ask for. */
      maxMonthlyLimitUsd: z.number().positive().max(10_000_000).default(10_000),
      thresholds: z
        .array(thresholdSchema)
        .max(10)
        .default([
          { percent: 80, type: 'ACTUAL' },
          { percent: 100, type: 'FORECASTED' },
        ]),
      /**
       * Who else hears of every account's budget alerts (the owner always does, as one more subscriber).
       * At most {@link MAX_BUDGET_EMAIL_SUBSCRIBERS} - 1, so that with the owner each alert stays within AWS's limit.
       */
      subscribers: z
        .array(email)
        .max(
          MAX_BUDGET_EMAIL_SUBSCRIBERS - 1,
          `at most ${MAX_BUDGET_EMAIL_SUBSCRIBERS - 1} addresses: AWS Budgets allows ${MAX_BUDGET_EMAIL_SUBSCRIBERS} email subscribers per alert and Vend adds each account's owner`,
        )
        .default([]),
    })
    .prefault({}),
  /**
   * Service control policies by name, for the profiles' `policies`. A document may use the placeholder
   * `"{allowedRegions}"` as a whole JSON value: Vend puts `organization.allowedRegions` there (see `renderPolicy`).
   * Every Deny statement gets an exemption for Vend's access role when Vend renders it (see README, "Guardrails").
   */
  policies: z.record(z.string().regex(POLICY_NAME, POLICY_NAME_HINT), policySchema).default({}),
  /** How accounts are vended, per OU: `default`, then `"<OU path>"` overrides. See `profileFor`. */
  profiles: z.record(z.string().min(1).max(512), profileSchema).default({}),
  /** Who may do what, by named entry. Absent, nobody may call the API. */
  access: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
      accessEntrySchema,
    )
    .default({}),
  dns: z
    .strictObject({
      /** The network hub account that owns the shared private hosted zone. */
      hubAccountId: accountId,
      hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, 'a hosted zone id such as Z0123456789ABC'),
      /** The role Vend assumes in the hub account to authorize VPC associations. */
      roleName: z
        .string()
        .regex(/^[\w+=,.@-]{1,64}$/)
        .default('VendDnsAuthorizer'),
    })
    .optional(),
  slack: z
    .strictObject({
      /** Incoming webhook. On AWS leave it out: the URL lives in a Secrets Manager secret. */
      webhookUrl: z.url().optional(),
    })
    .prefault({}),
  /**
   * IAM Identity Center: people sign in once, at the access portal, and reach each account through the permission
   * sets its profile assigns (`profiles.<name>.identityCenter`). Absent: Vend assigns nothing, and the baseline's
   * IAM roles remain the way in.
   */
  identityCenter: z
    .strictObject({
      /** The instance (SDK model, InstanceArn: arn:aws:sso:::instance/ssoins-...). */
      instanceArn: z
        .string()
        .regex(
          /^arn:aws[\w-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
          'an Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-0123456789abcdef',
        ),
      /** Its identity store (d-...); looked up with ListInstances when absent. */
      identityStoreId: z
        .string()
        .regex(
          /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
          'an identity store id such as d-0123456789',
        )
        .optional(),
      /** The region the instance lives in. @default organization.homeRegion */
      region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1')
        .optional(),
      /** The access portal's address, for the ready message. @default https://<identityStoreId>.awsapps.com/start */
      accessPortalUrl: z.url({ protocol: /^https$/ }).optional(),
      /** Permission sets Vend creates and keeps; a profile may also name one that exists already. */
      permissionSets: z.array(permissionSetSchema).max(50).default([]),
      /** Permission sets that exist in the instance already, by name: Vend assigns them and never changes them. */
      existingPermissionSets: z.array(permissionSetName).max(50).default([]),
    })
    .optional(),
  drift: z
    .strictObject({
      /** `fix` puts drifted accounts back; `report` only tells. */
      mode: z.enum(['fix', 'report']).default('fix'),
      /**
       * Vend's own principals: changes they make are Vend's (a fix, a vending step), never drift. Exact IAM role
       * ARNs, compared with a CloudTrail event's `userIdentity.sessionContext.sessionIssuer.arn` (and `arn`); no
       * wildcard, since any role named like Vend's would then pass for Vend. `VEND_OWN_PRINCIPAL_ARNS`
       * (comma-separated) adds to these, and the drift function always counts its own role.
       */
      ownPrincipalArns: z
        .array(
          z
            .string()
            .regex(/^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/, 'an exact IAM role ARN (no wildcard)'),
        )
        .max(50)
        .default([]),
      /**
       * OUs that incident response moves accounts into (full paths from the root such as `Quarantine`, or OU ids,
       * like `organization.allowedOrganizationalUnits`). A vended account found directly in one is reported as
       * quarantined and left as it is (not moved back, nothing else changed) until it is moved out. @default none
       */
      quarantineOrganizationalUnits: z
        .array(
          z
            .string()
            .regex(
              /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[^/\s][^/]*(\/[^/]+)*)$/,
              'an OU path such as Quarantine, or an OU id',
            ),
        )
        .max(20)
        .default([]),
      /** The periodic sweep, which finds what no event tells of (IAM, budgets, DNS) and events that were missed. */
      sweep: z
        .strictObject({
          /** How many accounts it checks at a time. */
          concurrency: z.number().int().min(1).max(20).default(2),
          /** How long each worker pauses between two accounts, so a large organization stays under API limits. */
          delayBetweenAccountsMs: z.number().int().min(0).max(600_000).default(1000),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type VendConfig = z.output<typeof configSchema>;
export type VendConfigInput = z.input<typeof configSchema>;
export type BaselineRole = VendConfig['baseline']['roles'][number];
export type ProfileInput = z.output<typeof profileSchema>;
export type AccessEntry = VendConfig['access'][string];
export type TagRule = z.output<typeof tagRuleSchema>;
export type AlternateContact = z.output<typeof alternateContactSchema>;
/** The alternate contact types a profile may set, as its `securityDefaults.alternateContacts` keys. */
export type AlternateContactKind = 'security' | 'billing' | 'operations';

/** A profile's account security defaults, resolved: what Vend converges in its accounts. */
export interface SecurityDefaults {
  /** EBS encryption by default, on in each allowed region (with this default key when set); absent: not managed. */
  ebsEncryption?: { kmsKeyId?: string };
  /** S3 account-level Block Public Access, all four settings on; false: not managed. */
  s3BlockPublicAccess: boolean;
  /** The alternate contacts set, by type; a type absent is not managed. */
  alternateContacts: Partial<Record<AlternateContactKind, AlternateContact>>;
}
export type IdentityCenterConfig = NonNullable<VendConfig['identityCenter']>;
export type DeclaredPermissionSet = IdentityCenterConfig['permissionSets'][number];
export type IdentityCenterAssignment = z.output<typeof assignmentSchema>;
export type PolicyEntry = VendConfig['policies'][string];

/**
 * Checks a configuration; an error names each key at fault and what is wrong with it. Policy files (`policies.*.file`)
 * are read from `baseDir` (the configuration file's folder; the working folder by default) into `document`.
 */
export function parseConfig(raw: unknown, source = 'configuration', baseDir = process.cwd()): VendConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new ConfigError(`${source} is invalid:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  const problems = readPolicyFiles(config, baseDir);
  problems.push(...crossChecks(config));
  if (problems.length > 0)
    throw new ConfigError(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return config;
}

export function readConfigFile(path: string): VendConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  return parseConfig(raw, path, dirname(path));
}

/** Reads each policy's `file` into its `document`; the problems name the key. */
function readPolicyFiles(config: VendConfig, baseDir: string): string[] {
  const problems: string[] = [];
  for (const [name, policy] of Object.entries(config.policies)) {
    if (policy.file === undefined) continue;
    const path = isAbsolute(policy.file) ? policy.file : resolve(baseDir, policy.file);
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      const why =
        (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      problems.push(`policies.${name}.file: cannot read ${policy.file} (${why})`);
      continue;
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      problems.push(`policies.${name}.file: ${policy.file} must hold a policy document (a JSON object)`);
      continue;
    }
    policy.document = document as Record<string, unknown>;
  }
  return problems;
}

/** The configuration from the environment: `VEND_CONFIG` (JSON) or `VEND_CONFIG_FILE` (a path). */
export function configFromEnv(env: NodeJS.ProcessEnv): VendConfig {
  const config = configFromEnvOnly(env);
  const own = ownPrincipalArnsFromEnv(env);
  if (own.length === 0) return config;
  return parseConfig(
    { ...config, drift: { ...config.drift, ownPrincipalArns: [...config.drift.ownPrincipalArns, ...own] } },
    ENV.ownPrincipalArns,
  );
}

/** `VEND_OWN_PRINCIPAL_ARNS`: comma-separated exact role ARNs of the pipeline's own functions. */
export function ownPrincipalArnsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env[ENV.ownPrincipalArns] ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '');
}

function configFromEnvOnly(env: NodeJS.ProcessEnv): VendConfig {
  const text = env[ENV.config];
  if (text) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${ENV.config}: ${(error as Error).message}`);
    }
    return parseConfig(raw, ENV.config);
  }
  const file = env[ENV.configFile];
  if (file) return readConfigFile(file);
  throw new ConfigError(`set ${ENV.config} (the configuration as JSON) or ${ENV.configFile} (its path)`);
}

/** Replaces `{key}` placeholders. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (match, key: string) => values[key] ?? match);
}

/** What the schema alone cannot check: keys that must name OUs, roles or access entries of the same file. */
function crossChecks(config: VendConfig): string[] {
  const problems: string[] = [];
  const ous = config.organization.allowedOrganizationalUnits;
  const allowed = `one of organization.allowedOrganizationalUnits (${ous.join(', ')})`;
  const regions = config.organization.allowedRegions;
  if (!regions.includes(config.organization.homeRegion)) {
    problems.push(
      `organization.allowedRegions: must include organization.homeRegion (${config.organization.homeRegion}), where Vend works in every account`,
    );
  }
  for (const [i, ou] of config.drift.quarantineOrganizationalUnits.entries()) {
    if (ous.includes(ou))
      problems.push(
        `drift.quarantineOrganizationalUnits.${i}: '${ou}' is a vendable OU (organization.allowedOrganizationalUnits); name an OU that only incident response moves accounts into`,
      );
  }
  for (const path of Object.keys(config.naming.prefixes)) {
    if (!ous.includes(path))
      problems.push(`naming.prefixes.${path}: not one of organization.allowedOrganizationalUnits`);
  }
  const setNames = new Set<string>();
  for (const [i, set] of (config.identityCenter?.permissionSets ?? []).entries()) {
    if (setNames.has(set.name))
      problems.push(`identityCenter.permissionSets.${i}.name: '${set.name}' is declared twice`);
    setNames.add(set.name);
  }
  for (const [i, name] of (config.identityCenter?.existingPermissionSets ?? []).entries()) {
    if (setNames.has(name))
      problems.push(
        `identityCenter.existingPermissionSets.${i}: '${name}' is also in identityCenter.permissionSets; list it in one of them`,
      );
  }
  problems.push(...policyChecks(config));
  const roles = new Set(config.baseline.roles.map((role) => role.name));
  for (const [name, profile] of Object.entries(config.profiles)) {
    const at = `profiles.${name}`;
    for (const [i, policy] of (profile.policies ?? []).entries()) {
      if (!config.policies[policy])
        problems.push(`${at}.policies.${i}: '${policy}' is not a policy of policies`);
    }
    if (name !== 'default' && !ous.includes(name)) problems.push(`${at}: not 'default' nor ${allowed}`);
    for (const [i, role] of (profile.baselineRoles ?? []).entries()) {
      if (!roles.has(role))
        problems.push(`${at}.baselineRoles.${i}: '${role}' is not a role of baseline.roles`);
    }
    for (const [i, entry] of (profile.approval?.approvers ?? []).entries()) {
      if (!config.access[entry])
        problems.push(`${at}.approval.approvers.${i}: '${entry}' is not an entry of access`);
    }
    for (const key of Object.keys(profile.tags ?? {})) {
      if (/^(aws|vend):/i.test(key))
        problems.push(`${at}.tags.${key}: the prefixes aws: and vend: are reserved`);
    }
    if (profile.rootEmail?.source === 'template' && !config.email.template) {
      problems.push(`${at}.rootEmail: 'template' needs email.template`);
    }
    const ebs = profile.securityDefaults?.ebsEncryption;
    if (ebs && !ebs.enabled && ebs.kmsKeyId !== undefined) {
      problems.push(
        `${at}.securityDefaults.ebsEncryption.kmsKeyId: a default key needs enabled: true (or leave the key out)`,
      );
    }
    problems.push(...identityCenterProblems(config, at, profile));
  }
  for (const [name, entry] of Object.entries(config.access)) {
    for (const grant of ['request', 'approve'] as const) {
      for (const [i, ou] of entry[grant].entries()) {
        if (ou !== '*' && !ous.includes(ou))
          problems.push(`access.${name}.${grant}.${i}: '${ou}' is not '*' nor ${allowed}`);
      }
    }
  }
  // Each profile, resolved: its numbers agree, and the approvers it names may approve in its OU.
  for (const ou of ous) {
    const profile = resolveProfile(config, ou);
    const at = config.profiles[ou] ? `profiles.${ou}` : 'profiles.default';
    if (profile.budget.defaultMonthlyLimitUsd > profile.budget.maxMonthlyLimitUsd) {
      problems.push(`${at}.budget.defaultMonthlyLimitUsd: above maxMonthlyLimitUsd for ${ou}`);
    }
    // Without profiles (a configuration from before them) and without a template, owners' domains are not limited.
    if (profile.ownerDomains.length === 0 && Object.keys(config.profiles).length > 0) {
      problems.push(
        `${at}.ownerDomains: give the domains an owner's address may be in (no email.template to take one from)`,
      );
    }
    for (const entry of profile.approval.approvers) {
      if (config.access[entry] && !grants(config.access[entry].approve, ou)) {
        problems.push(
          `${at}.approval.approvers: '${entry}' is not granted approve for ${ou} in access.${entry}.approve`,
        );
      }
    }
    // The account holds FullAWSAccess and vend-quarantine while the profile's policies are attached.
    const most = MAX_SCPS_PER_TARGET - 2;
    if (profile.policies.length > most) {
      problems.push(
        `${at}.policies: ${profile.policies.length} policies for ${ou}, at most ${most}: AWS allows ${MAX_SCPS_PER_TARGET} SCPs per account, and each account also holds FullAWSAccess and, while it is vended, ${QUARANTINE_POLICY_NAME}`,
      );
    }
    if (profile.approval.required && approversFor(config, ou).length === 0) {
      problems.push(`${at}.approval.required: nobody is granted approve for ${ou} in access`);
    }
  }
  return problems;
}

/** A profile's Identity Center assignments against `identityCenter`: it must exist, and sets must be unique. */
function identityCenterProblems(config: VendConfig, at: string, profile: ProfileInput): string[] {
  const assignments = profile.identityCenter?.assignments ?? [];
  if (assignments.length === 0) return [];
  if (!config.identityCenter) {
    return [
      `${at}.identityCenter.assignments: needs identityCenter (the instance's ARN) at the top level, or remove the assignments`,
    ];
  }
  const problems: string[] = [];
  const known = new Set([
    ...config.identityCenter.permissionSets.map((set) => set.name),
    ...config.identityCenter.existingPermissionSets,
  ]);
  const seen = new Set<string>();
  for (const [i, assignment] of assignments.entries()) {
    if (seen.has(assignment.permissionSet))
      problems.push(
        `${at}.identityCenter.assignments.${i}.permissionSet: '${assignment.permissionSet}' is assigned twice; list its groups in one entry`,
      );
    seen.add(assignment.permissionSet);
    if (!known.has(assignment.permissionSet))
      problems.push(
        `${at}.identityCenter.assignments.${i}.permissionSet: '${assignment.permissionSet}' is neither in identityCenter.permissionSets nor in identityCenter.existingPermissionSets`,
      );
    if (assignment.groups.length === 0 && !assignment.requester && !assignment.owner)
      problems.push(
        `${at}.identityCenter.assignments.${i}: assigns to nobody; give groups, requester or owner`,
      );
  }
  return problems;
}

/** Each declared policy, rendered as Vend sends it: a document AWS can take, within its size limit. */
function policyChecks(config: VendConfig): string[] {
  const problems: string[] = [];
  for (const [name, policy] of Object.entries(config.policies)) {
    const at = `policies.${name}`;
    if (name === QUARANTINE_POLICY_NAME) {
      problems.push(
        `${at}: the name ${QUARANTINE_POLICY_NAME} is Vend's own quarantine policy; choose another`,
      );
      continue;
    }
    const document = policy.document;
    if (!document) continue;
    const where = policy.file ? `${at}.file (${policy.file})` : `${at}.document`;
    const statements = document.Statement;
    if (
      document.Version !== '2012-10-17' ||
      statements === undefined ||
      (Array.isArray(statements) && statements.length === 0)
    ) {
      problems.push(`${where}: a policy document needs "Version": "2012-10-17" and a Statement`);
      continue;
    }
    const length = policyContent(renderPolicy(document, renderSettings(config))).length;
    if (length > MAX_SCP_CHARACTERS) {
      problems.push(
        `${where}: ${length} characters once rendered, above AWS's ${MAX_SCP_CHARACTERS} per service control policy; split it or shorten it`,
      );
    }
  }
  return problems;
}

/** What rendering a policy document takes from the configuration. */
export function renderSettings(config: VendConfig): { allowedRegions: string[]; accessRoleName: string } {
  return {
    allowedRegions: config.organization.allowedRegions,
    accessRoleName: config.organization.accessRoleName,
  };
}

/** Whether an OU grant list (`request` or `approve`) covers an OU path. */
export function grants(list: readonly string[], ou: string): boolean {
  return list.includes('*') || list.includes(ou);
}

/** A profile with every key decided: what a request in one OU is checked against and vended with. */
export interface Profile {
  /** The OU path it is for. */
  organizationalUnit: string;
  /** `default`, or the OU path when `profiles` overrides the default for it. */
  name: string;
  description?: string;
  baselineRoles: string[];
  budget: {
    defaultMonthlyLimitUsd: number;
    maxMonthlyLimitUsd: number;
    /** The floor of alerts (see the profile schema). */
    thresholds: { percent: number; type: 'ACTUAL' | 'FORECASTED' }[];
  };
  tags: Record<string, TagRule>;
  allowUndeclaredTags: boolean;
  /**
   * The service control policies attached to each account, by name of `policies` (absent in profiles recorded before
   * guardrails: none).
   */
  policies: string[];
  approval: { required: boolean; approvers: string[]; expiresAfterHours: number };
  slackChannel?: string;
  rootEmail: { source: 'template' } | { source: 'request-in-domains'; allowedDomains: string[] };
  ownerDomains: string[];
  /**
   * The account security defaults. Absent in profiles recorded before they existed: the configuration's for the
   * OU apply (`securityDefaultsOf`).
   */
  securityDefaults?: SecurityDefaults;
  /** The Identity Center assignments each account gets (absent: none, as in profiles recorded before them). */
  identityCenter?: { assignments: IdentityCenterAssignment[] };
}

/** The default approval expiry: seven days. */
export const DEFAULT_APPROVAL_HOURS = 168;

/**
 * The profile of an OU path: the organization-wide keys (`baseline.roles`, `budget`), then `profiles.default`,
 * then `profiles["<OU path>"]`, each key of a later one replacing the earlier one's (a section field by field).
 */
export function resolveProfile(config: VendConfig, ou: string): Profile {
  const base = config.profiles.default ?? {};
  const own = ou !== 'default' ? (config.profiles[ou] ?? {}) : {};
  const pick = <K extends keyof ProfileInput>(key: K): ProfileInput[K] => own[key] ?? base[key];
  const templateDomain = config.email.template?.split('@')[1]?.toLowerCase();
  const approvers = pick('approval')?.approvers;
  const description = pick('description');
  const slackChannel = pick('slackChannel');
  const identityCenter = pick('identityCenter');
  return {
    organizationalUnit: ou,
    name: config.profiles[ou] ? ou : 'default',
    ...(description !== undefined ? { description } : {}),
    baselineRoles: pick('baselineRoles') ?? config.baseline.roles.map((role) => role.name),
    budget: {
      defaultMonthlyLimitUsd:
        own.budget?.defaultMonthlyLimitUsd ??
        base.budget?.defaultMonthlyLimitUsd ??
        config.budget.defaultMonthlyLimitUsd,
      maxMonthlyLimitUsd:
        own.budget?.maxMonthlyLimitUsd ?? base.budget?.maxMonthlyLimitUsd ?? config.budget.maxMonthlyLimitUsd,
      thresholds: own.budget?.thresholds ?? base.budget?.thresholds ?? config.budget.thresholds,
    },
    tags: { ...base.tags, ...own.tags },
    allowUndeclaredTags: pick('allowUndeclaredTags') ?? true,
    policies: pick('policies') ?? [],
    approval: {
      required: own.approval?.required ?? base.approval?.required ?? false,
      approvers: own.approval?.approvers ?? approvers ?? [],
      expiresAfterHours:
        own.approval?.expiresAfterHours ?? base.approval?.expiresAfterHours ?? DEFAULT_APPROVAL_HOURS,
    },
    ...(slackChannel !== undefined ? { slackChannel } : {}),
    rootEmail: pick('rootEmail') ?? { source: 'template' },
    ownerDomains: pick('ownerDomains') ?? (templateDomain ? [templateDomain] : []),
    securityDefaults: resolveSecurityDefaults(base.securityDefaults, own.securityDefaults),
    ...(identityCenter && identityCenter.assignments.length > 0 ? { identityCenter } : {}),
  };
}

/** `profiles.default`'s security defaults, then the OU's, setting by setting (each contact type on its own). */
function resolveSecurityDefaults(
  base: ProfileInput['securityDefaults'],
  own: ProfileInput['securityDefaults'],
): SecurityDefaults {
  const ebs = own?.ebsEncryption ?? base?.ebsEncryption;
  const contacts = { ...base?.alternateContacts, ...own?.alternateContacts };
  return {
    ...(ebs?.enabled ? { ebsEncryption: ebs.kmsKeyId !== undefined ? { kmsKeyId: ebs.kmsKeyId } : {} } : {}),
    s3BlockPublicAccess: own?.s3BlockPublicAccess ?? base?.s3BlockPublicAccess ?? false,
    alternateContacts: Object.fromEntries(
      Object.entries(contacts).filter(([, contact]) => contact !== undefined),
    ) as SecurityDefaults['alternateContacts'],
  };
}

/**
 * The security defaults an account of `profile` is kept at: the profile's, or for a profile recorded before they
 * existed, the configuration's for its OU.
 */
export function securityDefaultsOf(config: VendConfig, profile: Profile): SecurityDefaults {
  return (
    profile.securityDefaults ??
    resolveProfile(config, profile.organizationalUnit).securityDefaults ?? {
      s3BlockPublicAccess: false,
      alternateContacts: {},
    }
  );
}

/**
 * The access entries whose principals may decide requests in an OU: those the profile names (all granted
 * `approve` for the OU when it names none).
 */
export function approversFor(config: VendConfig, ou: string): string[] {
  const named = resolveProfile(config, ou).approval.approvers;
  const candidates = named.length > 0 ? named : Object.keys(config.access);
  return candidates.filter((name) => {
    const entry = config.access[name];
    return entry !== undefined && grants(entry.approve, ou);
  });
}

/**
 * The tag keys requests may set across every vendable OU, when every profile limits them to the keys it declares
 * (`allowUndeclaredTags: false`); undefined when any profile lets requests carry other keys.
 */
export function declaredTagKeys(config: VendConfig): string[] | undefined {
  const keys = new Set<string>();
  for (const ou of config.organization.allowedOrganizationalUnits) {
    const profile = resolveProfile(config, ou);
    if (profile.allowUndeclaredTags) return undefined;
    for (const key of Object.keys(profile.tags)) keys.add(key);
  }
  return [...keys].sort();
}
