import {
  DestinationParentNotFoundException,
  DuplicateAccountException,
  ListParentsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  SourceParentNotFoundException,
} from '@aws-sdk/client-organizations';
import { aws, ConcurrentModificationError, VendFailureError } from '../shared/errors.ts';
import { type AccountContext, applyChanges, type Change, type Converger } from './converger.ts';

/** Where the account must be: the OU's id. */
export interface OuPlacement {
  organizationalUnitId: string;
}

/** Moving the account out of `from` into `to`. */
export interface MoveChange extends Change {
  readonly from: string;
  readonly to: string;
}

/**
 * The account's place in the organization, acting as the management account. MoveAccount names the parent it
 * moves from, so of two concurrent moves only one happens; someone moving the account between plan and apply
 * is met with ConcurrentModificationError (plan again).
 */
export const ouConverger: Converger<OuPlacement, MoveChange> = {
  aspect: 'ou',
  async plan({ organizationalUnitId }, account) {
    const from = await currentParent(account);
    if (from === organizationalUnitId) return [];
    return [moveChange(from, organizationalUnitId)];
  },
  apply: applyChanges,
};

/** The account's parent (an OU or the root) now. */
export async function currentParent(account: AccountContext): Promise<string> {
  const { Parents } = await aws(
    account.deps.client(OrganizationsClient).send(new ListParentsCommand({ ChildId: account.accountId })),
  );
  const parent = Parents?.[0]?.Id;
  if (!parent) throw new Error(`ListParents gave no parent for ${account.accountId}`);
  return parent;
}

function moveChange(from: string, to: string): MoveChange {
  return {
    aspect: 'ou',
    summary: `move the account from ${from} to ${to}`,
    from,
    to,
    async run(account) {
      try {
        await account.deps.client(OrganizationsClient).send(
          new MoveAccountCommand({
            AccountId: account.accountId,
            SourceParentId: from,
            DestinationParentId: to,
          }),
        );
        return { done: [`moved the account from ${from} to ${to}`], created: false };
      } catch (error) {
        if (error instanceof DuplicateAccountException) return { done: [], created: false };
        // Someone moved it between ListParents and MoveAccount: look again on the retry.
        if (error instanceof SourceParentNotFoundException)
          throw new ConcurrentModificationError(
            `account ${account.accountId} is no longer in ${from}: it was moved meanwhile`,
            { cause: error },
          );
        if (error instanceof DestinationParentNotFoundException) {
          throw new VendFailureError(
            `the organizational unit ${to} no longer exists`,
            'Ask your platform team to update the allowed OUs in the Vend configuration, then ask again for an OU that exists.',
            { cause: error },
          );
        }
        return aws(Promise.reject(error));
      }
    },
  };
}
