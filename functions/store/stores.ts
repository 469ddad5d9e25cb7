import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AccountStore } from './accounts.ts';
import { DriftStore } from './drift.ts';
import { IdempotencyStore } from './idempotency.ts';
import { OutboxStore } from './outbox.ts';
import { RequestStore } from './requests.ts';
import { SlackCallbackStore } from './slack-callbacks.ts';
import { SweepStore } from './sweep.ts';
import { RegistryTable } from './table.ts';

/** The registry's stores, one per kind of record, all in one table. */
export interface Stores {
  requests: RequestStore;
  idempotency: IdempotencyStore;
  accounts: AccountStore;
  drift: DriftStore;
  outbox: OutboxStore;
  sweep: SweepStore;
  /** Slack callbacks accepted lately, to refuse one sent again. */
  slackCallbacks: SlackCallbackStore;
}

/** The stores over the registry table `tableName`. */
export function createStores(db: DynamoDBDocumentClient, tableName: string): Stores {
  const table = new RegistryTable(db, tableName);
  return {
    requests: new RequestStore(table),
    idempotency: new IdempotencyStore(table),
    accounts: new AccountStore(table),
    drift: new DriftStore(table),
    outbox: new OutboxStore(table),
    sweep: new SweepStore(table),
    slackCallbacks: new SlackCallbackStore(table),
  };
}
