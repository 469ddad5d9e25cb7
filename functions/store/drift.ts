import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { aws, ConcurrentModificationError } from '../shared/errors.ts';
import type { DriftAspect, DriftRecord, DriftState } from '../shared/model.ts';
import type { ItemKey, RegistryTable } from './table.ts';

/** How many entries of an account's drift history the registry keeps (older ones are in the drift function's logs). */
export const DRIFT_HISTORY_MAX = 50;
/** How long an event id is remembered once acted on: longer than EventBridge retries an event (24 hours at most). */
export const DRIFT_EVENT_TTL_SECONDS = 7 * 24 * 60 * 60;
/** How long a drift lock item outlives its lease before DynamoDB's TTL deletes it. */
const LOCK_TTL_SECONDS = 24 * 60 * 60;
/** How many times a drift record is read and written again when a concurrent writer changed it in between. */
const RECORD_TRIES = 10;

/** Where an account's drift state and lock live (in the account's partition), and where an event's claim lives. */
const keys = {
  state: (accountId: string): ItemKey => ({ pk: `ACCOUNT#${accountId}`, sk: 'DRIFT' }),
  lock: (accountId: string): ItemKey => ({ pk: `ACCOUNT#${accountId}`, sk: 'DRIFTLOCK' }),
  event: (eventId: string): ItemKey => ({ pk: `DRIFTEVENT#${eventId}`, sk: 'DRIFTEVENT' }),
};

/** What claiming an event found: it is this caller's to act on, already acted on, or being acted on elsewhere. */
export type DriftEventClaim = 'claimed' | 'done' | 'busy';

/** What a drift check changes in an account's drift state. */
export interface DriftChange {
  /** The aspects it checked, as they are now. */
  aspects?: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>>;
  /** One history entry. */
  record?: DriftRecord;
  /** Changes an entry already recorded (its announcement, once Slack answered). */
  patch?: { id: string; fields: Partial<Pick<DriftRecord, 'announcement'>> };
}

/**
 * Drift: each account's aspects as last checked and its recent history, the claims of drift events (so that an
 * event delivered twice is acted on once), and each account's drift lock (so that two checks never fix the same
 * thing at once).
 */
export class DriftStore {
  constructor(readonly table: RegistryTable) {}

  /** An account's drift: its aspects as last checked and its recent history; undefined before any check. */
  get(accountId: string): Promise<DriftState | undefined> {
    return this.table.get<DriftState>(keys.state(accountId));
  }

  /**
   * Records what a drift check found: the aspects it checked (as they are now) and, when given, one history entry
   * (the newest first).
   * An entry whose id the history already holds is not added again (`recorded: false`), so an event acted on twice
   * cannot be recorded twice. Optimistic locking (a version number, conditional writes) keeps concurrent writers
   * from losing each other's entries. The history keeps the newest `DRIFT_HISTORY_MAX` entries.
   */
  async record(accountId: string, change: DriftChange): Promise<{ recorded: boolean }> {
    // Not a back-off: a lost write means another writer changed the record, so it is read again at once.
    for (let round = 0; round < RECORD_TRIES; round++) {
      const current = await this.get(accountId);
      if (!current && !change.record && !change.aspects) return { recorded: false };
      const now = new Date().toISOString();
      const next: DriftState = current
        ? { ...current, aspects: { ...current.aspects }, history: [...current.history] }
        : { accountId, aspects: {}, history: [], version: 0, updatedAt: now };
      for (const [aspect, status] of Object.entries(change.aspects ?? {})) {
        next.aspects[aspect as DriftAspect] = { status, checkedAt: now };
      }
      let recorded = false;
      if (change.record && !next.history.some((entry) => entry.id === change.record!.id)) {
        // Newest recorded first (an event's own time may be older than entries recorded before it).
        next.history = [change.record, ...next.history].slice(0, DRIFT_HISTORY_MAX);
        recorded = true;
      }
      if (change.patch) {
        const { id, fields } = change.patch;
        next.history = next.history.map((entry) => (entry.id === id ? { ...entry, ...fields } : entry));
      }
      next.version = (current?.version ?? 0) + 1;
      next.updatedAt = now;
      const written = await this.table.write(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.state(accountId), ...next },
          ConditionExpression: current ? 'version = :version' : 'attribute_not_exists(pk)',
          ...(current ? { ExpressionAttributeValues: { ':version': current.version } } : {}),
        }),
      );
      if (written.ok) return { recorded };
    }
    throw new ConcurrentModificationError(`the drift record of account ${accountId} keeps changing`);
  }

  /**
   * Claims a drift event for acting on it, with a conditional write, so that of several deliveries of one event
   * (EventBridge delivers at least once) exactly one acts. A claim whose holder did not finish within `leaseMs`
   * (it crashed) may be taken over; a finished one is remembered for `DRIFT_EVENT_TTL_SECONDS`.
   */
  async claimEvent(eventId: string, leaseMs: number): Promise<DriftEventClaim> {
    const now = Date.now();
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keys.event(eventId),
          state: 'acting',
          leaseUntil: now + leaseMs,
          expiresAt: Math.floor(now / 1000) + DRIFT_EVENT_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR (#state = :acting AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':acting': 'acting', ':now': now },
      }),
    );
    if (written.ok) return 'claimed';
    const held = await this.table.getRaw(keys.event(eventId));
    return held?.state === 'done' ? 'done' : 'busy';
  }

  /** Marks a claimed event acted on: later deliveries of it are duplicates. */
  async finishEvent(eventId: string): Promise<void> {
    await aws(
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.event(eventId),
          UpdateExpression: 'SET #state = :done REMOVE leaseUntil',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':done': 'done' },
        }),
      ),
    );
  }

  /** Gives a claimed event up (acting on it failed and will be retried): the next delivery may act on it. */
  async releaseEvent(eventId: string): Promise<void> {
    await this.table.write(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.event(eventId),
        ConditionExpression: '#state = :acting',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':acting': 'acting' },
      }),
    );
  }

  /**
   * Takes the account's drift lock for `leaseMs`, unless another holder has it: checking an account and putting it
   * back happen under it, so two deliveries, two events or an event and the sweep never fix the same thing twice.
   * A lock whose holder did not release it (it crashed) is free once its lease has passed.
   */
  async acquireLock(accountId: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keys.lock(accountId),
          owner,
          leaseUntil: now + leaseMs,
          expiresAt: Math.floor((now + leaseMs) / 1000) + LOCK_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': now, ':owner': owner },
      }),
    );
    return written.ok;
  }

  /** Releases the account's drift lock, if this owner still holds it. */
  async releaseLock(accountId: string, owner: string): Promise<void> {
    await this.table.write(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.lock(accountId),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }
}
