import {
  DestinationParentNotFoundException,
  DuplicateAccountException,
  ListParentsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  SourceParentNotFoundException,
} from '@aws-sdk/client-organizations';
import type { Deps } from '../shared/deps.ts';
import { aws, ConcurrentModificationError, VendFailureError } from '../shared/errors.ts';
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

/** Puts an account in its OU. Idempotent: already there is success. Also used by the drift fix. */
export async function moveAccountToOu(
  deps: Deps,
  accountId: string,
  destinationId: string,
): Promise<MoveAccountOutput> {
  const { Parents } = await aws(
    deps.client(OrganizationsClient).send(new ListParentsCommand({ ChildId: accountId })),
  );
  const from = Parents?.[0]?.Id;
  if (!from) throw new Error(`ListParents gave no parent for ${accountId}`);
  if (from === destinationId) return { from, to: destinationId, action: 'already-there' };
  try {
    await deps.client(OrganizationsClient).send(
      new MoveAccountCommand({
        AccountId: accountId,
        SourceParentId: from,
        DestinationParentId: destinationId,
      }),
    );
    return { from, to: destinationId, action: 'moved' };
  } catch (error) {
    if (error instanceof DuplicateAccountException)
      return { from, to: destinationId, action: 'already-there' };
    // Someone moved it between ListParents and MoveAccount: look again on the retry.
    if (error instanceof SourceParentNotFoundException)
      throw new ConcurrentModificationError(error.message, { cause: error });
    if (error instanceof DestinationParentNotFoundException) {
      throw new VendFailureError(
        `the organizational unit ${destinationId} no longer exists`,
        'Ask your platform team to update the allowed OUs in the Vend configuration, then ask again for an OU that exists.',
        { cause: error },
      );
    }
    return aws(Promise.reject(error));
  }
}

export async function moveAccount(
  deps: Deps,
  { request, accountId }: MoveAccountInput,
): Promise<MoveAccountOutput> {
  return runStep(
    deps,
    request.requestId,
    'moveAccount',
    async () => {
      const result = await moveAccountToOu(deps, accountId, request.organizationalUnit.id);
      return {
        result,
        detail:
          result.action === 'moved'
            ? `moved to ${request.organizationalUnit.path}`
            : `already in ${request.organizationalUnit.path}`,
      };
    },
    'configuring',
  );
}
