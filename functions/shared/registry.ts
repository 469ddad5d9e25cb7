import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { aws, ConcurrentModificationError, classifyAwsError } from './errors.ts';
import type {
  AccountDesiredState,
  DriftAspect,
  DriftRecord,
  DriftState,
  RequestRecord,
  StepName,
  StepRecord,
} from './model.ts';

/** Another request holds the name or email. */
export class ReservationConflictError extends Error {
  override readonly name = 'ReservationConflictError';
  constructor(
    readonly field: 'name' | 'email' | 'requestId',
    readonly heldBy: string | undefined,
  ) {
    super(`${field} is already taken${heldBy ? ` by request ${heldBy}` : ''}`);
  }
}

/** A reservation whose request was never written is stale after this long (a crash between the two writes). */
const STALE_RESERVATION_MS = 60_000;

const requestKey = (id: string) => ({ pk: `REQUEST#${id}`, sk: 'REQUEST' });
const accountKey = (id: string) => ({ pk: `ACCOUNT#${id}`, sk: 'ACCOUNT' });
const emailKey = (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'RESERVATION' });
const nameKey = (name: string) => ({ pk: `NAME#${name.toLowerCase()}`, sk: 'RESERVATION' });
const driftKey = (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'DRIFT' });
const driftLockKey = (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'DRIFTLOCK' });

/** Sets one step's record of a request (and the request's status, when given) under a condition. */
function stepUpdate(
  tableName: string,
  requestId: string,
  step: StepName,
  record: StepRecord,
  status: RequestRecord['status'] | undefined,
  options: { condition: string; returnNew?: boolean },
): UpdateCommand {
  return new UpdateCommand({
    TableName: tableName,
    Key: requestKey(requestId),
    UpdateExpression: `SET steps.#step = :record, updatedAt = :now${status ? ', #status = :status' : ''}`,
    ConditionExpression: options.condition,
    ExpressionAttributeNames: { '#step': step, ...(status ? { '#status': 'status' } : {}) },
    ExpressionAttributeValues: {
      ':record': record,
      ':now': new Date().toISOString(),
      ...(status ? { ':status': status } : {}),
    },
    ...(options.returnNew ? { ReturnValues: 'ALL_NEW' as const } : {}),
  });
}
const driftEventKey = (eventId: string) => ({ pk: `DRIFTEVENT#${eventId}`, sk: 'DRIFTEVENT' });
const idempotencyKey = (principal: string, key: string) => ({
  pk: `IDEMPOTENCY#${principal}#${key}`,
  sk: 'IDEMPOTENCY',
});

/** How long an idempotency key is remembered (DynamoDB's TTL deletes it later; reads ignore it from then on). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** A caller's idempotency key: which request it stands for, and a hash of the body it came with. */
export interface IdempotencyRecord {
  principal: string;
  key: string;
  /** SHA-256 of the canonical JSON body, hex. */
  bodyHash: string;
  requestId: string;
  createdAt: string;
  /** Epoch seconds, the table's TTL attribute. */
  expiresAt: number;
}

/** How many entries of an account's drift history the registry keeps (older ones are in the drift function's logs). */
export const DRIFT_HISTORY_MAX = 50;
/** How long an event id is remembered once acted on: longer than EventBridge retries an event (24 hours at most). */
export const DRIFT_EVENT_TTL_SECONDS = 7 * 24 * 60 * 60;

/** What claiming an event found: it is this caller's to act on, already acted on, or being acted on elsewhere. */
export type DriftEventClaim = 'claimed' | 'done' | 'busy';

/** The index that lists requests and accounts in order. */
export const LIST_INDEX = 'gsi1';

/**
 * The registry: requests and their progress, name and email reservations, and the desired state of every
 * vended account. One DynamoDB table (`pk`, `sk`, and the `gsi1` index on `gsi1pk`, `gsi1sk`).
 */
