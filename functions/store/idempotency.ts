import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../shared/errors.ts';
import type { ItemKey, RegistryTable } from './table.ts';

/** How long an idempotency key is remembered (DynamoDB's TTL deletes it later; reads ignore it from then on). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** Where a caller's key lives: keys are per principal, so two callers' equal keys never meet. */
const keyOf = (principal: string, key: string): ItemKey => ({
  pk: `IDEMPOTENCY#${principal}#${key}`,
  sk: 'IDEMPOTENCY',
});

/** How many times a claim is tried when the key expires or is released between the write and the read. */
const CLAIM_TRIES = 3;

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

/** The API's idempotency keys: one request per caller and key for `IDEMPOTENCY_TTL_SECONDS`. */
export class IdempotencyStore {
  constructor(readonly table: RegistryTable) {}

  /** The request an idempotency key stands for, unless it is unknown or expired. */
  async get(principal: string, key: string): Promise<IdempotencyRecord | undefined> {
    const record = await this.table.get<IdempotencyRecord>(keyOf(principal, key));
    if (!record || Number(record.expiresAt) <= Math.floor(Date.now() / 1000)) return undefined;
    return record;
  }

  /**
   * Claims an idempotency key for a new request, with a conditional write so that of many concurrent claims
   * exactly one wins. Returns the record that holds the key: this one when `claimed`, else the earlier one.
   */
  async claim(
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
    // Not a back-off: each round either wins the key or reads who holds it; only a key that expires or is
    // released between the two is tried again, at once.
    for (let round = 0; round < CLAIM_TRIES; round++) {
      const written = await this.table.write(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keyOf(principal, key), ...record },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      if (written.ok) return { claimed: true, record };
      const existing = await this.get(principal, key);
      if (existing) return { claimed: false, record: existing };
    }
    throw new ConcurrentModificationError(`idempotency key ${key} keeps changing hands`);
  }

  /** Frees an idempotency key (only if it still stands for `requestId`), when its request was refused. */
  async release(principal: string, key: string, requestId: string): Promise<void> {
    await this.table.write(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keyOf(principal, key),
        ConditionExpression: 'requestId = :id',
        ExpressionAttributeValues: { ':id': requestId },
      }),
    );
  }
}
