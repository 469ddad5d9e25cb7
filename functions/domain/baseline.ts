import type { SecurityDefaults } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { accountAlias, aliasConverger } from './alias.ts';
import { accountContext, converge } from './converger.ts';
import { passwordPolicyConverger } from './password-policy.ts';
import { profileRoles } from './profile.ts';
import { retiredRoleConverger, roleArn, roleConverger } from './role.ts';
import { convergeSecurityDefaults, type SecurityDefaultsOutcome } from './security-defaults.ts';

export interface BaselineRoleOutcome {
  name: string;
  arn: string;
  action: 'created' | 'updated' | 'unchanged';
}

/** What the account's baseline is after converging (the apply-baseline step's output). */
export interface ApplyBaselineOutput {
  step: 'applyBaseline';
  /** The baseline version now in place, recorded with the account so that a later baseline can find it. */
  version: string;
  roles: BaselineRoleOutcome[];
  passwordPolicy: 'applied' | 'unchanged' | 'not-configured';
  alias?: string;
  /** The account security defaults in place; absent when none were asked for. */
  securityDefaults?: SecurityDefaultsOutcome;
  /** How many changes were made (or in a dry run would be); zero when the account already matched the baseline. */
  changes: number;
}

/** What converging did: the output and, in words, each change made (what the step and the drift sweep report). */
export interface BaselineConvergence {
  output: ApplyBaselineOutput;
  changeLog: string[];
}

/** How to converge the baseline. */
export interface ConvergeOptions {
  /**
   * The names of the roles to converge (the profile's `baselineRoles`); each is converged to its `baseline.roles`
   * definition, in the order `baseline.roles` lists them, and a name without one is left out. Roles not named are
   * neither created nor changed. @default every role of `baseline.roles`
   */
  roles?: readonly string[];
  /** Plan only: nothing changes, and each change that would be made is listed as "would ...". */
  dryRun?: boolean;
  /**
   * The account is expected to be new (the workflow step's first attempt): write first and read only when a
   * write finds something already there, which saves a read per item on the usual path. The state reached is
   * the same either way, but setting the password policy and alias counts as a change even when they were
   * already so: later attempts read first, so that a repeat reports no changes. Ignored in a dry run.
   */
  writeFirst?: boolean;
  /**
   * The account security defaults to converge (the profile's, `securityDefaultsOf`): EBS encryption by default in
   * each of `organization.allowedRegions`, S3 Block Public Access, alternate contacts. @default none
   */
  securityDefaults?: SecurityDefaults;
}

/**
 * Makes an account match `config.baseline` (the profile's roles, the password policy, the account alias) and, when
 * asked, the profile's account security defaults, one converger after another, acting through the organization's
 * access role, and says what changed. The workflow uses it on new accounts; the drift sweep to put back what
 * someone changed by hand. AssumeRole refused (a new account's
 * IAM not consistent yet) surfaces as AccountNotReadyError.
 */
export async function convergeBaseline(
  deps: Deps,
  accountId: string,
  accountName: string,
  options: ConvergeOptions = {},
): Promise<BaselineConvergence> {
  const { baseline, organization } = deps.config;
  const dryRun = options.dryRun === true;
  const account = accountContext(deps, accountId, { expectNew: options.writeFirst === true && !dryRun });
  const changeLog: string[] = [];

  const roles: BaselineRoleOutcome[] = [];
  const wanted = options.roles ? profileRoles(deps.config, options.roles) : baseline.roles;
  for (const role of wanted) {
    const result = await converge(roleConverger(role.name), role, account, { dryRun });
    changeLog.push(...result.changeLog);
    roles.push({
      name: role.name,
      arn: dryRun && result.created ? '' : roleArn(accountId, role.name, organization.homeRegion),
      action: result.created ? 'created' : result.changeLog.length > 0 ? 'updated' : 'unchanged',
    });
  }

  let passwordPolicy: ApplyBaselineOutput['passwordPolicy'] = 'not-configured';
  if (baseline.passwordPolicy) {
    const result = await converge(passwordPolicyConverger, baseline.passwordPolicy, account, { dryRun });
    changeLog.push(...result.changeLog);
    passwordPolicy = result.changes.length > 0 ? 'applied' : 'unchanged';
  }

  let alias: string | undefined;
  if (baseline.accountAliasTemplate) {
    alias = accountAlias(baseline.accountAliasTemplate, accountName);
    changeLog.push(...(await converge(aliasConverger, { alias }, account, { dryRun })).changeLog);
  }

  let securityDefaults: SecurityDefaultsOutcome | undefined;
  if (options.securityDefaults) {
    const regions = organization.allowedRegions;
    const result = await convergeSecurityDefaults(account, options.securityDefaults, regions, { dryRun });
    changeLog.push(...result.changeLog);
    securityDefaults = result.outcome;
  }

  const output: ApplyBaselineOutput = {
    step: 'applyBaseline',
    version: baseline.version,
    roles,
    passwordPolicy,
    ...(alias !== undefined ? { alias } : {}),
    ...(securityDefaults ? { securityDefaults } : {}),
    changes: changeLog.length,
  };
  return { output, changeLog };
}

/** What a profile's rollout does to an account's roles. */
export interface RoleRollout {
  /** Roles to create (or converge, when already there): each must be defined in `baseline.roles`. */
  create: readonly string[];
  /** Roles to delete where Vend created them (`retiredRoleConverger`). */
  retire: readonly string[];
}

/**
 * Rolls a changed profile's roles out to an account: creates the roles it newly lists, deletes the ones it no
 * longer lists that carry Vend's tag; with `dryRun` only lists what it would do. Returns the changes in words.
 */
export async function rollOutRoles(
  deps: Deps,
  accountId: string,
  rollout: RoleRollout,
  options: { dryRun?: boolean } = {},
): Promise<string[]> {
  const dryRun = options.dryRun === true;
  const account = accountContext(deps, accountId);
  const changeLog: string[] = [];
  for (const role of profileRoles(deps.config, rollout.create)) {
    changeLog.push(...(await converge(roleConverger(role.name), role, account, { dryRun })).changeLog);
  }
  for (const name of rollout.retire) {
    changeLog.push(...(await converge(retiredRoleConverger(name), { name }, account, { dryRun })).changeLog);
  }
  return changeLog;
}
