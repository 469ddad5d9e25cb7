import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '../shared/config.ts';
import { aws, RegistryConditionFailedError } from '../shared/errors.ts';
import type { AccountDesiredState } from '../shared/model.ts';
import type { ItemKey, Page, RegistryTable } from './table.ts';

/** Where an account's desired state lives; its drift records share the partition (see the drift store). */
export const accountKey = (accountId: string): ItemKey => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' });
/** The list index's partition of accounts; its sort key is `<createdAt>#<accountId>`. */
const LIST_PARTITION = 'ACCOUNT';

/** The desired state of every vended account: what the drift checks and the sweep put back. */
export class AccountStore {
  constructor(readonly table: RegistryTable) {}

  /** Stores an account's desired state, replacing what was there. */
  async put(account: AccountDesiredState): Promise<void> {
    await aws(
      this.table.db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...accountKey(account.accountId),
            ...account,
            gsi1pk: LIST_PARTITION,
            gsi1sk: `${account.createdAt}#${account.accountId}`,
          },
        }),
      ),
    );
  }

  /** An account's desired state, read consistently; undefined when Vend did not vend it. */
  get(accountId: string): Promise<AccountDesiredState | undefined> {
    return this.table.get<AccountDesiredState>(accountKey(accountId));
  }

  /** Accounts, newest first, a page at a time. */
  list(limit: number, cursor?: string): Promise<Page<AccountDesiredState>> {
    return this.table.list<AccountDesiredState>(LIST_PARTITION, limit, cursor);
  }

  /** Marks a vended account closed or removed from the organization (only an account the registry holds). */
  async setStatus(accountId: string, status: AccountDesiredState['status']): Promise<void> {
    await this.setExisting(
      accountId,
      'SET #status = :status, updatedAt = :now',
      { ':status': status },
      {
        '#status': 'status',
      },
    );
  }

  /** Records the baseline version now in place in a vended account (the sweep applied the current baseline). */
  async setBaselineVersion(accountId: string, version: string): Promise<void> {
    await this.setExisting(accountId, 'SET baselineVersion = :version, updatedAt = :now', {
      ':version': version,
    });
  }

  /**
   * Records the profile a vended account is now kept at (the sweep rolled it out, or recorded the configuration's
   * for an account recorded without one) and, when the rollout raised them, the budget alerts it now has.
   */
  async setProfile(
    accountId: string,
    profile: Profile,
    thresholds?: AccountDesiredState['budget']['thresholds'],
  ): Promise<void> {
    await this.setExisting(
      accountId,
      `SET #profile = :profile${thresholds ? ', #budget.thresholds = :thresholds' : ''}, updatedAt = :now`,
      { ':profile': profile, ...(thresholds ? { ':thresholds': thresholds } : {}) },
      { '#profile': 'profile', ...(thresholds ? { '#budget': 'budget' } : {}) },
    );
  }

  /** Updates an account the registry holds; RegistryConditionFailedError when it holds none. */
  private async setExisting(
    accountId: string,
    update: string,
    values: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<void> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: accountKey(accountId),
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(pk)',
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: { ...values, ':now': new Date().toISOString() },
      }),
    );
    if (!written.ok) throw new RegistryConditionFailedError(`account ${accountId} is not in the registry`);
  }
}
