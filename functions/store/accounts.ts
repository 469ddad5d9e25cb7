import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '../shared/config.ts';
import { aws, ConcurrentModificationError, RegistryConditionFailedError } from '../shared/errors.ts';
import {
  type AccountDesiredState,
  type AccountHold,
  HOLD_HISTORY_MAX,
  type HoldEvent,
} from '../shared/model.ts';
import type { ItemKey, Page, RegistryTable } from './table.ts';

/** Where an account's desired state lives; its drift records share the partition (see the drift store). */
export const accountKey = (accountId: string): ItemKey => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' });
/** The list index's partition of accounts; its sort key is `<createdAt>#<accountId>`. */
const LIST_PARTITION = 'ACCOUNT';

/**
 * What putting an account on hold, or releasing it, found: done (the account as it now is), the account already
 * in that state (held: the standing hold; not held), not in the registry, or not active (closed or removed).
 */
export type HoldOutcome =
  | { kind: 'done'; account: AccountDesiredState }
  | { kind: 'unchanged'; account: AccountDesiredState }
  | { kind: 'missing' }
  | { kind: 'inactive'; account: AccountDesiredState };

/** How many times a hold is read and written again when another write changed the account in between. */
const HOLD_TRIES = 5;

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

  /**
   * Puts an active account on hold (`hold` on the record, and an entry in `holdHistory`); an account already on
   * hold is left as it is (`unchanged`, with the standing hold).
   */
  putOnHold(accountId: string, hold: AccountHold): Promise<HoldOutcome> {
    return this.changeHold(accountId, (account) =>
      account.hold ? undefined : { hold, entry: { action: 'hold', ...hold } },
    );
  }

  /** Ends an account's hold, recording who released it and when; an account not on hold is `unchanged`. */
  release(accountId: string, release: { by: string; at: string }): Promise<HoldOutcome> {
    return this.changeHold(accountId, (account) =>
      account.hold ? { entry: { action: 'release', ...release } } : undefined,
    );
  }

  /**
   * Reads the account, asks `change` what to write (undefined: nothing, it is already so) and writes it on the
   * condition that nobody wrote the account in between (its `updatedAt`), reading again when somebody did.
   */
  private async changeHold(
    accountId: string,
    change: (account: AccountDesiredState) => { hold?: AccountHold; entry: HoldEvent } | undefined,
  ): Promise<HoldOutcome> {
    for (let round = 0; round < HOLD_TRIES; round++) {
      const account = await this.get(accountId);
      if (!account) return { kind: 'missing' };
      if (account.status !== 'active') return { kind: 'inactive', account };
      const next = change(account);
      if (!next) return { kind: 'unchanged', account };
      const holdHistory = [next.entry, ...(account.holdHistory ?? [])].slice(0, HOLD_HISTORY_MAX);
      const now = new Date().toISOString();
      const written = await this.table.write(
        new UpdateCommand({
          TableName: this.table.name,
          Key: accountKey(accountId),
          UpdateExpression: next.hold
            ? 'SET #hold = :hold, holdHistory = :history, updatedAt = :now'
            : 'REMOVE #hold SET holdHistory = :history, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND updatedAt = :seen',
          ExpressionAttributeNames: { '#hold': 'hold' },
          ExpressionAttributeValues: {
            ...(next.hold ? { ':hold': next.hold } : {}),
            ':history': holdHistory,
            ':now': now,
            ':seen': account.updatedAt,
          },
        }),
      );
      if (!written.ok) continue;
      const { hold: _hold, ...rest } = account;
      return {
        kind: 'done',
        account: { ...rest, ...(next.hold ? { hold: next.hold } : {}), holdHistory, updatedAt: now },
      };
    }
    throw new ConcurrentModificationError(`account ${accountId} keeps changing`);
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
