import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { aws, RegistryConditionFailedError } from '../shared/errors.ts';
import type {
  ApprovalDecision,
  RequestFailure,
  RequestRecord,
  RequestStatus,
  StepName,
  StepRecord,
} from '../shared/model.ts';
import { type ItemKey, LIST_INDEX, type Page, type RegistryTable, stripKeys } from './table.ts';

/** A reservation whose request was never written is stale after this long (a crash between the two writes). */
const STALE_RESERVATION_MS = 60_000;

/** Where requests and their reservations live: a reserved name or email is case-insensitive. */
const keys = {
  request: (id: string): ItemKey => ({ pk: `REQUEST#${id}`, sk: 'REQUEST' }),
  email: (email: string): ItemKey => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'RESERVATION' }),
  name: (name: string): ItemKey => ({ pk: `NAME#${name.toLowerCase()}`, sk: 'RESERVATION' }),
};
/** The list index's partition of requests; its sort key is `<createdAt>#<requestId>`. */
const LIST_PARTITION = 'REQUEST';

/**
 * What storing a new request did: stored, or nothing stored because the name or email is held by another request
 * (`heldBy`, when known) or a request with this id exists already.
 */
export type CreateResult =
  | { readonly created: true }
  | { readonly created: false; readonly taken: 'name' | 'email'; readonly heldBy?: string }
  | { readonly created: false; readonly taken: 'requestId' };

/**
 * The lease on calling CreateAccount for a request: who holds it (one attempt of the create-account step) and
 * until when, in epoch milliseconds.
 */
export interface CreationLease {
  owner: string;
  expiresAt: number;
}

/** A request as the lease sees it: the lease, and whether its holder went as far as calling CreateAccount. */
export type LeasedRecord = RequestRecord & { creationLease?: CreationLease; creationCalled?: boolean };

/** The fields of a request that steps set directly. */
export type RequestFields = Partial<Pick<RequestRecord, 'accountId' | 'status' | 'failure' | 'notification'>>;

/**
 * Requests and their progress, with the reservations of their account names and emails, which keep two requests
 * from vending accounts with the same name or email.
 */
export class RequestStore {
  constructor(readonly table: RegistryTable) {}

