import {
  AttachRolePolicyCommand,
  CreateAccountAliasCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetAccountPasswordPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  InvalidInputException,
  LimitExceededException,
  ListAccountAliasesCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  type PasswordPolicy,
  PutRolePolicyCommand,
  type Role,
  TagRoleCommand,
  UpdateAccountPasswordPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { Changes } from '../shared/changes.ts';
import { type BaselineRole, fillTemplate, type VendConfig } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { aws, isAwsError, VendFailureError } from '../shared/errors.ts';
import type { VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface ApplyBaselineInput {
  request: VendRequest;
  accountId: string;
}

export interface BaselineRoleOutcome {
  name: string;
  arn: string;
  action: 'created' | 'updated' | 'unchanged';
}

export interface ApplyBaselineOutput {
  step: 'applyBaseline';
  /** The baseline version now in place, recorded with the account so that a later baseline can find it. */
  version: string;
  roles: BaselineRoleOutcome[];
  passwordPolicy: 'applied' | 'unchanged' | 'not-configured';
  alias?: string;
  /** How many changes were made; zero when the account already matched the baseline. */
  changes: number;
}

/** What converging did: the step's output and, in words, each change made (what the drift sweep reports). */
export interface BaselineConvergence {
  output: ApplyBaselineOutput;
  changeLog: string[];
}

/** How to converge: `dryRun` changes nothing and lists, as "would ...", each change it would make. */
export interface ConvergeOptions {
  dryRun?: boolean;
  /**
   * The account is expected to be new (the workflow step's first attempt): write first and read only when a
   * write finds something already there, which saves a read per item on the usual path. The state reached is
   * the same either way, but setting the password policy and alias counts as a change even when they were
   * already so: later attempts read first, so that a repeat reports no changes. Ignored in a dry run.
   */
  writeFirst?: boolean;
}

/** The tag on every role the baseline creates, so that people (and the drift sweep) know who owns it. */
export const MANAGED_ROLE_TAG = { Key: 'vend:managed', Value: 'true' } as const;

/**
 * Applies the organization's baseline (roles, password policy, account alias) in a new account. Safe to run
 * again: it converges, changing only what differs from `config.baseline`.
 */
export async function applyBaseline(
  deps: Deps,
  { request, accountId }: ApplyBaselineInput,
): Promise<ApplyBaselineOutput> {
  return runStep(deps, request.requestId, 'applyBaseline', async (_record, attempt) => {
    const { output, changeLog } = await convergeBaseline(deps, accountId, request.accountName, {
      writeFirst: attempt === 1,
    });
    const detail =
      output.changes === 0
        ? `baseline ${output.version} already in place`
        : `baseline ${output.version}: ${output.changes} change(s): ${changeLog.join('; ')}`;
    return { result: output, detail: detail.length > 1000 ? `${detail.slice(0, 997)}...` : detail };
  });
}

/**
 * Makes an account match `config.baseline`, acting through the organization's access role, and says what it
 * changed. The workflow uses it on new accounts; the drift sweep uses it to put back what someone changed by
 * hand (a trust policy edited, a policy detached, an inline policy added, a role deleted ...).
 * AssumeRole refused (a new account's IAM not consistent yet) surfaces as AccountNotReadyError. With `dryRun` it
 * only looks, and lists what it would change (the sweep in report mode).
 */
export async function convergeBaseline(
  deps: Deps,
  accountId: string,
  accountName: string,
  options: ConvergeOptions = {},
): Promise<BaselineConvergence> {
  const { baseline, organization } = deps.config;
  const iam = (await deps.clientsFor(accountId, organization.accessRoleName)).client(IAMClient);
  const changeLog = new Changes(options.dryRun);
  const writeFirst = options.writeFirst === true && !options.dryRun;

  const roles: BaselineRoleOutcome[] = [];
  for (const role of baseline.roles) roles.push(await convergeRole(iam, role, changeLog, writeFirst));

  const passwordPolicy = baseline.passwordPolicy
    ? await convergePasswordPolicy(iam, baseline.passwordPolicy, changeLog, writeFirst)
    : 'not-configured';

  let alias: string | undefined;
  if (baseline.accountAliasTemplate) {
    alias = accountAlias(baseline.accountAliasTemplate, accountName);
    await convergeAlias(iam, accountId, alias, changeLog, writeFirst);
  }

  const output: ApplyBaselineOutput = {
    step: 'applyBaseline',
    version: baseline.version,
    roles,
    passwordPolicy,
    ...(alias !== undefined ? { alias } : {}),
    changes: changeLog.count,
  };
  return { output, changeLog: changeLog.entries };
}

// ---- roles ----

/** The trust policy of a baseline role: the trusted account's principals, with MFA and/or an external id when set. */
export function trustPolicy(role: BaselineRole): PolicyDocument {
  const condition: Record<string, Record<string, string>> = {};
  if (role.requireMfa) condition.Bool = { 'aws:MultiFactorAuthPresent': 'true' };
  if (role.externalId) condition.StringEquals = { 'sts:ExternalId': role.externalId };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${role.trustedAccountId}:root` },
        Action: 'sts:AssumeRole',
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      },
    ],
  };
}

type PolicyDocument = Record<string, unknown>;

async function convergeRole(
  iam: IAMClient,
  role: BaselineRole,
  changeLog: Changes,
  writeFirst: boolean,
): Promise<BaselineRoleOutcome> {
  const before = changeLog.count;
  const trust = trustPolicy(role);
  let current = writeFirst ? undefined : await getRole(iam, role.name);
  let created = false;
  if (!current && changeLog.dryRun) {
    changeLog.entries.push(`would create role ${role.name} with its policies`);
    return { name: role.name, arn: '', action: 'created' };
  }
  if (!current) {
    try {
      const { Role: made } = await aws(
        iam.send(
          new CreateRoleCommand({
            RoleName: role.name,
            AssumeRolePolicyDocument: JSON.stringify(trust),
            ...(role.description !== undefined ? { Description: role.description } : {}),
            MaxSessionDuration: role.maxSessionDurationSeconds,
            Tags: [{ ...MANAGED_ROLE_TAG }],
          }),
        ),
      );
      current = made;
      created = true;
      changeLog.entries.push(`created role ${role.name}`);
    } catch (error) {
      // Created meanwhile (a concurrent run): converge the one that is there.
      if (!(error instanceof EntityAlreadyExistsException)) throw configProblem(error, `role ${role.name}`);
      current = await getRole(iam, role.name);
    }
  }
  if (!current?.Arn) throw new Error(`IAM returned no role ${role.name}`);
  if (!created && !sameDocument(parseDocument(current.AssumeRolePolicyDocument), trust)) {
    await changeLog.make(
      `restored the trust policy of role ${role.name}`,
      `restore the trust policy of role ${role.name}`,
      async () => {
        try {
          await aws(
            iam.send(
              new UpdateAssumeRolePolicyCommand({
                RoleName: role.name,
                PolicyDocument: JSON.stringify(trust),
              }),
            ),
          );
        } catch (error) {
          throw configProblem(error, `the trust policy of role ${role.name}`);
        }
      },
    );
  }
  if (!created) await convergeRoleSettings(iam, role, current, changeLog);
  // A role this run created has no policies yet: attach and put them without listing.
  await convergeManagedPolicies(iam, role, changeLog, created);
  await convergeInlinePolicies(iam, role, changeLog, created);
  const action = created ? 'created' : changeLog.count > before ? 'updated' : 'unchanged';
  return { name: role.name, arn: current.Arn, action };
}

/**
 * Puts back what the baseline says of the role itself: its description (when the baseline gives one), its
 * maximum session and Vend's tag. Other tags are left alone: people tag roles for their own reasons.
 */
async function convergeRoleSettings(
  iam: IAMClient,
  role: BaselineRole,
  current: Role,
  changeLog: Changes,
): Promise<void> {
  const description = role.description !== undefined && current.Description !== role.description;
  const maxSession = current.MaxSessionDuration !== role.maxSessionDurationSeconds;
  if (description || maxSession) {
    const what = [
      ...(description ? ['description'] : []),
      ...(maxSession
        ? [
            `maximum session (${current.MaxSessionDuration ?? '?'} s, not ${role.maxSessionDurationSeconds} s)`,
          ]
        : []),
    ].join(' and ');
    await changeLog.make(
      `restored the ${what} of role ${role.name}`,
      `restore the ${what} of role ${role.name}`,
      () =>
        aws(
          iam.send(
            new UpdateRoleCommand({
              RoleName: role.name,
              ...(description ? { Description: role.description } : {}),
              // IAM API reference, UpdateRole: a MaxSessionDuration left out is reset to one hour, so always send it.
              MaxSessionDuration: role.maxSessionDurationSeconds,
            }),
          ),
        ).catch((error: unknown) => {
          throw configProblem(error, `the settings of role ${role.name}`);
        }),
    );
  }
  const tagged = current.Tags?.some(
    (tag) => tag.Key === MANAGED_ROLE_TAG.Key && tag.Value === MANAGED_ROLE_TAG.Value,
  );
  if (!tagged) {
    await changeLog.make(
      `tagged role ${role.name} ${MANAGED_ROLE_TAG.Key}=${MANAGED_ROLE_TAG.Value}`,
      `tag role ${role.name} ${MANAGED_ROLE_TAG.Key}=${MANAGED_ROLE_TAG.Value}`,
      () => aws(iam.send(new TagRoleCommand({ RoleName: role.name, Tags: [{ ...MANAGED_ROLE_TAG }] }))),
    );
  }
}

async function getRole(iam: IAMClient, name: string): Promise<Role | undefined> {
  try {
    return (await aws(iam.send(new GetRoleCommand({ RoleName: name })))).Role;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

async function convergeManagedPolicies(
  iam: IAMClient,
  role: BaselineRole,
  changeLog: Changes,
  justCreated: boolean,
): Promise<void> {
  const attached = new Set<string>();
  let marker: string | undefined;
  if (!justCreated)
    do {
      const page = await aws(
        iam.send(
          new ListAttachedRolePoliciesCommand({ RoleName: role.name, ...(marker ? { Marker: marker } : {}) }),
        ),
      );
      for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) attached.add(policy.PolicyArn);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);

  const wanted = new Set(role.managedPolicyArns);
  // Detach first: a role holds at most 10 managed policies, and the baseline's may replace others.
  for (const arn of attached) {
    if (wanted.has(arn)) continue;
    await changeLog.make(
      `detached ${arn} from role ${role.name}`,
      `detach ${arn} from role ${role.name}`,
      async () => {
        try {
          await aws(iam.send(new DetachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn })));
        } catch (error) {
          if (!(error instanceof NoSuchEntityException)) throw error;
          return 'not-needed';
        }
      },
    );
  }
  for (const arn of wanted) {
    if (attached.has(arn)) continue;
    await changeLog.make(
      `attached ${arn} to role ${role.name}`,
      `attach ${arn} to role ${role.name}`,
      async () => {
        try {
          await aws(iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn })));
        } catch (error) {
          throw configProblem(error, `managed policy ${arn} of role ${role.name}`);
        }
      },
    );
  }
}

async function convergeInlinePolicies(
  iam: IAMClient,
  role: BaselineRole,
  changeLog: Changes,
  justCreated: boolean,
): Promise<void> {
  const present: string[] = [];
  let marker: string | undefined;
  if (!justCreated)
    do {
      const page = await aws(
        iam.send(new ListRolePoliciesCommand({ RoleName: role.name, ...(marker ? { Marker: marker } : {}) })),
      );
      present.push(...(page.PolicyNames ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);

  // IAM policy names ignore case.
  const wanted = new Map(
    Object.entries(role.inlinePolicies).map(([name, document]) => [name.toLowerCase(), { name, document }]),
  );
  for (const name of present) {
    if (wanted.has(name.toLowerCase())) continue;
    await changeLog.make(
      `deleted inline policy ${name} from role ${role.name}`,
      `delete inline policy ${name} from role ${role.name}`,
      async () => {
        try {
          await aws(iam.send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: name })));
        } catch (error) {
          if (!(error instanceof NoSuchEntityException)) throw error;
          return 'not-needed';
        }
      },
    );
  }
  const presentNames = new Map(present.map((name) => [name.toLowerCase(), name]));
  for (const [key, { name, document }] of wanted) {
    const existingName = presentNames.get(key);
    if (existingName !== undefined) {
      const existing = await getRolePolicy(iam, role.name, existingName);
      if (existing !== undefined && sameDocument(parseDocument(existing), document)) continue;
    }
    const verb = existingName === undefined ? ['added', 'add'] : ['restored', 'restore'];
    await changeLog.make(
      `${verb[0]} inline policy ${name} of role ${role.name}`,
      `${verb[1]} inline policy ${name} of role ${role.name}`,
      async () => {
        try {
          await aws(
            iam.send(
              new PutRolePolicyCommand({
                RoleName: role.name,
                PolicyName: name,
                PolicyDocument: JSON.stringify(document),
              }),
            ),
          );
        } catch (error) {
          throw configProblem(error, `inline policy ${name} of role ${role.name}`);
        }
      },
    );
  }
}

async function getRolePolicy(
  iam: IAMClient,
  roleName: string,
  policyName: string,
): Promise<string | undefined> {
  try {
    return (await aws(iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))))
      .PolicyDocument;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

/** A policy document as IAM returns it: URL-encoded JSON. */
function parseDocument(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Not encoded after all.
  }
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/**
 * Whether two policy documents say the same: key order, the order of list items and a single item written
 * as a list or alone do not matter to IAM, so they do not count as differences.
 */
export function sameDocument(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    if (items.length === 1) return items[0];
    return items
      .map((item) => [JSON.stringify(item), item] as const)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([, item]) => item);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * IAM refusing what the baseline asks for (a policy ARN that does not exist, a malformed document, a quota):
 * retrying will not mend it, the configuration must change.
 */
function configProblem(error: unknown, what: string): unknown {
  if (
    error instanceof NoSuchEntityException ||
    error instanceof MalformedPolicyDocumentException ||
    error instanceof LimitExceededException ||
    error instanceof InvalidInputException ||
    isAwsError(error, 'ValidationError')
  ) {
    return new VendFailureError(
      `IAM refused ${what} of the baseline: ${error.message}`,
      'This is a problem with the organization baseline, not with your request: ask the platform team to fix baseline.roles in the Vend configuration, then retry the request.',
      { cause: error },
    );
  }
  return error;
}

// ---- password policy ----

type PasswordSettings = NonNullable<VendConfig['baseline']['passwordPolicy']>;

/** The UpdateAccountPasswordPolicy input for the configured policy. */
function passwordPolicyInput(policy: PasswordSettings) {
  return {
    MinimumPasswordLength: policy.minimumPasswordLength,
    RequireSymbols: policy.requireSymbols,
    RequireNumbers: policy.requireNumbers,
    RequireUppercaseCharacters: policy.requireUppercaseCharacters,
    RequireLowercaseCharacters: policy.requireLowercaseCharacters,
    AllowUsersToChangePassword: policy.allowUsersToChangePassword,
    ...(policy.maxPasswordAgeDays !== undefined ? { MaxPasswordAge: policy.maxPasswordAgeDays } : {}),
    ...(policy.passwordReusePrevention !== undefined
      ? { PasswordReusePrevention: policy.passwordReusePrevention }
      : {}),
    HardExpiry: policy.hardExpiry,
  };
}

function samePasswordPolicy(
  current: PasswordPolicy,
  wanted: ReturnType<typeof passwordPolicyInput>,
): boolean {
  // Unset and 0 both mean "no expiry" / "no reuse prevention"; unset HardExpiry means false.
  return (
    current.MinimumPasswordLength === wanted.MinimumPasswordLength &&
    (current.RequireSymbols ?? false) === wanted.RequireSymbols &&
    (current.RequireNumbers ?? false) === wanted.RequireNumbers &&
    (current.RequireUppercaseCharacters ?? false) === wanted.RequireUppercaseCharacters &&
    (current.RequireLowercaseCharacters ?? false) === wanted.RequireLowercaseCharacters &&
    (current.AllowUsersToChangePassword ?? false) === wanted.AllowUsersToChangePassword &&
    (current.MaxPasswordAge || undefined) === wanted.MaxPasswordAge &&
    (current.PasswordReusePrevention || undefined) === wanted.PasswordReusePrevention &&
    (current.HardExpiry ?? false) === wanted.HardExpiry
  );
}

async function convergePasswordPolicy(
  iam: IAMClient,
  policy: PasswordSettings,
  changeLog: Changes,
  writeFirst: boolean,
): Promise<'applied' | 'unchanged'> {
  const wanted = passwordPolicyInput(policy);
  if (writeFirst) {
    // UpdateAccountPasswordPolicy replaces the whole policy: setting it is the same whatever was there.
    await changeLog.make('set the password policy', 'set the password policy', () =>
      aws(iam.send(new UpdateAccountPasswordPolicyCommand(wanted))),
    );
    return 'applied';
  }
  let current: PasswordPolicy | undefined;
  try {
    current = (await aws(iam.send(new GetAccountPasswordPolicyCommand({})))).PasswordPolicy;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
  if (current && samePasswordPolicy(current, wanted)) return 'unchanged';
  await changeLog.make(
    current ? 'restored the password policy' : 'set the password policy',
    current ? 'restore the password policy' : 'set the password policy',
    () => aws(iam.send(new UpdateAccountPasswordPolicyCommand(wanted))),
  );
  return 'applied';
}

// ---- account alias ----

/** IAM's rule for an account alias. */
const ACCOUNT_ALIAS = /^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;

/**
 * The account's alias from the template: lower case, every character IAM does not allow replaced by a dash,
 * runs of dashes made one (IAM refuses `--`), at most 63 characters, and no dash at either end.
 */
export function accountAlias(template: string, accountName: string): string {
  return fillTemplate(template, { accountName })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

async function convergeAlias(
  iam: IAMClient,
  accountId: string,
  alias: string,
  changeLog: Changes,
  writeFirst: boolean,
): Promise<void> {
  if (!ACCOUNT_ALIAS.test(alias)) {
    throw new VendFailureError(
      `the account alias "${alias}" made from baseline.accountAliasTemplate is not one IAM accepts (3-63 of a-z, 0-9 and single dashes)`,
      'Ask the platform team to fix baseline.accountAliasTemplate in the Vend configuration, then retry the request.',
    );
  }
  if (writeFirst) {
    try {
      await aws(iam.send(new CreateAccountAliasCommand({ AccountAlias: alias })));
      changeLog.entries.push(`set the account alias ${alias}`);
      return;
    } catch (error) {
      // Already this account's (an earlier attempt), or another account's: the read-first path tells which.
      if (!(error instanceof EntityAlreadyExistsException)) throw error;
    }
  }
  const { AccountAliases } = await aws(iam.send(new ListAccountAliasesCommand({})));
  if (AccountAliases?.includes(alias)) return;
  const change = AccountAliases?.length
    ? `the account alias ${AccountAliases.join(', ')} with ${alias}`
    : `the account alias ${alias}`;
  await changeLog.make(
    `${AccountAliases?.length ? 'replaced' : 'set'} ${change}`,
    `${AccountAliases?.length ? 'replace' : 'set'} ${change}`,
    async () => {
      try {
        await aws(iam.send(new CreateAccountAliasCommand({ AccountAlias: alias })));
      } catch (error) {
        if (error instanceof EntityAlreadyExistsException) {
          throw new VendFailureError(
            `the account alias "${alias}" is already taken by another AWS account (aliases are unique across all of AWS)`,
            `Account ${accountId} exists and the rest of its baseline is in place. If an account of your organization holds "${alias}", delete that alias there; otherwise ask the platform team to change baseline.accountAliasTemplate in the Vend configuration. Then retry the request.`,
            { cause: error },
          );
        }
        throw error;
      }
    },
  );
}
