import { accountContext, converge } from '../domain/converger.ts';
import { ouConverger } from '../domain/ou.ts';
import type { Deps } from '../shared/deps.ts';
import type { VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface MoveAccountInput {
  request: VendRequest;
  accountId: string;
}

export interface MoveAccountOutput {
  from: string;
  to: string;
  action: 'moved' | 'already-there';
}

/** Puts the new account in the OU its request names. Idempotent: already there is success. */
export async function moveAccount(
  deps: Deps,
  { request, accountId }: MoveAccountInput,
): Promise<MoveAccountOutput> {
  return runStep(
    deps,
    request.requestId,
    'moveAccount',
    async () => {
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