  /**
   * Stores a new request and reserves its account name and email, case-insensitively, with conditional writes:
   * two requests for the same email cannot both get past this point. The reservations are written first and the
   * request last; a conflict releases what this request took. A reservation whose request was never written
   * (a crash in between) is stale after `STALE_RESERVATION_MS` and may be taken over. A conflict is a result,
   * not an error: the caller turns it into its refusal.
   */
  async create(record: RequestRecord): Promise<CreateResult> {
    const { request } = record;
    const taken: ItemKey[] = [];
    const reservations = [
      { field: 'email', key: keys.email(request.email), extra: { email: request.email } },
      { field: 'name', key: keys.name(request.accountName), extra: { accountName: request.accountName } },
    ] as const;
    for (const { field, key, extra } of reservations) {
      const reserved = await this.reserve(key, record, extra);
      if (!reserved.ok) {
        for (const held of taken) await this.release(held, record.requestId);
        return { created: false, taken: field, ...(reserved.heldBy ? { heldBy: reserved.heldBy } : {}) };
      }
      taken.push(key);
    }
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keys.request(record.requestId),
          ...record,
          gsi1pk: LIST_PARTITION,
          gsi1sk: `${record.createdAt}#${record.requestId}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    // A request with this id already exists: the reservations written under its id are its own (a retried
    // submission of the same request), so they stay.
    return written.ok ? { created: true } : { created: false, taken: 'requestId' };
  }

  /** Reserves a name or email for a request; when another request holds it, says which (if it still can). */
  private async reserve(
    key: ItemKey,
    record: RequestRecord,
    extra: Record<string, string>,
  ): Promise<{ ok: true } | { ok: false; heldBy?: string }> {
    const item = { ...key, ...extra, requestId: record.requestId, reservedAt: new Date().toISOString() };
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR requestId = :id',
        ExpressionAttributeValues: { ':id': record.requestId },
      }),
    );
    if (written.ok) return { ok: true };
    const held = await this.table.getRaw(key);
    const holder = held?.requestId as string | undefined;
    const reservedAt = Date.parse(String(held?.reservedAt ?? ''));
    const stale =
      holder !== undefined && Date.now() - reservedAt > STALE_RESERVATION_MS && !(await this.get(holder));
    if (!stale) return holder ? { ok: false, heldBy: holder } : { ok: false };
    const takenOver = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: item,
        ConditionExpression: 'requestId = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }),
    );
    return takenOver.ok ? { ok: true } : { ok: false };
  }

  /** Deletes a reservation if `requestId` still holds it. */
  private async release(key: ItemKey, requestId: string): Promise<void> {
    await this.table.write(
      new DeleteCommand({
        TableName: this.table.name,
        Key: key,
        ConditionExpression: 'requestId = :id',
        ExpressionAttributeValues: { ':id': requestId },
      }),
    );
  }

  /** Which request holds a name or an email, if any. */
  async reservationHolder(field: 'name' | 'email', value: string): Promise<string | undefined> {
    const held = await this.table.getRaw(field === 'email' ? keys.email(value) : keys.name(value));
    return held?.requestId as string | undefined;
  }

  /** Frees a request's reservations (only those it holds), when it ended without creating an account. */
  async releaseReservations(record: RequestRecord): Promise<void> {
    await this.release(keys.email(record.request.email), record.requestId);
    await this.release(keys.name(record.request.accountName), record.requestId);
  }

  /** A request, read consistently; undefined when there is none. */
  get(requestId: string): Promise<RequestRecord | undefined> {
    return this.table.get<RequestRecord>(keys.request(requestId));
  }

  /** Requests, newest first, a page at a time. */
  list(limit: number, cursor?: string): Promise<Page<RequestRecord>> {
    return this.table.list<RequestRecord>(LIST_PARTITION, limit, cursor);
  }

  /**
   * The requests still `pending` that were created in [`from`, `to`) (ISO times), oldest first (see
   * `listByStatus`).
   */
  listPending(from: string, to: string): Promise<RequestRecord[]> {
    return this.listByStatus(['pending'], from, to);
  }

  /**
   * The requests in one of `statuses` that were created in [`from`, `to`) (ISO times), oldest first: one query of
   * the list index by its sort key (`<createdAt>#<requestId>`), filtered on the status, so only that window is read.
   */
  async listByStatus(statuses: readonly RequestStatus[], from: string, to: string): Promise<RequestRecord[]> {
    const found: RequestRecord[] = [];
    const wanted = Object.fromEntries(statuses.map((status, i) => [`:s${i}`, status]));
    let start: Record<string, unknown> | undefined;
    do {
      const page = await aws(
        this.table.db.send(
          new QueryCommand({
            TableName: this.table.name,
            IndexName: LIST_INDEX,
            KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
            FilterExpression: `#status IN (${Object.keys(wanted).join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':p': LIST_PARTITION, ':from': from, ':to': to, ...wanted },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) found.push(stripKeys<RequestRecord>(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * Decides a request awaiting approval, in one conditional write: moves it to `status` (`pending` when approved,
   * `denied`, `expired`) and records the decision, only while it is still `awaiting-approval` and undecided. Of
   * two decisions at once exactly one is written. Returns the request as it now stands, or undefined when it was
   * not awaiting approval (decided already, or no such request): nothing was written then.
   */
  async decide(
    requestId: string,
    status: Extract<RequestStatus, 'pending' | 'denied' | 'expired'>,
    decision: ApprovalDecision,
  ): Promise<RequestRecord | undefined> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: 'SET #status = :to, approval.decision = :decision, updatedAt = :now',
        ConditionExpression:
          '#status = :awaiting AND attribute_exists(approval) AND attribute_not_exists(approval.decision)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': status,
          ':awaiting': 'awaiting-approval',
          ':decision': decision,
          ':now': new Date().toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return written.ok && written.attributes ? stripKeys<RequestRecord>(written.attributes) : undefined;
  }

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
    const written = await this.table.write(
      this.stepUpdate(requestId, step, started, status, {
        condition: 'attribute_exists(pk) AND attribute_not_exists(steps.#step)',
        returnNew: true,
      }),
    );
    return written.ok && written.attributes
      ? { record: stripKeys<RequestRecord>(written.attributes), started }
      : undefined;
  }

  /** Records progress of one step; `status` moves the request's overall status when given. */
  async updateStep(
    requestId: string,
    step: StepName,
    record: StepRecord,
    status?: RequestRecord['status'],
  ): Promise<void> {
    const written = await this.table.write(
      this.stepUpdate(requestId, step, record, status, { condition: 'attribute_exists(pk)' }),
    );
    if (!written.ok) throw missing(requestId);
  }

  /**
   * Remembers the CreateAccount request id, once: a second, different id for the same request is refused, so a
   * retried step can never record a second account creation.
   */
  async setCreateAccountRequestId(requestId: string, createAccountRequestId: string): Promise<void> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: 'SET createAccountRequestId = :car, updatedAt = :now REMOVE creationCalled',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(createAccountRequestId) OR createAccountRequestId = :car)',
        ExpressionAttributeValues: { ':car': createAccountRequestId, ':now': new Date().toISOString() },
      }),
    );
    if (!written.ok) {
      throw new RegistryConditionFailedError(
        `request ${requestId} is not in the registry or records another CreateAccount request than ${createAccountRequestId}`,
      );
    }
  }

  /**
   * Takes the lease on calling CreateAccount for a request, with a conditional write: when nobody holds it, or
   * its last holder's lease has expired (at `now`). Returns the request as it stood before the write (its
   * `creationLease` still set means the last holder ended without releasing it, and `creationCalled` that it had
   * gone as far as calling CreateAccount), or undefined when another attempt holds a live lease.
   */
  async takeCreationLease(
    requestId: string,
    lease: CreationLease,
    now: number,
  ): Promise<{ previous: LeasedRecord } | undefined> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: 'SET creationLease = :lease',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(creationLease) OR creationLease.expiresAt <= :now)',
        ExpressionAttributeValues: { ':lease': lease, ':now': now },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!written.ok) return undefined;
    return { previous: stripKeys<LeasedRecord>(written.attributes ?? {}) };
  }

  /**
   * Records, while `owner` still holds the lease, that it is about to call CreateAccount: until the CreateAccount
   * request id is recorded, a later holder must look for that creation before calling again. False when the lease
   * is no longer `owner`'s (it expired and another attempt took it): the caller must not call CreateAccount.
   */
  async markCreationCalled(requestId: string, owner: string): Promise<boolean> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: 'SET creationCalled = :yes',
        ConditionExpression: 'creationLease.#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':yes': true, ':owner': owner },
      }),
    );
    return written.ok;
  }

  /**
   * Gives the lease back, if `owner` still holds it. `nothingCreated` says that CreateAccount certainly created
   * nothing (it was refused, or never called), so the next holder need not look for an earlier creation.
   */
  async releaseCreationLease(requestId: string, owner: string, nothingCreated: boolean): Promise<void> {
    await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: `REMOVE creationLease${nothingCreated ? ', creationCalled' : ''}`,
        ConditionExpression: 'creationLease.#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }

  /** Sets fields of a request; fields given as undefined are left as they are. */
  async update(requestId: string, fields: RequestFields): Promise<void> {
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const names = Object.fromEntries(entries.map(([key], i) => [`#f${i}`, key]));
    const values = Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value]));
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}, updatedAt = :now`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':now': new Date().toISOString() },
      }),
    );
    if (!written.ok) throw missing(requestId);
  }

  /**
   * Marks a request failed with its failure, only while it is still `pending` (no step has moved it on): true when
   * this call failed it, false when it had moved on or was failed already.
   */
  async failPending(requestId: string, failure: RequestFailure): Promise<boolean> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.request(requestId),
        UpdateExpression: 'SET #status = :failed, failure = :failure, updatedAt = :now',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'failed',
          ':pending': 'pending',
          ':failure': failure,
          ':now': new Date().toISOString(),
        },
      }),
    );
    return written.ok;
  }

  /** Sets one step's record of a request (and the request's status, when given) under a condition. */
  private stepUpdate(
    requestId: string,
    step: StepName,
    record: StepRecord,
    status: RequestRecord['status'] | undefined,
    options: { condition: string; returnNew?: boolean },
  ): UpdateCommand {
    return new UpdateCommand({
      TableName: this.table.name,
      Key: keys.request(requestId),
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
}

const missing = (requestId: string) =>
  new RegistryConditionFailedError(`request ${requestId} is not in the registry`);