export class Registry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Stores a new request and reserves its account name and email, case-insensitively, with conditional writes:
   * two requests for the same email cannot both get past this point. The reservations are written first and the
   * request last; a conflict releases what this request took. A reservation whose request was never written
   * (a crash in between) is stale after `STALE_RESERVATION_MS` and may be taken over.
   */
  async createRequest(record: RequestRecord): Promise<void> {
    const { request } = record;
    const taken: Record<string, string>[] = [];
    try {
      await this.reserve(emailKey(request.email), record, 'email', { email: request.email });
      taken.push(emailKey(request.email));
      await this.reserve(nameKey(request.accountName), record, 'name', { accountName: request.accountName });
      taken.push(nameKey(request.accountName));
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...requestKey(record.requestId),
              ...record,
              gsi1pk: 'REQUEST',
              gsi1sk: `${record.createdAt}#${record.requestId}`,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new ReservationConflictError('requestId', record.requestId);
        throw classifyAwsError(error);
      }
    } catch (error) {
      // A request with this id already exists: the reservations written under its id are its own (a retried
      // submission of the same request), so they stay.
      if (error instanceof ReservationConflictError && error.field !== 'requestId') {
        for (const key of taken) await this.release(key, record.requestId);
      }
      throw error;
    }
  }

  private async reserve(
    key: Record<string, string>,
    record: RequestRecord,
    field: 'name' | 'email',
    extra: Record<string, string>,
  ): Promise<void> {
    const item = { ...key, ...extra, requestId: record.requestId, reservedAt: new Date().toISOString() };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR requestId = :id',
          ExpressionAttributeValues: { ':id': record.requestId },
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
    }
    const { Item } = await aws(
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    const holder = Item?.requestId as string | undefined;
    const reservedAt = Date.parse(String(Item?.reservedAt ?? ''));
    const stale =
      holder !== undefined &&
      Date.now() - reservedAt > STALE_RESERVATION_MS &&
      !(await this.getRequest(holder));
    if (!stale) throw new ReservationConflictError(field, holder);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'requestId = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new ReservationConflictError(field, undefined);
      throw classifyAwsError(error);
    }
  }

  private async release(key: Record<string, string>, requestId: string): Promise<void> {
    try {
      await aws(
        this.db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ConditionExpression: 'requestId = :id',
            ExpressionAttributeValues: { ':id': requestId },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The request an idempotency key stands for, unless it is unknown or expired. */
  async getIdempotencyRecord(principal: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await aws(
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: idempotencyKey(principal, key),
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item || Number(Item.expiresAt) <= Math.floor(Date.now() / 1000)) return undefined;
    return stripKeys<IdempotencyRecord>(Item);
  }

  /**
   * Claims an idempotency key for a new request, with a conditional write so that of many concurrent claims
   * exactly one wins. Returns the record that holds the key: this one when `claimed`, else the earlier one.
   */
  async claimIdempotencyKey(
    principal: string,
    key: string,
    bodyHash: string,
    requestId: string,
  ): Promise<{ claimed: boolean; record: IdempotencyRecord }> {
    const now = Date.now();
    const record: IdempotencyRecord = {
      principal,
      key,
      bodyHash,
      requestId,
      createdAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...idempotencyKey(principal, key), ...record },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
          }),
        );
        return { claimed: true, record };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
      }
      const existing = await this.getIdempotencyRecord(principal, key);
      if (existing) return { claimed: false, record: existing };
      // It expired or was released between the write and the read: claim again.
    }
    throw new ConcurrentModificationError(`idempotency key ${key} keeps changing hands`);
  }

  /** Frees an idempotency key (only if it still stands for `requestId`), when its request was refused. */
  async releaseIdempotencyKey(principal: string, key: string, requestId: string): Promise<void> {
    await this.release(idempotencyKey(principal, key), requestId);
  }

  /** Which request holds a name or an email, if any. */
  async reservationHolder(field: 'name' | 'email', value: string): Promise<string | undefined> {
    const key = field === 'email' ? emailKey(value) : nameKey(value);
    const { Item } = await aws(
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return Item?.requestId as string | undefined;
  }

  /** One item, read consistently, without its keys; undefined when there is none. */
  private async getItem<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const { Item } = await aws(
      this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return Item ? stripKeys<T>(Item) : undefined;
  }

  /** Frees a request's reservations (only those it holds), when it ended without creating an account. */
  async releaseReservations(record: RequestRecord): Promise<void> {
    await this.release(emailKey(record.request.email), record.requestId);
    await this.release(nameKey(record.request.accountName), record.requestId);
  }

  async getRequest(requestId: string): Promise<RequestRecord | undefined> {
    return this.getItem<RequestRecord>(requestKey(requestId));
  }

  /** Requests, newest first, a page at a time. */
  async listRequests(limit: number, cursor?: string): Promise<{ items: RequestRecord[]; cursor?: string }> {
    return this.listIndex<RequestRecord>('REQUEST', limit, cursor);
  }

  /** Records progress of one step; `status` moves the request's overall status when given. */
  /**
   * Marks a step's first attempt running and returns the request as it now stands, in one conditional write
   * (no read first). Undefined when the step has been started before, or the request does not exist: the
   * caller then reads the request and records a further attempt.
   */
  async startFirstAttempt(
    requestId: string,
    step: StepName,
    status?: RequestRecord['status'],
  ): Promise<{ record: RequestRecord; started: StepRecord } | undefined> {
    const started: StepRecord = { status: 'running', startedAt: new Date().toISOString(), attempts: 1 };
    try {
      const { Attributes } = await this.db.send(
        stepUpdate(this.tableName, requestId, step, started, status, {
          condition: 'attribute_exists(pk) AND attribute_not_exists(steps.#step)',
          returnNew: true,
        }),
      );
      return Attributes ? { record: stripKeys<RequestRecord>(Attributes), started } : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw classifyAwsError(error);
    }
  }

  async updateStep(
    requestId: string,
    step: StepName,
    record: StepRecord,
    status?: RequestRecord['status'],
  ): Promise<void> {
    await aws(
      this.db.send(
        stepUpdate(this.tableName, requestId, step, record, status, { condition: 'attribute_exists(pk)' }),
      ),
    );
  }

  /**
   * Remembers the CreateAccount request id, once: a second, different id for the same request is refused, so a
   * retried step can never record a second account creation.
   */
  async setCreateAccountRequestId(requestId: string, createAccountRequestId: string): Promise<void> {
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(requestId),
          UpdateExpression: 'SET createAccountRequestId = :car, updatedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(createAccountRequestId) OR createAccountRequestId = :car)',
          ExpressionAttributeValues: { ':car': createAccountRequestId, ':now': new Date().toISOString() },
        }),
      ),
    );
  }

  async update(
    requestId: string,
    fields: Partial<Pick<RequestRecord, 'accountId' | 'status' | 'failure' | 'notification'>>,
  ): Promise<void> {
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const names = Object.fromEntries(entries.map(([key], i) => [`#f${i}`, key]));
    const values = Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value]));
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(requestId),
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}, updatedAt = :now`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':now': new Date().toISOString() },
        }),
      ),
    );
  }

  async putAccount(account: AccountDesiredState): Promise<void> {
    await aws(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...accountKey(account.accountId),
            ...account,
            gsi1pk: 'ACCOUNT',
            gsi1sk: `${account.createdAt}#${account.accountId}`,
          },
        }),
      ),
    );
  }

  async getAccount(accountId: string): Promise<AccountDesiredState | undefined> {
    return this.getItem<AccountDesiredState>(accountKey(accountId));
  }

  async listAccounts(
    limit: number,
    cursor?: string,
  ): Promise<{ items: AccountDesiredState[]; cursor?: string }> {
    return this.listIndex<AccountDesiredState>('ACCOUNT', limit, cursor);
  }

  /** Marks a vended account closed or removed from the organization (only an account the registry holds). */
  async setAccountStatus(accountId: string, status: AccountDesiredState['status']): Promise<void> {
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: accountKey(accountId),
          UpdateExpression: 'SET #status = :status, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':now': new Date().toISOString() },
        }),
      ),
    );
  }

  /** Records the baseline version now in place in a vended account (the sweep applied the current baseline). */
  async setBaselineVersion(accountId: string, version: string): Promise<void> {
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: accountKey(accountId),
          UpdateExpression: 'SET baselineVersion = :version, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':version': version, ':now': new Date().toISOString() },
        }),
      ),
    );
  }

  /** An account's drift: its aspects as last checked and its recent history; undefined before any check. */
  async getDrift(accountId: string): Promise<DriftState | undefined> {
    return this.getItem<DriftState>(driftKey(accountId));
  }

  /**
   * Records what a drift check found: the aspects it checked (as they are now) and, when given, one history entry
   * (the newest first).
   * An entry whose id the history already holds is not added again (`recorded: false`), so an event acted on twice
   * cannot be recorded twice. Optimistic locking (a version number, conditional writes) keeps concurrent writers
   * from losing each other's entries. The history keeps the newest `DRIFT_HISTORY_MAX` entries.
   */
  async recordDrift(
    accountId: string,
    change: {
      aspects?: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>>;
      record?: DriftRecord;
      /** Changes an entry already recorded (its announcement, once Slack answered). */
      patch?: { id: string; fields: Partial<Pick<DriftRecord, 'announcement'>> };
    },
  ): Promise<{ recorded: boolean }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.getDrift(accountId);
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
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...driftKey(accountId), ...next },
            ConditionExpression: current ? 'version = :version' : 'attribute_not_exists(pk)',
            ...(current ? { ExpressionAttributeValues: { ':version': current.version } } : {}),
          }),
        );
        return { recorded };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
      }
    }
    throw new ConcurrentModificationError(`the drift record of account ${accountId} keeps changing`);
  }

  /**
   * Claims a drift event for acting on it, with a conditional write, so that of several deliveries of one event
   * (EventBridge delivers at least once) exactly one acts. A claim whose holder did not finish within `leaseMs`
   * (it crashed) may be taken over; a finished one is remembered for `DRIFT_EVENT_TTL_SECONDS`.
   */
  async claimDriftEvent(eventId: string, leaseMs: number): Promise<DriftEventClaim> {
    const now = Date.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...driftEventKey(eventId),
            state: 'acting',
            leaseUntil: now + leaseMs,
            expiresAt: Math.floor(now / 1000) + DRIFT_EVENT_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :acting AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':acting': 'acting', ':now': now },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw classifyAwsError(error);
    }
    const { Item } = await aws(
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: driftEventKey(eventId), ConsistentRead: true }),
      ),
    );
    return Item?.state === 'done' ? 'done' : 'busy';
  }

  /** Marks a claimed event acted on: later deliveries of it are duplicates. */
  async finishDriftEvent(eventId: string): Promise<void> {
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: driftEventKey(eventId),
          UpdateExpression: 'SET #state = :done REMOVE leaseUntil',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':done': 'done' },
        }),
      ),
    );
  }

  /** Gives a claimed event up (acting on it failed and will be retried): the next delivery may act on it. */
  async releaseDriftEvent(eventId: string): Promise<void> {
    try {
      await aws(
        this.db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: driftEventKey(eventId),
            ConditionExpression: '#state = :acting',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':acting': 'acting' },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Takes the account's drift lock for `leaseMs`, unless another holder has it: checking an account and putting it
   * back happen under it, so two deliveries, two events or an event and the sweep never fix the same thing twice.
   * A lock whose holder did not release it (it crashed) is free once its lease has passed.
   */
  async acquireDriftLock(accountId: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...driftLockKey(accountId),
            owner,
            leaseUntil: now + leaseMs,
            expiresAt: Math.floor((now + leaseMs) / 1000) + 24 * 60 * 60,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw classifyAwsError(error);
    }
  }

  /** Releases the account's drift lock, if this owner still holds it. */
  async releaseDriftLock(accountId: string, owner: string): Promise<void> {
    try {
      await aws(
        this.db.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: driftLockKey(accountId),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async listIndex<T>(
    partition: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: T[]; cursor?: string }> {
    const result = await aws(
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': partition },
          ScanIndexForward: false,
          Limit: limit,
          ...(cursor
            ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) }
            : {}),
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => stripKeys<T>(item));
    return result.LastEvaluatedKey
      ? { items, cursor: Buffer.from(JSON.stringify(result.LastEvaluatedKey)).toString('base64url') }
      : { items };
  }
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}

/** The table definition, shared by the local runtime (dynalite) and the CDK stack. */
export const REGISTRY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  index: { name: LIST_INDEX, partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Items with this attribute (epoch seconds) expire: idempotency keys. */
  timeToLiveAttribute: 'expiresAt',
} as const;
