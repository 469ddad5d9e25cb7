import { accountContext, converge } from '../domain/converger.ts';
import { guardrailNames, guardrailsConverger, profileGuardrails } from '../domain/guardrails.ts';
import { ouConverger } from '../domain/ou.ts';
import { profileOfRequest } from '../domain/profile.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and its OU come from the registry. */
export type MoveAccountInput = StepInput;

export interface MoveAccountOutput {
  from: string;
  to: string;
  action: 'moved' | 'already-there';
  /** The profile's service control policies, attached to the account. */
  guardrails: string[];
}

/**
 * Puts the new account, configured and still quarantined, in the OU its request names, and attaches its profile's
 * service control policies (creating or updating Vend's own). It runs after the account is configured, so that a
 * guardrail of the OU never stands between Vend and a step. Idempotent: already there, already attached is success.
 */
export async function moveAccount(deps: Deps, input: MoveAccountInput): Promise<MoveAccountOutput> {
  return runStep(
    deps,
    input,
    'moveAccount',
    async (record) => {
      const { request } = record;
      const accountId = accountOf(record);
      const to = request.organizationalUnit.id;
      const account = accountContext(deps, accountId);
      const { changes, changeLog } = await converge(ouConverger, { organizationalUnitId: to }, account);
      const policies = profileGuardrails(deps.config, profileOfRequest(deps.config, request).policies);
      await converge(guardrailsConverger, { policies, quarantined: true }, account);
      const moved = changeLog.length > 0;
      const guardrails = guardrailNames({ policies, quarantined: true });
      const result: MoveAccountOutput = {
        from: changes[0]?.from ?? to,
        to,
        action: moved ? 'moved' : 'already-there',
        guardrails,
      };
      const attached = guardrails.length > 0 ? `; guardrails ${guardrails.join(', ')} attached` : '';
      return {
        result,
        detail: `${moved ? 'moved to' : 'already in'} ${request.organizationalUnit.path}${attached}`,
      };
    },
    'configuring',
  );
}
