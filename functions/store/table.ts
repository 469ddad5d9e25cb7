import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { aws } from '../shared/errors.ts';
import { type ConditionalResult, conditionalWrite } from './conditional.ts';

/** The index that lists requests and accounts in order. */
export const LIST_INDEX = 'gsi1';

/** The table definition, shared by the local runtime (dynalite) and the CDK stack. */
export const REGISTRY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  index: { name: LIST_INDEX, partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Items with this attribute (epoch seconds) expire: idempotency keys, drift event claims and locks. */
  timeToLiveAttribute: 'expiresAt',
} as const;

/** An item's primary key in the registry table. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** A page of a listing, newest first; `cursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

/**
 * The registry's one DynamoDB table (`pk`, `sk`, and the `gsi1` index on `gsi1pk`, `gsi1sk`), as the stores use it:
 * consistent reads of single items, listings of the index, conditional writes.
 */
export class RegistryTable {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** One item, read consistently, without its keys; undefined when there is none. */
  async get<T>(key: ItemKey): Promise<T | undefined> {
    const item = await this.getRaw(key);
    return item ? stripKeys<T>(item) : undefined;
  }

  /** One item as stored, keys included, read consistently. */
  async getRaw(key: ItemKey): Promise<Record<string, unknown> | undefined> {
    const { Item } = await aws(
      this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
    );
    return Item;
  }

  /** Sends a conditional write: see `conditionalWrite`. */
  write(command: Parameters<typeof conditionalWrite>[1]): Promise<ConditionalResult> {
    return conditionalWrite(this.db, command);
  }

  /** The items of one partition of the list index, newest first, a page at a time. */
  async list<T>(partition: string, limit: number, cursor?: string): Promise<Page<T>> {
    const result = await aws(
      this.db.send(
        new QueryCommand({
          TableName: this.name,
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

/** An item without the table's key attributes. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}
