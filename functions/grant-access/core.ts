import { convergeAccess, type GrantAccessOutput } from '../domain/identity-center.ts';
import { profileOfRequest } from '../domain/profile.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and its profile come from the registry. */
export type GrantAccessInput = StepInput;

export type { GrantAccessOutput };

/**
 * Gives people access to the new account through IAM Identity Center: the permission sets its profile assigns,
 * to groups and to the requester and owner, each creation waited for. An owner or requester without an Identity
 * Center user does not fail the request: the other assignments apply, and the output says who could not be
 * assigned and why. Without `identityCenter` in the configuration it does nothing, and says so. Safe to run again:
 * what is in place is left as it is.
 */
export async function grantAccess(deps: Deps, input: GrantAccessInput): Promise<GrantAccessOutput> {
  return runStep(deps, input, 'grantAccess', async (record) => {
    const { request } = record;
    const accountId = accountOf(record);
    const profile = profileOfRequest(deps.config, request);
    const { output, changeLog } = await convergeAccess(deps, accountId, {
      assignments: profile.identityCenter?.assignments ?? [],
      owner: request.owner,
      requester: request.requester.principal,
    });
    return { result: output, detail: truncate(detailOf(output, changeLog)) };
  });
}

function detailOf(output: GrantAccessOutput, changeLog: string[]): string {
  if (!output.configured) return `no Identity Center access: ${output.note ?? 'nothing to assign'}`;
  const done = changeLog.length > 0 ? changeLog.join('; ') : 'every assignment already in place';
  const missed = output.unassigned.map(
    (person) => `${person.role} ${person.who} not assigned ${person.permissionSet}: ${person.reason}`,
  );
  return [done, ...missed].join('; ');
}

function truncate(text: string): string {
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}
