import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { aws, classifyAwsError } from './errors.ts';
import type { AccountDesiredState, RequestRecord, StepName, StepRecord } from './model.ts';

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

const requestKey = (id: string) => ({ pk: `REQUEST#${id}`, sk: 'REQUEST' });
const accountKey = (id: string) => ({ pk: `ACCOUNT#${id}`, sk: 'ACCOUNT' });
const emailKey = (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'RESERVATION' });
const nameKey = (name: string) => ({ pk: `NAME#${name.toLowerCase()}`, sk: 'RESERVATION' });

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
   * Stores a new request and reserves its account name and email, case-insensitively, in one transaction:
   * two requests for the same email cannot both get past this point.
   */
  async createRequest(record: RequestRecord): Promise<void> {
    const { request } = record;
    const reservation = { requestId: record.requestId, reservedAt: record.createdAt };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...requestKey(record.requestId), ...record, gsi1pk: 'REQUEST', gsi1sk: `${record.createdAt}#${record.requestId}` },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...emailKey(request.email), ...reservation, email: request.email },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...nameKey(request.accountName), ...reservation, accountName: request.accountName },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        const failed = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
        if (failed >= 0) {
          const field = (['requestId', 'email', 'name'] as const)[failed] ?? 'requestId';
          const holder = field === 'requestId' ? undefined : await this.reservationHolder(field, field === 'email' ? request.email : request.accountName);
          throw new ReservationConflictError(field, holder);
        }
      }
      throw classifyAwsError(error);
    }
  }

  /** Which request holds a name or an email, if any. */
  async reservationHolder(field: 'name' | 'email', value: string): Promise<string | undefined> {
    const key = field === 'email' ? emailKey(value) : nameKey(value);
    const { Item } = await aws(this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return Item?.requestId as string | undefined;
  }

  /** Frees a request's reservations (only those it holds), when it ended without creating an account. */
  async releaseReservations(record: RequestRecord): Promise<void> {
    for (const key of [emailKey(record.request.email), nameKey(record.request.accountName)]) {
      try {
        await aws(
          this.db.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: key,
              ConditionExpression: 'requestId = :id',
              ExpressionAttributeValues: { ':id': record.requestId },
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  async getRequest(requestId: string): Promise<RequestRecord | undefined> {
    const { Item } = await aws(this.db.send(new GetCommand({ TableName: this.tableName, Key: requestKey(requestId), ConsistentRead: true })));
    return Item ? stripKeys<RequestRecord>(Item) : undefined;
  }

  /** Requests, newest first, a page at a time. */
  async listRequests(limit: number, cursor?: string): Promise<{ items: RequestRecord[]; cursor?: string }> {
    return this.listIndex<RequestRecord>('REQUEST', limit, cursor);
  }

  /** Records progress of one step; `status` moves the request's overall status when given. */
  async updateStep(requestId: string, step: StepName, record: StepRecord, status?: RequestRecord['status']): Promise<void> {
    const now = new Date().toISOString();
    await aws(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(requestId),
          UpdateExpression: `SET steps.#step = :record, updatedAt = :now${status ? ', #status = :status' : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#step': step, ...(status ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: { ':record': record, ':now': now, ...(status ? { ':status': status } : {}) },
        }),
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
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(createAccountRequestId) OR createAccountRequestId = :car)',
          ExpressionAttributeValues: { ':car': createAccountRequestId, ':now': new Date().toISOString() },
        }),
      ),
    );
  }

  async update(requestId: string, fields: Partial<Pick<RequestRecord, 'accountId' | 'status' | 'failure' | 'notification'>>): Promise<void> {
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
          Item: { ...accountKey(account.accountId), ...account, gsi1pk: 'ACCOUNT', gsi1sk: `${account.createdAt}#${account.accountId}` },
        }),
      ),
    );
  }

  async getAccount(accountId: string): Promise<AccountDesiredState | undefined> {
    const { Item } = await aws(this.db.send(new GetCommand({ TableName: this.tableName, Key: accountKey(accountId), ConsistentRead: true })));
    return Item ? stripKeys<AccountDesiredState>(Item) : undefined;
  }

  async listAccounts(limit: number, cursor?: string): Promise<{ items: AccountDesiredState[]; cursor?: string }> {
    return this.listIndex<AccountDesiredState>('ACCOUNT', limit, cursor);
  }

  private async listIndex<T>(partition: string, limit: number, cursor?: string): Promise<{ items: T[]; cursor?: string }> {
    const result = await aws(
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': partition },
          ScanIndexForward: false,
          Limit: limit,
          ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) } : {}),
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
} as const;
