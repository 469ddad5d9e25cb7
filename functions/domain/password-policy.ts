import {
  GetAccountPasswordPolicyCommand,
  IAMClient,
  NoSuchEntityException,
  type PasswordPolicy,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import type { VendConfig } from '../shared/config.ts';
import { aws } from '../shared/errors.ts';
import { applyChanges, type Change, type Converger, change } from './converger.ts';

/** The password policy the baseline sets (`baseline.passwordPolicy`). */
export type PasswordSettings = NonNullable<VendConfig['baseline']['passwordPolicy']>;

/**
 * The account's IAM password policy, acting through the organization's access role. UpdateAccountPasswordPolicy
 * replaces the whole policy, so setting it is the same whatever was there.
 */
export const passwordPolicyConverger: Converger<PasswordSettings> = {
  aspect: 'password-policy',
  async plan(policy, account) {
    const wanted = passwordPolicyInput(policy);
    const set = (summary: string, done: string): Change =>
      change('password-policy', summary, done, async () =>
        aws((await account.session()).client(IAMClient).send(new UpdateAccountPasswordPolicyCommand(wanted))),
      );
    if (account.expectNew) return [set('set the password policy', 'set the password policy')];
    let current: PasswordPolicy | undefined;
    try {
      current = (
        await aws((await account.session()).client(IAMClient).send(new GetAccountPasswordPolicyCommand({})))
      ).PasswordPolicy;
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
    }
    if (current && samePasswordPolicy(current, wanted)) return [];
    return [
      current
        ? set('restore the password policy', 'restored the password policy')
        : set('set the password policy', 'set the password policy'),
    ];
  },
  apply: applyChanges,
};

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
