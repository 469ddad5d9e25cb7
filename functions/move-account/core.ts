import { accountContext, converge } from '../domain/converger.ts';
import { ouConverger } from '../domain/ou.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and its OU come from the registry. */
export type MoveAccountInput = StepInput;

export interface MoveAccountOutput {
  from: string;
  to: string;
  action: 'moved' | 'already-there';
}

/** Puts the new account in the OU its request names. Idempotent: already there is success. */
export async function moveAccount(deps: Deps, input: MoveAccountInput): Promise<MoveAccountOutput> {
  return runStep(
    deps,
    input,
    'moveAccount',
    async (record) => {
      const { request } = record;
      const accountId = accountOf(record);
      const to = request.organizationalUnit.id;
      const { changes, changeLog } = await converge(
        ouConverger,
        { organizationalUnitId: to },
        accountContext(deps, accountId),
      );
      const moved = changeLog.length > 0;
      const result: MoveAccountOutput = {
        from: changes[0]?.from ?? to,
        to,
        action: moved ? 'moved' : 'already-there',
      };
      return {
        result,
        detail: moved
          ? `moved to ${request.organizationalUnit.path}`
          : `already in ${request.organizationalUnit.path}`,
      };
    },
    'configuring',
  );
}
