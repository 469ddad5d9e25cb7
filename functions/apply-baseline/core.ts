import { type ApplyBaselineOutput, convergeBaseline } from '../domain/baseline.ts';
import { profileOfRequest } from '../domain/profile.ts';
import { securityDefaultsOf } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and what to set up come from the registry. */
export type ApplyBaselineInput = StepInput;

export type { ApplyBaselineOutput };

/**
 * Applies the organization's baseline in a new account: the roles of the request's profile (`baselineRoles`),
 * the password policy, the account alias and the profile's account security defaults. Safe to run again: it
 * converges, changing only what differs from `config.baseline` and the profile; the first attempt writes first.
 * Roles the profile does not list are not created.
 */
export async function applyBaseline(deps: Deps, input: ApplyBaselineInput): Promise<ApplyBaselineOutput> {
  return runStep(deps, input, 'applyBaseline', async (record, attempt) => {
    const { request } = record;
    const accountId = accountOf(record);
    const profile = profileOfRequest(deps.config, request);
    const { output, changeLog } = await convergeBaseline(deps, accountId, request.accountName, {
      roles: profile.baselineRoles,
      securityDefaults: securityDefaultsOf(deps.config, profile),
      writeFirst: attempt === 1,
    });
    const detail =
      output.changes === 0
        ? `baseline ${output.version} already in place`
        : `baseline ${output.version}: ${output.changes} change(s): ${changeLog.join('; ')}`;
    return { result: output, detail: detail.length > 1000 ? `${detail.slice(0, 997)}...` : detail };
  });
}
