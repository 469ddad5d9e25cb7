import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ENV } from './env.ts';
import { ConfigError } from './errors.ts';
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

/** Checks a configuration; an error names each key at fault and what is wrong with it. */
export function parseConfig(raw: unknown, source = 'configuration'): VendConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new ConfigError(`${source} is invalid:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  for (const path of Object.keys(config.naming.prefixes)) {
    if (!config.organization.allowedOrganizationalUnits.includes(path)) {
      throw new ConfigError(
        `${source} is invalid:\n  naming.prefixes.${path}: not one of organization.allowedOrganizationalUnits`,
      );
    }
  }
  return config;
}

export function readConfigFile(path: string): VendConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
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
